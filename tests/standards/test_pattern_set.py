"""RE2 pattern sets give Python's answers (standards/pattern_set.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards.pattern_set import (
    PatternSet,
    ascii_stand_in,
    re2_form,
    superset_form,
    takes_stand_ins,
)

# Lower-case patterns that exercise what differs between the engines: Python's \s (which
# holds \v and \x1c-\x1f), \S, \b beside other scripts, classes and ranges, a bounded
# wildcard, look-arounds and possessive quantifiers (RE2 refuses them: searched in Python
# behind their superset form), a case-insensitive group (Python only), and an anchor.
PATTERNS = [
    r"\bcheck\s+out\b",
    r"\bmy\s+(?:channel|page)\b",
    r"[!?]{3,}",
    r"\b(?:weed|coke)\b.{0,20}?\b(?:hmu|dm\s+me)\b",
    r"\bwatch\s+your\s+back\b(?!\s+(?:when|while))",
    r"(?<![a-z0-9-])(?=[a-z0-9-]++\.(?:com|ly)\b)[a-z0-9-]*?\b[a-z0-9-]+\.(?:com|ly)\b",
    r"\bkick\w*\b(?=.{0,30}\b(?:dog|cat)s?\b)",
    r"\S+@\S+",
    r"[^a-z\s]{4}",
    r"\d+\s*(?:k|m)\b",
    r"(?i:skin)",
    r"^no\b",
    r"\bsub\s*4\s*sub\b",
]

PIECES = st.sampled_from(
    [
        "check out", "CHECK\u00a0OUT", "check\x0bout", "check\x1cout", "my channel", "my page",
        "!!!", "??!", "weed", " hmu", "dm me", "watch your back", " when", "x.com", "bit.ly",
        "-a.com", "kick", "kicked the dog", "cats", "a@b", "1234", "5 k", "5k", "skin",
        "\u017fkin", "\u212aick", "\u0130", "\u0131", "\u00e9", "\u0663", "\u2028", "\u201c",
        "\u2019", "\ufeff", "\U0001f602", "_", "`", "\x1f", "\x00", " ", "\n", "no ", "No",
        "sub4sub", "SUB 4 SUB", ".",
    ]
)  # fmt: skip


@pytest.fixture(scope="module")
def pattern_set() -> PatternSet:
    return PatternSet(PATTERNS)


def _python_answer(text: str) -> set[int]:
    return {n for n, p in enumerate(PATTERNS) if re.search(p, text, re.IGNORECASE)}


def test_re2_forms_refuse_what_they_cannot_say_alike() -> None:
    assert re2_form(r"\bcheck\s+out\b") == r"\bcheck[\t\n\v\f\r \x1c-\x1f]+out\b"
    assert re2_form(r"[\s,]\S") == r"[\t\n\v\f\r \x1c-\x1f,][^\t\n\v\f\r \x1c-\x1f]"
    assert re2_form(r"a\.b\?") == r"a\.b\?"
    for expression in ("^a", "a$", "a{,3}", r"[^\S]", r"\x41", "(?i)a", "(?=a)", "\u00e9", "[a"):
        assert re2_form(expression) is None, expression


def test_superset_forms_drop_assertions_and_possession() -> None:
    assert superset_form(r"a(?!b(?:c|d))e") == "ae"
    assert superset_form(r"(?<![a-z(])x++y*+z?+") == "x+y*z?"
    assert superset_form(r"a+?b*?(?:c)?") == "a+?b*?(?:c)?"
    assert superset_form(r"[(?=]x") == "[(?=]x"
    assert superset_form(r"a(?=b") is None


def test_stand_ins() -> None:
    assert ascii_stand_in("Caf\u00e9 \u212aick \u017fub \u201cq\u201d\u00a0x \U0001f602") == (
        "caf_ kick sub `q`\x1fx `"
    )
    assert ascii_stand_in("Ab") == "ab"
    assert ascii_stand_in("\u0663 apples") is None  # a digit of another script
    assert ascii_stand_in("a\x00b") is None
    assert takes_stand_ins(r"\b3-mmc\b[a-z0-9-]+")
    for expression in ("[!-~]", "a_b", r"\x1f", "[^-~]", "\u00a3", "a`"):
        assert not takes_stand_ins(expression), expression


def test_which_patterns_python_searches(pattern_set: PatternSet) -> None:
    # Look-arounds, possessive quantifiers, the inline flag and the anchor.
    assert pattern_set.in_python == {4, 5, 6, 10, 11}
    assert pattern_set.takes_stand_ins
    assert not PatternSet([*PATTERNS, "\u00a3\\d+"]).takes_stand_ins


@settings(max_examples=600, deadline=None)
@given(st.lists(PIECES | st.text(max_size=4), max_size=14))
def test_pattern_sets_give_pythons_answers(pattern_set: PatternSet, pieces: list[str]) -> None:
    text = "".join(pieces)
    if text.isascii() and "\x00" not in text:
        assert ascii_stand_in(text) == text.lower()
    stood_in = ascii_stand_in(text)
    if stood_in is not None:
        expected = _python_answer(text)
        assert pattern_set.matching(stood_in) == expected, text
        assert pattern_set.any_match(stood_in) == bool(expected)


def test_a_long_crafted_text_is_answered_in_full(pattern_set: PatternSet) -> None:
    # Trigger words at irregular distances make the automaton build state after state and
    # flush its cache; the set still answers (RE2's set search does not give up).
    words = ["weed ", "x ", "xx ", "coke ", "xxx "]
    text = "".join(words[(i * i) % 5] for i in range(20_000)) + "dm me"
    assert pattern_set.matching(text) == _python_answer(text)


def test_a_set_over_its_memory_budget_falls_back_to_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import civility.standards.pattern_set as module

    monkeypatch.setattr(module, "SET_MEMORY", 1)
    small = PatternSet(PATTERNS)
    assert small.in_python == set(range(len(PATTERNS)))
    text = "check out my channel!!! watch your back"
    assert small.matching(text) == _python_answer(text)


def test_without_re2_pythons_re_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    # google-re2 is a dependency; should its wheel be missing on some platform, the module
    # still imports and every pattern is searched with re.
    import civility.standards.pattern_set as module

    monkeypatch.setattr(module, "re2", None)
    plain = PatternSet(PATTERNS)
    assert not plain.compiled and plain.in_python == set(range(len(PATTERNS)))
    assert module.single_pattern(r"\bcheck\s+out\b") is None
    for text in ("check out my channel!!! watch your back", "kicked the dog", "x.com", ""):
        assert plain.matching(text) == _python_answer(text)
        assert plain.any_match(text) == bool(_python_answer(text))
