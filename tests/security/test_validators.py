"""Display names: Unicode normalisation, confusables, impersonation; file names and URLs."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.security.validators import (
    BIDI_CONTROLS,
    MAX_DISPLAY_NAME,
    names_look_alike,
    normalise_display_name,
    safe_filename,
    validate_display_name,
    validate_public_url,
)

CYRILLIC_A = "\u0430"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Anna   Karenina ", "Anna Karenina"),
        ("\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48", "Fullwidth"),  # NFKC
        ("Bob\u200b\u200dby", "Bobby"),  # zero-width characters
        ("evil\u202egnp.exe", "evilgnp.exe"),  # right-to-left override
        ("Z\u0301\u0302\u0303\u0304\u0305algo", "\u0179\u0302\u0303algo"),  # combining pile
        ("tab\tand\nnewline", "tab and newline"),
        ("Ольга", "Ольга"),
        ("李小龍", "李小龍"),
    ],
)
def test_normalisation(raw: str, clean: str) -> None:
    assert normalise_display_name(raw) == clean


@pytest.mark.parametrize(
    "name", ["Anna", "Ольга Петрова", "José García", "Nguyễn Văn An", "O'Brien-Smith", "user42"]
)
def test_honest_names_pass(name: str) -> None:
    validate_display_name(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (f"p{CYRILLIC_A}ypal", "mixed_script"),
        ("Moderator", "reserved"),
        ("M0derat0r", "reserved"),
        (f"{chr(0x410)}dmin", "mixed_script"),  # a Cyrillic capital A
        ("The Civility Team", "reserved"),
        ("s t a f f", "reserved"),
        ("\u200b\u200b", "empty"),
        ("x" * (MAX_DISPLAY_NAME + 1), "too_long"),
    ],
)
def test_deceptive_names_are_refused(name: str, code: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_display_name(name)
    assert error.value.code == code


def test_look_alike_names_are_detected() -> None:
    assert names_look_alike("Alice", f"{chr(0x410)}lice")
    assert names_look_alike("alice", "ALICE")
    assert names_look_alike("Bob", "B\u200bob")
    assert not names_look_alike("Alice", "Alicia")


def test_stored_display_names_are_normalised(make_user: Any) -> None:
    user = make_user(display_name="Eve\u202e\u200b  Smith")
    user.refresh_from_db()
    assert user.display_name == "Eve Smith"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_normalised_names_are_clean_and_stable(raw: str) -> None:
    clean = normalise_display_name(raw)
    assert normalise_display_name(clean) == clean  # idempotent
    assert len(clean) <= MAX_DISPLAY_NAME
    assert not any(c in BIDI_CONTROLS or (ord(c) < 32) for c in clean)
    assert clean == clean.strip() and "  " not in clean


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_the_validator_only_raises_validation_errors(raw: str) -> None:
    with contextlib.suppress(ValidationError):
        validate_display_name(raw)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\system32\\evil.dll", "evil.dll"),
        (".htaccess", "htaccess"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ("a<b>c?.jpg", "a_b_c_.jpg"),
        ("", "file"),
    ],
)
def test_file_names(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_safe_file_names_never_leave_the_folder(raw: str) -> None:
    name = safe_filename(raw)
    assert name and "/" not in name and "\\" not in name and not name.startswith(".")
    assert len(name) <= 120 + 17


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "//example.org/x",
        "https://user:pass@example.org/",
        "https://example.org/\u202eevil",
        "ftp://example.org/",
    ],
)
def test_unsafe_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        validate_public_url(url)


def test_ordinary_urls_pass() -> None:
    validate_public_url("https://news.example.org/a/b?c=d#e")
