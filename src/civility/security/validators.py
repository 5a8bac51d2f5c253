"""Names people show to each other: normalised, and refused when they deceive.

``normalise_display_name`` is safe to apply to any stored name (NFKC, no invisible or
direction-changing characters, no piles of combining marks, single spaces). The app applies
it to ``User.display_name`` on every save (apps.py). ``validate_display_name`` refuses, at
the form, names that mix scripts inside a word (``p\u0430ypal`` with a Cyrillic a), impersonate the
site's roles (``M0derat0r``, ``\u0410dmin``), or are empty once cleaned. ``names_look_alike`` compares
two names through the engine's confusable skeleton (civility.standards.text.skeleton).
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

from civility.standards.text import skeleton

MAX_DISPLAY_NAME = 80
# Bidirectional controls and isolates reorder what follows them (the "Trojan source" trick).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
MAX_COMBINING_RUN = 2
RESERVED_NAMES = (
    "moderator",
    "moderation",
    "admin",
    "administrator",
    "staff",
    "civility",
    "official",
    "support",
)
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
SPACES = re.compile(r"\s+", re.UNICODE)


def _script(character: str) -> str:
    """The script of a letter, from its Unicode name ("CYRILLIC SMALL LETTER A" -> CYRILLIC)."""
    name = unicodedata.name(character, "")
    return name.split(" ", 1)[0] if name else ""


def normalise_display_name(value: str) -> str:
    """NFKC; drop control, format (zero-width, bidi) and private-use characters; cap runs of
    combining marks; collapse whitespace; trim to the field's length."""
    text = unicodedata.normalize("NFKC", value or "")
    kept: list[str] = []
    combining_run = 0
    for character in text:
        category = unicodedata.category(character)
        if character in BIDI_CONTROLS or category in ("Cc", "Cf", "Co", "Cs", "Cn"):
            if character in "\t\n\r":
                kept.append(" ")
            continue
        if category.startswith("M"):
            combining_run += 1
            if combining_run > MAX_COMBINING_RUN:
                continue
        else:
            combining_run = 0
        kept.append(character)
    return SPACES.sub(" ", "".join(kept)).strip()[:MAX_DISPLAY_NAME]


def mixed_script_words(value: str) -> list[str]:
    """Words that mix letters of two scripts (Latin with Cyrillic or Greek, typically)."""
    mixed = []
    for word in WORD.findall(value):
        scripts = {_script(c) for c in word if c.isalpha()}
        scripts.discard("")
        if len(scripts) > 1:
            mixed.append(word)
    return mixed


def confusable_skeleton(value: str) -> str:
    """The name as the engine sees through disguises: lower case, homoglyphs and leetspeak
    mapped, separators and spacing between letters removed."""
    return re.sub(r"[\W_]+", "", skeleton(normalise_display_name(value)).text)


def names_look_alike(first: str, second: str) -> bool:
    return confusable_skeleton(first) == confusable_skeleton(second)


def impersonated_role(value: str) -> str:
    """The reserved word a name reads as ('' when none)."""
    folded = confusable_skeleton(value)
    return next((reserved for reserved in RESERVED_NAMES if reserved in folded), "")


@deconstructible
class DisplayNameValidator:
    """Form and model validator for display names (see the module docstring)."""

    def __call__(self, value: str) -> None:
        cleaned = normalise_display_name(value)
        if value and not cleaned:
            raise ValidationError(_("Use letters or digits in your name."), code="empty")
        if len(unicodedata.normalize("NFKC", value or "")) > MAX_DISPLAY_NAME:
            raise ValidationError(_("The name is too long."), code="too_long")
        mixed = mixed_script_words(cleaned)
        if mixed:
            raise ValidationError(
                _("Write each word in one alphabet (this one mixes several: %(word)s).")
                % {"word": mixed[0]},
                code="mixed_script",
            )
        reserved = impersonated_role(cleaned)
        if reserved:
            raise ValidationError(
                _("Names that read as “%(word)s” are reserved.") % {"word": reserved},
                code="reserved",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DisplayNameValidator)


validate_display_name = DisplayNameValidator()


# --- URLs and file names -----------------------------------------------------------------------

SAFE_FILENAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_filename(name: str, *, max_length: int = 120) -> str:
    """A file name with no path, no control characters, no leading dots, a bounded length."""
    base = normalise_display_name(name.replace("\\", "/").rsplit("/", 1)[-1])
    base = SAFE_FILENAME.sub("_", base).lstrip(".").strip() or "file"
    stem, dot, extension = base.rpartition(".")
    if dot and stem:
        return f"{stem[: max_length - len(extension) - 1]}.{extension[:16]}"
    return base[:max_length]


def validate_public_url(value: str) -> None:
    """An http(s) URL with a host and no credentials (for links people submit)."""
    from urllib.parse import urlsplit

    parts = urlsplit((value or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_("Enter an http:// or https:// address."), code="scheme")
    if parts.username or parts.password:
        raise ValidationError(
            _("Addresses with a user name or password are refused."), code="userinfo"
        )
    if any(ord(c) < 32 or c in BIDI_CONTROLS for c in value):
        raise ValidationError(_("The address contains invisible characters."), code="control")
