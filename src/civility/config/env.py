"""Read Civility's configuration from CIVILITY_* environment variables.

Every variable and its default is listed in ``VARIABLES`` so the README table and the
settings module cannot drift apart.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

VARIABLES: dict[str, tuple[str, str]] = {
    "CIVILITY_DATA_DIR": ("./var", "SQLite database, generated keys, uploaded media."),
    "CIVILITY_DATABASE_URL": (
        "sqlite:///<data dir>/civility.sqlite3",
        "Database URL (postgres://... for PostgreSQL).",
    ),
    "CIVILITY_REDIS_URL": ("(unset)", "Redis URL: cache, sessions and Celery broker when set."),
    "CIVILITY_BROKER_URL": (
        "CIVILITY_REDIS_URL",
        "Celery broker; tasks run inline when neither is set.",
    ),
    "CIVILITY_SECRET_KEY": ("generated into <data dir>/secret_key", "Django secret key."),
    "CIVILITY_DEBUG": ("false", "Development mode: debug pages, no HTTPS requirements."),
    "CIVILITY_PRODUCTION": (
        "false",
        "Production mode: HTTPS-only cookies, HSTS, secure proxy header.",
    ),
    "CIVILITY_ALLOWED_HOSTS": ("127.0.0.1,localhost", "Comma-separated host names served."),
    "CIVILITY_SITE_LANGUAGES": ("en", "Comma-separated majority languages of the site (rule 20)."),
    "CIVILITY_EMAIL_URL": ("console:", "smtp://user:pass@host:port, smtp+tls://..., or console:."),
    "CIVILITY_DEFAULT_FROM_EMAIL": ("Civility <noreply@localhost>", "Sender of outgoing mail."),
    "CIVILITY_SITE_URL": (
        "http://127.0.0.1:8000",
        "Public base URL, used in e-mails and short links.",
    ),
}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def data_dir() -> Path:
    path = Path(env_str("CIVILITY_DATA_DIR", "./var")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(directory: Path) -> str:
    """Return CIVILITY_SECRET_KEY, or a key generated once and kept in the data dir."""
    configured = env_str("CIVILITY_SECRET_KEY")
    if configured:
        return configured
    key_file = directory / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
