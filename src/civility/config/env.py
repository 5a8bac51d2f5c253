"""Read Civility's configuration from CIVILITY_* environment variables.

Every variable and its default is listed in ``VARIABLES`` so the README table and the
settings module cannot drift apart.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# name -> (default, meaning). The README's configuration table is generated from this
# (``python -m civility.config.env``) and a test keeps the two, and the code, in sync.
VARIABLES: dict[str, tuple[str, str]] = {
    # Core (config/settings.py)
    "CIVILITY_DATA_DIR": ("./var", "SQLite database, generated keys, uploaded media."),
    "CIVILITY_DATABASE_URL": (
        "sqlite:///<data dir>/civility.sqlite3",
        "Database URL (postgres://user:pass@host:5432/name for PostgreSQL).",
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
        "Production mode: HTTPS-only cookies, HSTS, secure proxy header, hashed static files.",
    ),
    "CIVILITY_SSL_REDIRECT": ("true", "In production mode, redirect plain HTTP to HTTPS."),
    "CIVILITY_ALLOWED_HOSTS": ("127.0.0.1,localhost", "Comma-separated host names served."),
    "CIVILITY_SITE_URL": (
        "http://127.0.0.1:8000",
        "Public base URL, used in e-mails and short links.",
    ),
    "CIVILITY_SITE_LANGUAGES": ("en", "Comma-separated majority languages of the site (rule 20)."),
    "CIVILITY_EMAIL_URL": (
        "console:",
        "smtp://user:pass@host:port, smtp+tls://... (STARTTLS), smtps://... (TLS), or console:.",
    ),
    "CIVILITY_DEFAULT_FROM_EMAIL": ("Civility <noreply@localhost>", "Sender of outgoing mail."),
    # Tests (tests/conftest.py, config/settings.py)
    "CIVILITY_TESTING": (
        "false",
        "Test mode outside pytest: private temporary data dir, inline tasks.",
    ),
    "CIVILITY_TEST_DATABASE_URL": (
        "(unset: SQLite)",
        "Database the test suite runs on (PostgreSQL in CI).",
    ),
    "CIVILITY_TEST_REDIS_URL": ("CIVILITY_REDIS_URL", "Redis the test suite uses as its cache."),
    # Accounts (accounts/conf.py)
    "CIVILITY_GOOGLE_CLIENT_ID": ("(unset)", "Google sign-in; with CIVILITY_GOOGLE_SECRET."),
    "CIVILITY_FACEBOOK_CLIENT_ID": ("(unset)", "Facebook sign-in; with CIVILITY_FACEBOOK_SECRET."),
    "CIVILITY_VK_CLIENT_ID": ("(unset)", "VK sign-in; with CIVILITY_VK_SECRET."),
    "CIVILITY_CAPTCHA_MAX_NUMBER": (
        "50000",
        "ALTCHA proof-of-work difficulty (numbers the browser tries).",
    ),
    # Discussion (discussion/conf.py)
    "CIVILITY_THREAD_MAX_DEPTH": (
        "4",
        "How deep replies nest before a 'continue this thread' link.",
    ),
    "CIVILITY_COMMENTS_PER_PAGE": (
        "50",
        "Top-level comments per page (sorted by most replies: at most 1.5 times as many "
        "comments, replies included).",
    ),
    "CIVILITY_COMMENT_MAX_LENGTH": ("5000", "Longest comment, in characters."),
    "CIVILITY_COMMENT_CACHE_CHARS": (
        "8000000",
        "Rendered comments each web process keeps, in characters of markup (0: none).",
    ),
    "CIVILITY_EDIT_WINDOW_SECONDS": ("300", "How long authors may edit their own comment."),
    "CIVILITY_EMBED_ORIGINS": ("(none)", "Comma-separated origins whose pages may embed threads."),
    "CIVILITY_API_TOKEN_DAYS": ("90", "API bearer tokens expire after this many days (0: never)."),
    # Moderation (moderation/conf.py)
    "CIVILITY_PREMOD_REJECTION_PERCENT": (
        "50",
        "Rejected share that puts an author on pre-moderation.",
    ),
    "CIVILITY_PREMOD_WINDOW": ("20", "How many recent decided comments that share is taken over."),
    "CIVILITY_PREMOD_MIN_COMMENTS": ("4", "Fewest decided comments before pre-moderation applies."),
    "CIVILITY_STALE_PENDING_SECONDS": (
        "120",
        "A comment still undecided after this is decided by the sweeper.",
    ),
    # Notifications (notifications/conf.py)
    "CIVILITY_VAPID_PRIVATE_KEY": (
        "generated into <data dir>",
        "Web push VAPID key (PEM or base64url).",
    ),
    "CIVILITY_VAPID_SUBJECT": ("mailto:webmaster@localhost", "Contact sent to push services."),
    "CIVILITY_PUSH_ALLOW_HTTP_ENDPOINTS": (
        "false",
        "Accept plain-HTTP push endpoints (tests only).",
    ),
    # Operations (ops/conf.py)
    "CIVILITY_BROKER_VISIBILITY_SECONDS": (
        "900",
        "Broker redelivers an unacknowledged task after this.",
    ),
    "CIVILITY_READ_CACHE_SECONDS": (
        "5.0 (0 in tests)",
        "Rendered threads are cached at most this long (0: off); a new comment clears its thread.",
    ),
    "CIVILITY_READ_CACHE_LOCAL_SECONDS": (
        "0.25 (0 in tests)",
        "Each web process reuses its own copy of a hot cached thread this long.",
    ),
    "CIVILITY_METRICS_ALLOWED_IPS": (
        "(anyone)",
        "Comma-separated client addresses that may read /metrics.",
    ),
    # Webhooks (webhooks/conf.py)
    "CIVILITY_WEBHOOKS_ALLOW_PRIVATE": (
        "false",
        "Let webhook endpoints resolve to loopback, private, link-local or reserved addresses.",
    ),
    # Engine (standards/)
    "CIVILITY_DATASETS": ("../shared/datasets", "Labelled datasets for training and evaluation."),
    "CIVILITY_ONNX_THREADS": (
        "cores available, at most 4",
        "Comments the embedding model encodes in parallel, one thread each.",
    ),
    "CIVILITY_STRICT_DETECTORS": (
        "true",
        "A detector family that cannot be loaded is an error (always; kept for old configs).",
    ),
    "CIVILITY_TRAIN_CACHE": (
        "~/.cache/civility-train",
        "Cache of `civility train` (embeddings of the datasets).",
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


def markdown_table() -> str:
    """The README's configuration table."""
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    rows += [
        f"| `{name}` | `{default}` | {meaning} |" for name, (default, meaning) in VARIABLES.items()
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
