"""The engine on a site in another language than the learned models' (issue 8).

The learned rules were trained on English only (``learned_model.MODEL_LANGUAGES``); on Russian
they rank comments barely better than chance (docs/engine-languages.md). So on a Russian
site a Russian comment is never judged by them: they report "not available" and the engine
holds the comment for a moderator instead of publishing it unread. Rule 20 flags a comment
written in another language than the site's, in both directions.
"""

from __future__ import annotations

import pytest

from civility.standards.detectors.learned_model import LEARNED_SLUGS, MODEL_LANGUAGES
from civility.standards.engine import Engine
from civility.standards.policy import default_policy
from civility.standards.types import Comment, Decision, Verdict

RUSSIAN_INSULTS = (
    "Ты тупой идиот, закрой свой рот и не пиши больше никогда, ничтожество.",
    "Автор статьи полный дебил, таких уродов надо гнать из профессии.",
)
RUSSIAN_CLEAN = "Спасибо за статью, очень интересно было прочитать про новый мост через реку."
ENGLISH_CLEAN = "Thanks for the article, it was really interesting to read about the new bridge."


@pytest.fixture(scope="module")
def russian_site() -> Engine:
    return Engine(default_policy().with_languages(["ru"]), strict=True)


@pytest.fixture(scope="module")
def english_site() -> Engine:
    return Engine(default_policy(), strict=True)


def unavailable(verdict: Verdict) -> set[str]:
    return {slug for slug in LEARNED_SLUGS if not verdict.results[slug].available}


def test_russian_is_not_a_model_language() -> None:
    # If this changes (a multilingual model, Russian heads), the tests below must change with
    # the measured figures in docs/engine-languages.md.
    assert "ru" not in MODEL_LANGUAGES


@pytest.mark.parametrize("text", RUSSIAN_INSULTS)
def test_russian_insult_on_russian_site_is_held_not_published(
    russian_site: Engine, text: str
) -> None:
    verdict = russian_site.check(Comment(text))
    assert verdict.language == "ru"
    assert verdict.decision != Decision.PUBLISH
    assert unavailable(verdict) == set(LEARNED_SLUGS)
    assert "foreign_language" not in verdict.fired
    assert any("cannot judge text in language 'ru'" in e.explanation for e in verdict.evidence)


def test_clean_russian_comment_on_russian_site_is_not_foreign(russian_site: Engine) -> None:
    verdict = russian_site.check(Comment(RUSSIAN_CLEAN))
    assert "foreign_language" not in verdict.fired
    # The learned rules cannot vouch for it either: a moderator sees it.
    assert verdict.decision == Decision.QUEUE


def test_english_comment_on_russian_site_fires_foreign_language(russian_site: Engine) -> None:
    verdict = russian_site.check(Comment(ENGLISH_CLEAN))
    assert verdict.language == "en"
    assert "foreign_language" in verdict.fired
    assert verdict.decision != Decision.PUBLISH
    # English is a model language: the learned rules judge it (and find nothing).
    assert not unavailable(verdict)
    assert not set(LEARNED_SLUGS) & set(verdict.fired)


def test_same_english_comment_is_published_on_english_site(english_site: Engine) -> None:
    verdict = english_site.check(Comment(ENGLISH_CLEAN))
    assert verdict.decision == Decision.PUBLISH
    assert not verdict.fired


def test_russian_comment_on_english_site_fires_foreign_language(english_site: Engine) -> None:
    verdict = english_site.check(Comment(RUSSIAN_CLEAN))
    assert "foreign_language" in verdict.fired
    assert unavailable(verdict) == set(LEARNED_SLUGS)


@pytest.mark.parametrize(
    "text",
    [
        "Waka waka !!!",  # lingua: Indonesian, confidence 0.66 on 8 letters
        "plz i wilsubscribe me frndzzl subscribe u back",  # lingua: Norwegian, 0.2
        "eminem is a ginius stop!",  # lingua: Polish, 0.16
    ],
)
def test_unsure_guess_on_short_latin_text_keeps_the_learned_rules(
    english_site: Engine, text: str
) -> None:
    verdict = english_site.check(Comment(text))
    assert not unavailable(verdict), verdict.language


def test_confident_foreign_latin_text_makes_the_learned_rules_unavailable(
    english_site: Engine,
) -> None:
    text = (
        "El ayuntamiento votará la próxima semana sobre el nuevo puente, y los vecinos están "
        "preocupados por el tráfico y por el coste de las obras."
    )
    verdict = english_site.check(Comment(text))
    assert verdict.language == "es"
    assert unavailable(verdict) == set(LEARNED_SLUGS)
    assert verdict.decision != Decision.PUBLISH
