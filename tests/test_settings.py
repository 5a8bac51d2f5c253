"""Configuration: environment variables, the README table, test services, production mode."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from civility.config.env import VARIABLES, markdown_table, secret_key
from civility.config.settings import mailer_from_url

ROOT = Path(__file__).resolve().parent.parent


def test_readme_configuration_table_matches_the_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "regenerate the README table: python -m civility.config.env"


ENV_READ = re.compile(
    r"""(?:env_\w+|environ\.get|getenv|environ\[)\(?\s*["'](CIVILITY_[A-Z0-9_]+)["']"""
)


def test_every_variable_the_code_reads_is_documented() -> None:
    read = {
        name
        for path in (ROOT / "src" / "civility").rglob("*.py")
        for name in ENV_READ.findall(path.read_text(encoding="utf-8"))
    }
    undocumented = sorted(read - set(VARIABLES))
    assert not undocumented, f"add to civility.config.env.VARIABLES and the README: {undocumented}"


def test_suite_uses_the_configured_database_and_cache() -> None:
    expected_vendor = "postgresql" if os.environ.get("CIVILITY_TEST_DATABASE_URL") else "sqlite"
    assert connection.vendor == expected_vendor
    redis = os.environ.get("CIVILITY_TEST_REDIS_URL") or os.environ.get("CIVILITY_REDIS_URL")
    backend = settings.CACHES["default"]["BACKEND"]
    assert backend.endswith("RedisCache") if redis else backend.endswith("LocMemCache")


def test_suite_has_a_private_data_dir() -> None:
    assert Path(settings.DATA_DIR).name.startswith("civility-test-")
    assert settings.CELERY_TASK_ALWAYS_EAGER


def test_secret_key_is_generated_once_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CIVILITY_SECRET_KEY", raising=False)
    first = secret_key(tmp_path)
    assert len(first) > 50
    assert secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("CIVILITY_SECRET_KEY", "configured")
    assert secret_key(tmp_path) == "configured"


@pytest.mark.parametrize(
    ("url", "backend", "options"),
    [
        ("console:", "console", {}),
        ("locmem:", "locmem", {}),
        (
            "smtp+tls://user%40site:p%40ss@mail.example.org:587",
            "smtp",
            {
                "host": "mail.example.org",
                "port": 587,
                "username": "user@site",
                "password": "p@ss",
                "use_tls": True,
            },
        ),
        ("smtps://mail.example.org", "smtp", {"port": 465, "use_ssl": True, "use_tls": False}),
    ],
)
def test_email_url(url: str, backend: str, options: dict[str, object]) -> None:
    mailer = mailer_from_url(url)
    assert str(mailer["BACKEND"]).endswith(f"{backend}.EmailBackend")
    configured = mailer.get("OPTIONS", {})
    assert isinstance(configured, dict)
    for key, value in options.items():
        assert configured[key] == value


def test_unknown_email_scheme_is_an_error() -> None:
    with pytest.raises(ValueError, match="unsupported scheme"):
        mailer_from_url("carrier-pigeon://loft")


@pytest.mark.slow
def test_production_mode_passes_the_deployment_checks(tmp_path: Path) -> None:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never would.
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CIVILITY_", "DJANGO_"))
    }
    env.update(
        CIVILITY_DATA_DIR=str(tmp_path),
        CIVILITY_PRODUCTION="1",
        CIVILITY_SECRET_KEY="k3Q9-vX2pL7mN4rT8wY1zB6cF0hJ5sD3gA9eU2iO7qW4tR1yP8uM6nV0bX5lK3jH",
        CIVILITY_ALLOWED_HOSTS="news.example.org",
        CIVILITY_SITE_URL="https://news.example.org",
        CIVILITY_EMAIL_URL="smtp+tls://mailer:secret@smtp.example.org:587",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "civility.cli",
            "manage",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
