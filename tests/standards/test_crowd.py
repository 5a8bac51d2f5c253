"""Rules 16 and 17: flash mobs across authors, floods by one author."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards.analysis import analyse
from civility.standards.detectors import crowd
from civility.standards.detectors.crowd import (
    FlashMobDetector,
    FloodDetector,
    fingerprint,
    fingerprints,
    gibberish,
    jaccard,
    minhash,
    shingles,
)
from civility.standards.engine import InMemoryContext
from civility.standards.policy import Policy, default_policy
from civility.standards.types import Comment, Finding, RecentComment

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CAMPAIGN = "Stop the new tax on small businesses! Call your council member now and demand a vote against it."


BATCH_TEXTS = [
    CAMPAIGN,
    "Please read: " + CAMPAIGN.lower(),
    "",
    "   ",
    "ok",
    "abcd",
    "abcde",
    "+1 great article",
    "\uff26\uff55\uff4c\uff4c width letters and \ufb01 ligatures",
    "日本語のコメントです、ありがとう",
    "😀😀😀 🎉",
    "word " * 400,
]


@given(st.lists(st.text(max_size=60), max_size=12))
@settings(max_examples=60, deadline=None)
def test_batch_fingerprints_equal_one_by_one(extra: list[str]) -> None:
    texts = BATCH_TEXTS + extra
    for text, batched in zip(texts, fingerprints(texts), strict=True):
        alone = fingerprint(text)
        assert batched.shingles.dtype == alone.shingles.dtype
        assert batched.shingles.tolist() == alone.shingles.tolist()
        assert batched.bands == alone.bands
        assert batched.words == alone.words


def test_batch_fingerprints_split_into_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crowd, "_BATCH_CHARACTERS", 40)
    for text, batched in zip(BATCH_TEXTS, fingerprints(BATCH_TEXTS), strict=True):
        assert batched.bands == fingerprint(text).bands


def test_band_keys_tell_bands_apart_exactly() -> None:
    signature = minhash(shingles(CAMPAIGN))
    keys = crowd._band_keys(signature)
    assert len(set(keys)) == crowd.BANDS
    for band, key in enumerate(keys):
        values = signature[band * crowd.ROWS : (band + 1) * crowd.ROWS].tolist()
        rebuilt = band
        for value in values:
            rebuilt = (rebuilt << 31) | value
        assert key == rebuilt
    # The same minimum hashes in another band are another key.
    assert len(set(crowd._band_keys(minhash(shingles(""))))) == crowd.BANDS


VARIANTS = [
    CAMPAIGN,
    "Please read: " + CAMPAIGN.lower(),
    CAMPAIGN.replace("now", "right now"),
    "A different comment about the bridge and the council budget this year.",
    "A different comment about the bridge and the council budget next year.",
    "Completely unrelated remark on football results from the weekend games.",
]


@given(st.lists(st.tuples(st.integers(0, 7), st.sampled_from(VARIANTS)), max_size=40))
@settings(max_examples=80, deadline=None)
def test_memo_candidates_match_brute_force_through_evictions(
    additions: list[tuple[int, str]],
) -> None:
    memo = crowd._FingerprintMemo(size=5)
    kept: list[tuple[str, str]] = []
    for number, text in additions:
        key = (f"c{number}", text)
        memo.get(*key)
        if key in kept:
            continue
        kept.append(key)
        kept = kept[-5:]
    assert list(memo._items) == kept
    for text in VARIANTS:
        own = fingerprint(text)
        expected = {key for key in kept if set(fingerprint(key[1]).bands) & set(own.bands)}
        assert memo.candidates(own) == expected
    # Every bucket names only comments still kept, and none is an empty set.
    for bucket in memo._buckets.values():
        members = bucket if isinstance(bucket, set) else {bucket}
        assert len(members) >= 1 and members <= set(kept)


@given(st.lists(st.sampled_from([*VARIANTS, "", "😀😀", "ok ok"]), max_size=14))
@settings(max_examples=80, deadline=None)
def test_flood_repeats_match_brute_force(messages: list[str]) -> None:
    detector = FloodDetector(default_policy())
    texts = [(f"m{n}", text) for n, text in enumerate(messages)]
    prints = [fingerprint(text) for _, text in texts]
    expected = {
        left
        for left in range(len(texts))
        for right in range(len(texts))
        if left != right
        and set(prints[left].bands) & set(prints[right].bands)
        and jaccard(prints[left].shingles, prints[right].shingles) >= 0.7
    }
    assert detector._repeats(texts, prints) == expected
    assert detector._repeats(texts, prints) == expected  # again, from the pair memo


def recent(index: int, author: str, text: str, minutes_ago: float) -> RecentComment:
    return RecentComment(
        id=f"c{index}", author_id=author, text=text, created_at=NOW - timedelta(minutes=minutes_ago)
    )


def flash_mob(text: str, others: list[RecentComment], policy: Policy | None = None) -> Finding:
    detector = FlashMobDetector(policy or default_policy())
    judged = Comment(text=text, author_id="me", id="self", created_at=NOW)
    return detector.detect(analyse(judged), InMemoryContext(others))["flash_mob"]


def flood(text: str, others: list[RecentComment]) -> Finding:
    detector = FloodDetector(default_policy())
    judged = Comment(text=text, author_id="me", id="self", created_at=NOW)
    return detector.detect(analyse(judged), InMemoryContext(others))["flood"]


def test_minhash_estimates_jaccard() -> None:
    left = shingles(CAMPAIGN)
    right = shingles("Please read: " + CAMPAIGN.lower())
    estimate = float((minhash(left) == minhash(right)).mean())
    assert abs(estimate - jaccard(left, right)) < 0.2
    assert fingerprint(CAMPAIGN).bands == fingerprint(CAMPAIGN).bands


def test_flash_mob_cluster_of_different_authors() -> None:
    others = [
        recent(i, f"acct{i}", CAMPAIGN.replace("now", "right now") if i % 2 else CAMPAIGN, i)
        for i in range(4)
    ]
    result = flash_mob(CAMPAIGN.upper(), others)
    assert result.score >= 0.5
    (evidence,) = result.evidence
    assert set(evidence.comment_ids) == {"c0", "c1", "c2", "c3"}


def test_flash_mob_ignores_one_author_old_copies_future_copies_and_itself() -> None:
    same_author = [recent(i, "me", CAMPAIGN, i) for i in range(5)]
    assert flash_mob(CAMPAIGN, same_author).score < 0.5
    old = [recent(i, f"acct{i}", CAMPAIGN, 120 + i) for i in range(5)]
    assert flash_mob(CAMPAIGN, old).score < 0.5
    future = [recent(i, f"acct{i}", CAMPAIGN, -5 - i) for i in range(5)]
    assert flash_mob(CAMPAIGN, future).score < 0.5
    itself = [RecentComment(id="self", author_id="me", text=CAMPAIGN, created_at=NOW)]
    assert flash_mob(CAMPAIGN, itself).score == 0


def test_short_generic_reactions_are_not_a_flash_mob() -> None:
    others = [recent(i, f"reader{i}", "Thank you!", i) for i in range(10)]
    assert flash_mob("Thank you!", others).score < 0.5


def test_flash_mob_threshold_is_configurable() -> None:
    others = [recent(i, f"acct{i}", CAMPAIGN, i) for i in range(2)]
    assert flash_mob(CAMPAIGN, others).score >= 0.5
    strict = Policy.from_dict({"extra": {"flash_mob_min_authors": 5}}, base=default_policy())
    assert flash_mob(CAMPAIGN, others, strict).score < 0.5


def test_missing_created_at_means_now() -> None:
    detector = FlashMobDetector(default_policy())
    now = datetime.now(UTC)
    others = [
        RecentComment(
            id=f"c{i}", author_id=f"a{i}", text=CAMPAIGN, created_at=now - timedelta(minutes=1)
        )
        for i in range(4)
    ]
    finding = detector.detect(analyse(Comment(CAMPAIGN, author_id="me")), InMemoryContext(others))[
        "flash_mob"
    ]
    assert finding.score >= 0.5


def test_flood_of_short_repeated_or_gibberish_messages() -> None:
    junk = ["lol", "asdfghjkl", "first!!!", "lol", "qwrtzpsdfg", "bump"]
    result = flood("lol", [recent(i, "me", text, i + 0.5) for i, text in enumerate(junk)])
    assert result.score >= 0.5
    assert len(result.evidence[0].comment_ids) == len(junk)


def test_debater_and_enthusiastic_reader_are_not_a_flood() -> None:
    long = [
        "I have followed this story since the first report, and the council still has not explained the contract.",
        "To answer the question above: the figures are in the annex of the budget, page 14, and they are clear.",
        "I disagree with the previous commenter; the survey suggests most residents want the bridge repaired.",
        "For what it is worth, I worked on a similar project and the delays came from the environmental review.",
    ]
    assert (
        flood(
            "One more point: the consultation closes on Friday, so comment before then.",
            [recent(i, "me", t, i + 1) for i, t in enumerate(long)],
        ).score
        < 0.5
    )
    assert (
        flood(
            "And thanks again for the reporting!",
            [recent(0, "me", "Great reporting, thank you.", 3)],
        ).score
        == 0
    )


def test_gibberish_statistics() -> None:
    assert gibberish("asdfghjkl qwrtzpsdfg") >= 0.6
    assert gibberish("hahahahahahaha") >= 0.6
    assert gibberish("The council will vote on the bridge next week.") == 0


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.lists(st.text(max_size=100), max_size=8))
def test_never_crashes_and_is_deterministic(text: str, others: list[str]) -> None:
    context = [recent(i, f"a{i % 3}" if i % 2 else "me", t, i) for i, t in enumerate(others)]
    first = (flash_mob(text, context).score, flood(text, context).score)
    assert all(0 <= value <= 1 for value in first)
    assert first == (flash_mob(text, context).score, flood(text, context).score)
