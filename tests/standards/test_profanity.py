"""Rule 12: the lexicon sees disguised profanity and leaves innocent words alone."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards.analysis import analyse
from civility.standards.detectors.profanity import _TOKEN, ProfanityDetector, load_lexicon
from civility.standards.engine import EMPTY_CONTEXT
from civility.standards.policy import Policy, default_policy
from civility.standards.types import Comment


def score(text: str, policy: Policy | None = None) -> float:
    detector = ProfanityDetector(policy or default_policy())
    return detector.detect(analyse(Comment(text)), EMPTY_CONTEXT)["profanity"].score


@pytest.mark.parametrize(
    "text",
    [
        "fuck this",
        "FUCK THIS",
        "fuuuuuck this",
        "f.u.c.k this",
        "f u c k this",
        "f\u200bu\u200bc\u200bk this",
        "\uff46\uff55\uff43\uff4b this",
        "what a b!tch",
        "sh1t",
        "you motherfucker",
        "total bullshit",
        "what an a$$hole",
        "f*ck this",
        "f**k off",
        "\u0441unt",  # Cyrillic es
        "n\u0456gger",  # Cyrillic i
        "fucking hell",
        "f\u0338u\u0338c\u0338k this",  # zalgo
        "\u202efuck this",  # right-to-left override
        "\u0192\u00fcck this",  # Latin lookalikes
    ],
)
def test_disguised_profanity_is_caught(text: str) -> None:
    assert score(text) >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe United won again",
        "The class will assess the assassin's motives",
        "The cockpit of the plane and a cocktail",
        "Charles Dickens wrote about Middlesex and Essex",
        "He passed the grass to the bass player",
        "Analysis of the title and the therapist's shitake recipe",
        "as I said, the hoe is in the shed",
        "Kushite kingdoms of ancient Nubia",
        "",
        "   ",
        "\U0001f600\U0001f44d",
    ],
)
def test_innocent_words_are_not_profanity(text: str) -> None:
    assert score(text) < 0.5


def test_scores_are_graded() -> None:
    mild = score("damn")
    strong = score("fuck")
    several = score("fuck this shit, you bitch")
    assert 0 < mild < 0.5 <= strong < several <= 1


def test_evidence_points_at_the_original_span() -> None:
    text = "well f\u200bu\u200bc\u200bk that"
    detector = ProfanityDetector(default_policy())
    finding = detector.detect(analyse(Comment(text)), EMPTY_CONTEXT)["profanity"]
    (evidence,) = finding.evidence
    assert evidence.start is not None and evidence.end is not None
    assert text[evidence.start : evidence.end] == evidence.text == "f\u200bu\u200bc\u200bk"
    assert "disguised" in evidence.explanation


def test_allow_and_deny_words() -> None:
    base = default_policy()
    allowing = Policy.from_dict({"allow_words": ["damn", "crap"]}, base=base)
    denying = Policy.from_dict({"deny_words": ["frak"]}, base=base)
    assert score("damn it", allowing) == 0
    assert score("frak you", base) == 0
    assert score("frak you", denying) >= 0.5
    assert score("fraaaaak you", denying) >= 0.5


def test_learned_probability_is_blended() -> None:
    detector = ProfanityDetector(default_policy())
    analysis = analyse(Comment("you absolute walnut"))
    analysis.cache["learned:profanity"] = 0.8
    assert detector.detect(analysis, EMPTY_CONTEXT)["profanity"].score == pytest.approx(0.8)


def test_lexicon_loads() -> None:
    terms = {entry.term for entry in load_lexicon()}
    assert {"fuck", "shit", "cunt"} <= terms


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_never_crashes_and_is_deterministic(text: str) -> None:
    first = score(text)
    assert 0.0 <= first <= 1.0
    assert first == score(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]),
        min_size=3,
        max_size=3,
    )
)
def test_zero_width_inside_profanity_is_still_caught(invisible: list[str]) -> None:
    text = "f" + invisible[0] + "u" + invisible[1] + "c" + invisible[2] + "k you"
    assert score(text) >= 0.5


TOKEN_PLAIN = re.compile(r"[^\W\d_]+(?:[*#]+[^\W\d_]*)*|[*#]+(?=[^\W\d_])[^\W\d_]+", re.UNICODE)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list("abé*#*# 1_-fu")), max_size=18).map("".join))
def test_masked_words_are_the_plain_patterns_tokens_in_linear_time(text: str) -> None:
    """A word that starts masked ("**ck") is only looked for where a run of masks starts, so
    that "*" x 10,000 takes linear time (the plain form: 0.8 s, in the profanity rule and
    again in the slur cue); the tokens must be the plain form's."""
    assert [m.span() for m in _TOKEN.finditer(text)] == [
        m.span() for m in TOKEN_PLAIN.finditer(text)
    ]


_HIT_PIECES = st.sampled_from(
    [
        "fuck", "FUCKING", "f*ck", "sh**", "**ck", "sh1t", "s1ut", "|oser", "ass", "as", "assess",
        "Scunthorpe", "class", "the", "council", "bridge", "nice", "dumb", "fuuuuck", "bullshitting",
        "kushite", "\u0430ss", "\u212aill", " ", ". ", "-", "'", "1", "#",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_HIT_PIECES | st.text(max_size=3), max_size=10))
def test_the_clean_word_gate_finds_what_the_walk_finds(pieces: list[str]) -> None:
    from civility.standards.detectors.profanity import Lexicon, _walk_hits, find_hits
    from civility.standards.text import skeleton

    lexicon = Lexicon(load_lexicon())
    text = " ".join(pieces)
    skel = skeleton(text)
    first = find_hits(skel, lexicon)  # fills the memo and its clean words
    assert first == _walk_hits(skel, lexicon)
    assert find_hits(skel, lexicon) == first
    # A memo that another comment filled says the same.
    assert find_hits(skeleton(text.upper()), lexicon) == _walk_hits(skeleton(text.upper()), lexicon)
