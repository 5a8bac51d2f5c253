"""The skeleton sees through disguises and maps every match back to what the author typed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards.analysis import analyse, normalise
from civility.standards.text import extract_urls, skeleton, squeeze
from civility.standards.types import Comment


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("F.u.c.k you", "fuck you"),
        ("f u c k off", "fuck off"),
        ("f-u-c-k", "fuck"),
        ("f_u_c_k", "fuck"),
        ("sh1t happens", "shit happens"),
        ("b!tch", "bitch"),
        ("a$$hole", "asshole"),
        ("\uff46\uff55\uff43\uff4b", "fuck"),  # fullwidth
        ("\U0001d41f\U0001d42e\U0001d41c\U0001d424", "fuck"),  # mathematical bold
        ("f\u200bu\u200dc\u2060k", "fuck"),  # zero-width characters
        ("\u0441unt", "cunt"),  # Cyrillic es
        ("f\u0338u\u0338c\u0338k", "fuck"),  # combining overlays (zalgo)
        ("f\u00fcck", "fuck"),  # accents
        ("\u202efuck", "fuck"),  # right-to-left override
    ],
)
def test_disguises_are_undone(written: str, expected: str) -> None:
    assert skeleton(written).text == expected


@pytest.mark.parametrize(
    "plain",
    ["I paid $5 in 2024!!!", "Shit!!!", "Contact @user today", "Scunthorpe class assessment"],
)
def test_ordinary_text_is_not_mangled(plain: str) -> None:
    assert skeleton(plain).text == plain.lower()


def test_russian_text_stays_russian() -> None:
    text = "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440"
    assert skeleton(text).text == text.lower()


def test_spans_map_back_to_the_original() -> None:
    text = "well f\u200bu\u200bc\u200bk that"
    form = skeleton(text)
    start = form.text.index("fuck")
    begin, end = form.span(start, start + 4)
    assert text[begin:end] == "f\u200bu\u200bc\u200bk"


def test_ligature_maps_to_one_original_character() -> None:
    form = skeleton("\ufb01sh")
    assert form.text == "fish"
    assert form.span(0, 2) == (0, 1)


def test_squeeze_counts_runs() -> None:
    assert squeeze("fuuuck") == ("fuck", [1, 3, 1, 1])


def test_urls_are_found_with_spans_and_without_trailing_punctuation() -> None:
    text = "See www.example.com/x, or https://a.example.org/c). Also evil.ru/a.exe and e.g. this."
    found = extract_urls(text)
    assert [u.url for u in found] == [
        "www.example.com/x",
        "https://a.example.org/c",
        "evil.ru/a.exe",
    ]
    for url in found:
        assert text[url.start : url.end] == url.url


def test_email_domain_is_not_a_url() -> None:
    assert extract_urls("write to bob@example.com please") == []


def test_analysis_caches_skeleton_and_urls() -> None:
    analysis = analyse(Comment("Visit https://example.com now"))
    assert analysis.skeleton is analysis.skeleton
    assert analysis.urls is analysis.urls
    assert analysis.normalised == normalise("Visit https://example.com now")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_skeleton_never_crashes_and_spans_stay_inside(text: str) -> None:
    form = skeleton(text)
    assert form == skeleton(text)
    for start in range(len(form.text)):
        begin, end = form.span(start, start + 1)
        assert 0 <= begin < end <= len(text)
    extract_urls(text)


def _leet_plain(text: str) -> tuple[str, frozenset[int]]:
    """text._map_leet as first written: a search for a letter after each leet character."""
    from civility.standards import text as module

    if not module._LEET_CHARACTER.search(text):
        return text, frozenset()
    chars, ambiguous = list(text), set()
    for match in module._LEET_WORD.finditer(text):
        word = match.group()
        if not module._LEET_CHARACTER.search(word) or not any(ch.isalpha() for ch in word):
            continue
        for offset, ch in enumerate(word):
            if ch not in module._LEET:
                continue
            if ch in module._LEET_NEEDS_LETTER_AFTER and not any(
                c.isalpha() for c in word[offset + 1 :]
            ):
                continue
            if ch == "@" and offset == 0 and len(word) > 4:
                continue
            if ch in "$€£" and offset == 0 and word[1:].isdigit():
                continue
            chars[match.start() + offset] = module._LEET[ch]
            if ch in module._LEET_AMBIGUOUS:
                ambiguous.add(match.start() + offset)
    return "".join(chars), frozenset(ambiguous)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list("fuck!1|+@$3 0a-.*")), max_size=20).map("".join))
def test_leet_mapping_finds_the_letter_after_each_character_in_one_pass(text: str) -> None:
    """Whether a letter follows comes from the word's last letter (one pass), where a search
    after every leet character took 1 s on "f" and 9,999 "!"; the mapping is the same."""
    from civility.standards.text import _map_leet

    assert _map_leet(text) == _leet_plain(text)
