"""Language identification and rule 20 (foreign_language)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards import language
from civility.standards.analysis import analyse
from civility.standards.detectors.foreign import ForeignLanguageDetector
from civility.standards.engine import EMPTY_CONTEXT
from civility.standards.policy import Policy, default_policy
from civility.standards.types import Comment


def foreign(text: str, policy: Policy | None = None) -> float:
    policy = policy or default_policy()
    analysis = analyse(Comment(text))
    language.annotate([analysis], policy)
    return ForeignLanguageDetector(policy).detect(analysis, EMPTY_CONTEXT)["foreign_language"].score


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The council will vote on the new bridge next week, and residents are worried.", "en"),
        ("Le conseil municipal votera la semaine prochaine sur le nouveau pont.", "fr"),
        ("Der Stadtrat stimmt n\u00e4chste Woche \u00fcber die neue Br\u00fccke ab.", "de"),
        (
            "\u0413\u043e\u0440\u043e\u0434\u0441\u043a\u043e\u0439 \u0441\u043e\u0432\u0435\u0442 \u043f\u0440\u043e\u0433\u043e\u043b\u043e\u0441\u0443\u0435\u0442 \u0437\u0430 \u043d\u043e\u0432\u044b\u0439 \u043c\u043e\u0441\u0442.",
            "ru",
        ),
        (
            "\u0397 \u03b4\u03b7\u03bc\u03bf\u03c4\u03b9\u03ba\u03ae \u03b5\u03c0\u03b9\u03c4\u03c1\u03bf\u03c0\u03ae \u03b8\u03b1 \u03c8\u03b7\u03c6\u03af\u03c3\u03b5\u03b9.",
            "el",
        ),
        (
            "\u8fd9\u7bc7\u6587\u7ae0\u5199\u5f97\u5f88\u597d\uff0c\u8c22\u8c22\u4f5c\u8005\u3002",
            "zh",
        ),
    ],
)
def test_identify(text: str, code: str) -> None:
    assert language.identify(text, ("en",)).code == code


def test_site_language_is_never_foreign() -> None:
    assert foreign("The council will vote on the new bridge next week.") < 0.5
    bilingual = default_policy().with_languages(["en", "fr"])
    assert (
        foreign("Le conseil municipal votera la semaine prochaine sur le nouveau pont.", bilingual)
        < 0.5
    )


def test_long_foreign_text_can_be_rejected_short_only_queued() -> None:
    long = foreign(
        "Le conseil municipal votera la semaine prochaine sur le nouveau pont, et les habitants "
        "du quartier s'inqui\u00e8tent des travaux qui dureront deux ans."
    )
    assert long >= 0.9
    assert foreign("Merci beaucoup") <= 0.6
    for tiny in ("ok", "lol", "Bravo!", "Trump", "\U0001f600", "", "   "):
        assert foreign(tiny) < 0.9


def test_annotate_sets_language_and_declared_hint_for_short_text() -> None:
    long = analyse(
        Comment("Der Stadtrat stimmt n\u00e4chste Woche \u00fcber die neue Br\u00fccke ab.")
    )
    short = analyse(Comment("\U0001f44d", language="de"))
    language.annotate([long, short], default_policy())
    assert long.language == "de"
    assert short.language == "de"
    english = analyse(Comment("The council votes next week on the new bridge over the river."))
    language.annotate([english], default_policy())
    # The learned detector's own rule: a confident or declared foreign language is not judged.
    assert language.learned_models_support(english)
    assert not language.learned_models_support(long)
    assert not language.learned_models_support(short)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes(text: str) -> None:
    first = foreign(text)
    assert 0 <= first <= 1
    assert first == foreign(text)


@pytest.mark.parametrize(
    "text",
    [
        "Http://www.freedomizerradio.com/journey-into-freedom/ ",
        "WWW.ARTJONESINFO.COM",
        "HTTPS://T.CO/ABCdef",
    ],
)
def test_a_link_in_capitals_is_in_no_language(text: str) -> None:
    guess = language.identify(text, ("en",))
    assert guess.foreign_probability == 0 and guess.letters == 0
