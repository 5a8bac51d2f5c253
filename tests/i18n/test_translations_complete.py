"""The translation gate CI runs: no untranslated or fuzzy string, no stale .mo."""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_translations.sh"
LOCALE = Path(settings.LOCALE_PATHS[0])
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
PLURAL_FORMS = {"ru": 3, "ar": 6, "es": 2, "fr": 2}


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgfmt") is None,
    reason="GNU gettext (xgettext, msgfmt) is not installed: apt-get install -y gettext",
)
def test_makemessages_finds_no_untranslated_string_and_no_stale_catalogue() -> None:
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        capture_output=True,
        text=True,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin:/usr/local/bin"},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for language in TRANSLATED:
        assert f"ok   {language}/django" in result.stdout


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_shipped_language_has_a_complete_compiled_catalogue(language: str) -> None:
    """Without gettext on the machine: the committed .mo answers every msgid of the .po."""
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as file:
        catalogue = gettext.GNUTranslations(file)
    text = po.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    assert f"nplurals={PLURAL_FORMS[language]};" in text
    assert f"nplurals={PLURAL_FORMS[language]};" in catalogue.info()["plural-forms"]
    msgids = text.count('\nmsgid "') - 1  # less the header; obsolete ones start with "#~"
    singular = {key for key in catalogue._catalog if isinstance(key, str) and key}
    plural = {key[0] for key in catalogue._catalog if isinstance(key, tuple)}
    # msgfmt leaves untranslated messages out of the .mo: equal counts mean none is missing.
    assert len(singular) + len(plural) == msgids
    assert catalogue.gettext("Sign in") != "Sign in"
