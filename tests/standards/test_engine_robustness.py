"""The whole engine (every shipped detector, strict) on hostile text: it never crashes and the
same input always gives the same output."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civility.standards.detectors import registry
from civility.standards.engine import Engine, InMemoryContext
from civility.standards.rules import SLUGS
from civility.standards.types import Article, Comment, Decision, RecentComment, TextTooLong

ENGINE = Engine(strict=True)  # strict: a detector bug fails the test instead of being absorbed
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

ZALGO = "Z̷̡̛̖̖͉̗̲̞̠̹̆̈́͊̅̿͐͗̈̕ḁ̸̧̛͔͇̯̜̬̺̓͐̔̉̑͒̒͌l̵̡̨̛̰̝͍̹̙͉̮̈́̂̂̓̄͗̈́͘g̶̨̢̡̠̻͕̜̮̓̓̈́́̑̐̔̕͝o̶̧̮̫̲̭̬̰̺̦̿͗̈́̄͐̔̽̎͠"
HOSTILE = [
    "",
    " ",
    "\n\t\r \u3000\u00a0",
    ZALGO,
    "\u202egnp.exe\u202c look at this",
    "\u202b\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627\u202c",
    "🙂🙂🙂🔥🔥💩👍🏽👨‍👩‍👧‍👦",
    "\u200b\u200c\u200d\u2060\ufeff",
    "\x00\x01\x02\x7f",
    "\ud800 lone surrogate \udfff",
    "a" * 10_000,
    "A" * 10_000,
    ". " * 5_000,
    "http://" + "a" * 5_000 + ".com",
    "@" * 300 + "." * 300,
    "1234 5678 9012 3456 " * 200,
    "\U0001d571\U0001d59a\U0001d588\U0001d590 \U0001d59e\U0001d594\U0001d59a",
    "\uff46\uff55\uff43\uff4b\u3000\uff59\uff4f\uff55",
    "\u0301" * 500,
    "\U0010ffff\U000e0001\ue000",
]


def assert_valid(verdict_dict: dict[str, object]) -> None:
    assert verdict_dict["decision"] in {d.value for d in Decision}
    scores = verdict_dict["scores"]
    assert isinstance(scores, dict) and set(scores) == set(SLUGS)
    assert all(0.0 <= value <= 1.0 for value in scores.values())
    json.dumps(verdict_dict, ensure_ascii=False).encode("utf-8")  # always serialisable


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_judged_the_same_way_twice(text: str) -> None:
    comment = Comment(text, author_id="a", created_at=T0, article=Article(title="Roads"), id="c")
    first = ENGINE.check(comment).to_dict()
    assert_valid(first)
    assert ENGINE.check(comment).to_dict() == first


def test_hostile_text_in_one_batch_with_a_context() -> None:
    context = InMemoryContext(
        [RecentComment(f"r{i}", "a", text, T0) for i, text in enumerate(HOSTILE)]
    )
    comments = [
        Comment(text, author_id="a", created_at=T0, id=f"c{i}") for i, text in enumerate(HOSTILE)
    ]
    for verdict in ENGINE.check_many(comments, context):
        assert_valid(verdict.to_dict())


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    text=st.text(max_size=400)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=60).map(lambda s: s * 5),
    parent=st.text(max_size=50),
    title=st.text(max_size=50),
)
def test_arbitrary_unicode_never_crashes_and_is_deterministic(
    text: str, parent: str, title: str
) -> None:
    comment = Comment(
        text, parent_text=parent, article=Article(title=title), created_at=T0, author_id="x"
    )
    first = ENGINE.check(comment).to_dict()
    assert_valid(first)
    assert ENGINE.check(comment).to_dict() == first


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=1, max_value=5_000))
def test_over_max_length_is_always_a_clear_error(extra: int) -> None:
    with pytest.raises(TextTooLong, match="at most 10,000"):
        ENGINE.check(Comment("x" * (10_000 + extra)))


def _has(path_suffix: str) -> bool:
    return any(p.endswith(path_suffix) for p in registry.DETECTOR_PATHS) and not any(
        p.endswith(path_suffix) for p in registry.missing_families()
    )


@pytest.mark.skipif(not _has("ProfanityDetector"), reason="profanity family not written yet")
@pytest.mark.parametrize(
    "text",
    [
        "you are a f\u200bu\u200bc\u200bk\u200bing idiot",  # zero-width inside
        "what a pile of s\u200dh\u2060i\ufefft",
        "\u0455\u04bb\u0456t",  # Cyrillic homoglyphs: "shit"
        "fu\u0441k this",  # Cyrillic es
        "f.u.c.k off",
    ],
)
def test_disguised_profanity_is_still_caught(text: str) -> None:
    verdict = ENGINE.check(Comment(text))
    assert verdict.results["profanity"].fired, verdict.scores["profanity"]
    assert any(e.slug == "profanity" and e.start is not None for e in verdict.evidence)
