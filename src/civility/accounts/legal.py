"""The community standards and the shipped privacy policy, one text per interface language.

The texts live in ``locale/<language>/legal/{standards,privacy}.toml`` next to the interface
translations. Each language's standards text carries its own ``revision``: together with the
moderation policy in force and the language it names the exact text a reader agreed to. A
language without a text of its own falls back to English.

The engine's rule data (``civility.standards.rules``) stays English and Django-free; the rule
numbers come from there, the titles and texts readers see come from here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from civility.standards.rules import RULES

FALLBACK_LANGUAGE = "en"


def _legal_dir(language: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language / "legal"


@dataclass(frozen=True, slots=True)
class LocalizedRule:
    slug: str
    number: int
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class StandardsText:
    language: str
    revision: int
    title: str
    intro: str
    rules: tuple[LocalizedRule, ...]

    def rule(self, slug: str) -> LocalizedRule:
        for rule in self.rules:
            if rule.slug == slug:
                return rule
        raise KeyError(slug)


@dataclass(frozen=True, slots=True)
class ShippedPrivacyText:
    language: str
    title: str
    text: str

    def paragraphs(self) -> list[str]:
        return [block.strip() for block in self.text.split("\n\n") if block.strip()]


def text_language(language: str | None = None) -> str:
    """The language whose texts a reader of ``language`` (default: the active one) sees."""
    wanted = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    for candidate in (wanted, wanted.split("-")[0]):
        if (_legal_dir(candidate) / "standards.toml").is_file():
            return candidate
    return FALLBACK_LANGUAGE


@cache
def _load(language: str, name: str) -> dict[str, object]:
    with open(_legal_dir(language) / f"{name}.toml", "rb") as file:
        return tomllib.load(file)


def standards_text(language: str | None = None) -> StandardsText:
    """The community standards in ``language`` (English where a rule has no translation)."""
    code = text_language(language)
    data = _load(code, "standards")
    english = _load(FALLBACK_LANGUAGE, "standards")
    translated = data.get("rules", {})
    assert isinstance(translated, dict)
    rules = []
    for rule in RULES:
        title, text = translated.get(rule.slug) or (rule.title, rule.text)
        rules.append(LocalizedRule(rule.slug, rule.number, str(title), str(text)))
    return StandardsText(
        language=code,
        revision=int(str(data.get("revision", english["revision"]))),
        title=str(data.get("title", english["title"])),
        intro=str(data.get("intro", english["intro"])),
        rules=tuple(rules),
    )


def localized_rule(slug: str, language: str | None = None) -> LocalizedRule:
    """One rule's number, title and text in ``language`` (for pages and mails that name it)."""
    return standards_text(language).rule(slug)


def localized_rules(language: str | None = None) -> tuple[LocalizedRule, ...]:
    """Every rule, in the shape of ``civility.standards.rules.RULES`` (slug, number, title,
    text) but in the reader's language: use it wherever readers or moderators see a rule."""
    return standards_text(language).rules


def localized_rule_label(slug: str, language: str | None = None) -> str:
    """``rule 5, Insult`` in the reader's language (the engine's ``rule_label`` is English)."""
    rule = localized_rule(slug, language)
    with translation.override(language or translation.get_language()):
        return gettext("rule %(number)s, %(title)s") % {"number": rule.number, "title": rule.title}


def shipped_privacy_text(language: str | None = None) -> ShippedPrivacyText:
    """The privacy policy shipped with Civility, shown until an editor publishes one."""
    code = text_language(language)
    data = _load(code, "privacy")
    return ShippedPrivacyText(language=code, title=str(data["title"]), text=str(data["text"]))


def shipped_languages() -> list[str]:
    """Interface languages (settings.LANGUAGES) that have their own standards text."""
    return [
        code
        for code, _name in settings.LANGUAGES
        if (_legal_dir(code) / "standards.toml").is_file()
    ]
