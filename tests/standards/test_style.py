"""Rule 19: capitals and run-on text; acronyms and caseless scripts never trigger."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards.analysis import analyse
from civility.standards.detectors.style import ShoutingDetector
from civility.standards.engine import EMPTY_CONTEXT
from civility.standards.policy import default_policy
from civility.standards.types import Comment, Finding


def finding(text: str) -> Finding:
    return ShoutingDetector(default_policy()).detect(analyse(Comment(text)), EMPTY_CONTEXT)[
        "shouting"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "NATO and the USA met the EU today about COVID-19.",
        "I think this is REALLY important.",
        "OK",
        "USA",
        "\u4e2d\u56fd\u4eba\u6c11\u5f88\u9ad8\u5174",
        "Der B\u00fcrgermeister hat die Br\u00fccke nicht erw\u00e4hnt.",
        "Great Article, Thank You For Writing It",
        "",
        "   \n ",
        "\U0001f600\U0001f600",
    ],
)
def test_not_shouting(text: str) -> None:
    assert finding(text).score < 0.5


def test_capitals_are_shouting_and_long_shouting_scores_more() -> None:
    short = finding("STOP THE WAR NOW").score
    long = finding("THIS IS THE WORST ARTICLE I HAVE EVER READ, SHAME ON YOU ALL").score
    assert 0.5 <= short <= 0.7 < long < 0.9
    (evidence,) = finding("THIS IS THE WORST ARTICLE I HAVE EVER READ").evidence
    assert "capital" in evidence.explanation


def test_cyrillic_capitals_are_shouting_too() -> None:
    assert (
        finding(
            "\u042d\u0422\u041e \u041f\u041e\u041b\u041d\u0410\u042f \u0427\u0415\u041f\u0423\u0425\u0410 \u0418 \u0412\u0421\u0415 \u042d\u0422\u041e \u0417\u041d\u0410\u042e\u0422"
        ).score
        >= 0.5
    )


def test_run_on_text() -> None:
    words = ("and then nobody came back to us " * 20).split()
    assert finding(" ".join(words[:50])).score == 0
    assert finding(" ".join(words[:100])).score >= 0.5
    assert finding(". ".join(" ".join(words[i : i + 10]) for i in range(0, 140, 10))).score == 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_never_crashes(text: str) -> None:
    first = finding(text)
    assert 0 <= first.score <= 1
    assert first.score == finding(text).score
    for evidence in first.evidence:
        assert evidence.start is not None and evidence.end is not None
        assert 0 <= evidence.start <= evidence.end <= len(text)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "A",
                "a",
                "B",
                "b",
                "NHS",
                "I",
                "I'M",
                "A-B",
                "A1B",
                "Ab",
                "ÉCOLE",
                "école",
                "\u212a",
                "STOP",
                "now",
                "1",
                "-",
                "'",
                " ",
                "\n",
                ".",
                "!",
                "_",
                "\u00c9",
            ]
        )
        | st.text(max_size=3),
        max_size=30,
    )
)
def test_the_two_capitals_gate_changes_no_score(pieces: list[str]) -> None:
    from civility.standards.detectors.style import _capitals_walk, capitals_score

    text = "".join(pieces)
    assert capitals_score(text) == _capitals_walk(text)


@pytest.mark.parametrize(
    "text",
    [
        "@USER EXACTLY!  Nice \U0001f60a",
        "@USER TIRED",
        "@USER Take a vacation!  #WWG1WGA  #MAGA",
        "@BBCNEWS @CNN @NYTIMES Thanks for covering the flooding in our town.",
        "Read it here: HTTPS://WWW.EXAMPLE.COM/NEWS/ABC-DEF and tell me what you think.",
        "AT&AMP;T raised my bill again, third time this year.",
        " ".join(["@USER"] * 40) + " Followed and retweeted.",
    ],
)
def test_handles_tags_and_links_are_not_shouting(text: str) -> None:
    assert finding(text).score == 0


def test_shouting_beside_handles_and_links_still_counts() -> None:
    shout = finding(
        "@JACK ADMITS LEFT-WING BIAS, BUT SAYS HE DOES NOT REGULATE IDEOLOGY https://t.co/x"
    )
    assert shout.score >= 0.5
    (evidence,) = shout.evidence
    # The span points into the comment as written: the handle is not part of it.
    assert evidence.text.startswith("ADMITS") and evidence.text.endswith("IDEOLOGY")
    words = ("and then nobody came back to us " * 20).strip()
    assert finding(f"@USER {words} #tag").score >= 0.5


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("@#&;:/.wWhtpsA b1\u00e9_")), max_size=40))
def test_blanking_keeps_every_offset(text: str) -> None:
    from civility.standards.detectors.style import blank_unwritten

    blanked = blank_unwritten(text)
    assert len(blanked) == len(text)
    assert all(a == b or a == " " for a, b in zip(blanked, text, strict=True))


def test_a_long_punctuated_sentence_is_prose_not_a_wall_of_text() -> None:
    clause = "the council, which met on Tuesday (its third meeting), discussed the bridge"
    sentence = " and ".join([clause] * 6) + "."  # 71 words, a comma or a bracket every few
    assert len(sentence.split()) >= 60
    assert finding(sentence).score == 0
    chain = " ".join(["and then the road got worse and nobody came back to us"] * 6)  # 72 words
    assert finding(chain).score >= 0.5
    # A sentence of 120 words or more is a run-on whatever its commas.
    assert finding(", ".join([clause] * 11) + ".").score >= 0.5
