"""``Engine.check_stream``: the encoder on the next chunk while the one before is finished.

The pipelining must not change a verdict: each chunk reads only the contexts it is given, and
a stream's context shows each comment exactly the ``max_comments`` comments before it, however
far ahead the stream has been read (``InMemoryContext(ahead=...)``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards import embedding
from civility.standards.cli.moderate import Stream
from civility.standards.engine import Engine, InMemoryContext
from civility.standards.types import (
    Article,
    Comment,
    Context,
    RecentComment,
    TextTooLong,
    Verdict,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BRIDGE = Article(
    "Council approves the new bridge",
    "The vote passed after a long debate about its cost.",
    "The council voted 7-2 for the bridge. Work starts in spring and ends in two years.",
    key="bridge",
)
TEXTS = [
    "Finally some progress on the bridge, it has taken far too long.",
    "The cost estimate looks low to me; these projects always run over budget.",
    "You are an idiot and everyone on this council is a crook.",
    "Earn $500 a day from home!!! visit http://cash-now.example.biz/signup",
    "Join the protest at city hall at 6pm, bring everyone you know!",
    "Join the protest at city hall at 6pm, bring everyone you know!",
    "Join the protest at city hall at 6pm, bring everyone you know!",
    "Join the protest at city hall at 6pm, bring everyone you know!",
    "WHY DOES NOBODY LISTEN TO THE PEOPLE WHO LIVE NEXT TO THE RIVER",
    "asdfgh qwerty zxcvb",
    "asdfgh qwerty zxcvb",
    "Ich finde die Brücke eine gute Idee für die Stadt.",
    "My neighbour said the same thing about the last bridge and was wrong.",
    "Call me on 0161 496 0000 or mail jane.doe@example.com about the petition.",
    "What a lovely recipe for lemon cake, I will bake it this weekend.",
    "I will find where you live and make you pay for this vote.",
    "Best place to score molly is the back bar, ask for Dave.",
    "Thanks for the clear report.",
]


def stream_comments(count: int) -> list[Comment]:
    comments = []
    for i in range(count):
        text = TEXTS[i % len(TEXTS)]
        author = "flooder" if "asdfgh" in text else f"reader{i % 7}"
        comments.append(
            Comment(
                text,
                id=f"c{i}",
                author_id=author,
                created_at=T0 + timedelta(seconds=20 * i),
                article=BRIDGE,
                parent_text=TEXTS[0] if i % 5 == 4 else "",
            )
        )
    return comments


def placed(
    comments: list[Comment], sizes: Sequence[int], context: InMemoryContext
) -> Iterator[tuple[list[Comment], list[Context]]]:
    """The stream cut into batches of ``sizes``, each comment added to ``context`` when its
    batch is read, with its view of what came before it."""
    start = 0
    for size in sizes:
        batch = comments[start : start + size]
        start += size
        yield batch, [context.add_comment(comment) for comment in batch]


def as_dicts(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """Everything a verdict says, its scores unrounded."""
    return [{**v.to_dict(), "exact_scores": dict(v.scores)} for v in verdicts]


@pytest.mark.parametrize("cascade", [True, False])
def test_stream_gives_what_check_many_gives_chunk_by_chunk(
    cascade: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = [5, 0, 9, 3, 13, 6]
    comments = stream_comments(sum(sizes))
    engine = Engine(strict=True, cascade=cascade, batch_size=4)

    # The reference: no pipelining (a call of one chunk runs it to the end before returning).
    embedding.full_model()._cache.clear()
    reference: list[list[dict[str, Any]]] = []
    for batch, views in placed(comments, sizes, InMemoryContext()):
        answers: list[Verdict] = []
        for start in range(0, len(batch), engine.batch_size):
            chunk = slice(start, start + engine.batch_size)
            answers += engine.check_many(batch[chunk], contexts=views[chunk])
        reference.append(as_dicts(answers))

    embedding.full_model()._cache.clear()
    order: list[str] = []
    first_half, second_half = engine._start, engine._finish

    def logged_start(*args: Any) -> Any:
        order.append("start")
        return first_half(*args)

    def logged_finish(chunk: Any) -> list[Verdict]:
        order.append("finish")
        return second_half(chunk)

    monkeypatch.setattr(engine, "_start", logged_start)
    monkeypatch.setattr(engine, "_finish", logged_finish)
    pipelined = [
        as_dicts(answers)
        for answers in engine.check_stream(placed(comments, sizes, InMemoryContext()))
    ]
    # Each chunk starts (its vectors on the encoder's pool) before the one before finishes.
    chunks = order.count("start")
    assert chunks == 13 and order == ["start"] + ["start", "finish"] * (chunks - 1) + ["finish"]
    assert [len(answers) for answers in pipelined] == sizes
    assert pipelined == reference
    fired = {slug for answers in reference for verdict in answers for slug in verdict["rules"]}
    assert {"insult", "flash_mob", "flood", "privacy"} <= fired  # the stream is not trivial


def test_check_many_over_several_chunks_equals_chunk_by_chunk() -> None:
    comments = stream_comments(11)
    engine = Engine(strict=True, batch_size=3)
    embedding.full_model()._cache.clear()
    together = as_dicts(engine.check_many(comments))
    embedding.full_model()._cache.clear()
    apart = [as_dicts(engine.check_many(comments[i : i + 3])) for i in range(0, 11, 3)]
    assert together == [verdict for chunk in apart for verdict in chunk]


def test_a_batch_over_max_length_raises_after_the_batches_before_it_are_answered() -> None:
    engine = Engine(strict=True, batch_size=2)
    good = stream_comments(3)
    bad = [Comment("fine"), Comment("x" * 10_001, id="too-long")]
    context = InMemoryContext()
    answered: list[list[Verdict]] = []
    with pytest.raises(TextTooLong, match="'too-long'"):
        for answers in engine.check_stream(
            [(good, [context] * 3), (bad, [context] * 2), (good, [context] * 3)]
        ):
            answered.append(answers)
    assert [len(answers) for answers in answered] == [3]


def test_an_empty_batch_gets_an_empty_answer_and_contexts_must_match() -> None:
    engine = Engine(strict=True)
    context = InMemoryContext()
    one = stream_comments(1)
    assert [len(a) for a in engine.check_stream([([], []), (one, [context]), ([], [])])] == [
        0, 1, 0,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="one entry per comment"):
        list(engine.check_stream([(one, [])]))


def reference_query(
    added: list[RecentComment],
    position: int,
    window: int,
    since: datetime,
    author: str | None,
    limit: int,
) -> list[str]:
    visible = added[max(0, position - window) : position]
    found = [
        c for c in visible if c.created_at >= since and (author is None or c.author_id == author)
    ]
    return [c.id for c in reversed(found)][:limit]


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=40),
    authors=st.lists(st.sampled_from("abc"), min_size=40, max_size=40),
    window=st.integers(min_value=1, max_value=12),
    ahead=st.integers(min_value=0, max_value=12),
    since_minute=st.integers(min_value=0, max_value=60),
    limit=st.integers(min_value=1, max_value=15),
)
def test_a_view_shows_the_window_before_it_however_far_ahead_the_stream_is_read(
    gaps: list[int],
    authors: list[str],
    window: int,
    ahead: int,
    since_minute: int,
    limit: int,
) -> None:
    context = InMemoryContext(max_comments=window, ahead=ahead)
    added: list[RecentComment] = []
    moment = T0
    for n, gap in enumerate(gaps):
        moment += timedelta(minutes=gap)
        added.append(RecentComment(f"c{n}", authors[n], "text", moment))
        context.add(added[-1])
    since = T0 + timedelta(minutes=since_minute)
    # Views of the comments added at most `ahead` before the end: what a pipelined stream
    # still has to judge. They see exactly the `window` comments before them.
    for position in range(max(0, len(added) - ahead), len(added) + 1):
        view = context.before(position) if position < len(added) else context
        for author in (None, "a"):
            got = [c.id for c in view.recent_comments(since=since, author_id=author, limit=limit)]
            assert got == reference_query(added, position, window, since, author, limit)


def test_cli_stream_sees_its_window_whatever_the_batch_size() -> None:
    """A window smaller than the stream: each comment sees the same comments before it for
    every batch size (before the pipelining, the window ended at the end of each batch)."""
    engine = Engine(strict=True)
    lines = [
        {
            "id": i,
            "text": f"short note {i}" if i % 2 else "Join us now at the square!",
            "author": "same" if i % 2 else f"a{i}",
            "created_at": f"2026-01-01T12:{i:02d}:00Z",
        }
        for i in range(24)
    ]
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)

    def run(batch_size: int) -> list[dict[str, Any]]:
        stream = Stream(engine, window=5, batch_size=batch_size)
        found = [
            {k: v for k, v in line.items() if k != "stage"}
            for outputs, _ in stream.run(io.BytesIO(data), batch_size=batch_size)
            for line in outputs
        ]
        return found

    reference = run(1)
    assert run(4) == reference
    assert run(10) == reference
    assert any(line["scores"]["flood"] > 0 for line in reference)


def test_a_comment_added_to_a_stream_needs_its_time() -> None:
    context = InMemoryContext()
    view = context.add_comment(stream_comments(1)[0])
    assert view.recent_comments(since=T0) == []
    assert len(context) == 1
    with pytest.raises(ValueError, match="created_at"):
        context.add_comment(Comment("no time"))
