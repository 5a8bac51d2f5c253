"""Django settings for Civility: one module, configured by CIVILITY_* environment variables.

See ``civility.config.env.VARIABLES`` for every variable and its default.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url

from civility.config.env import data_dir, env_bool, env_list, env_str, secret_key

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TESTING = "pytest" in sys.modules or env_bool("CIVILITY_TESTING")
if TESTING:
    # pytest-django reads these settings before any conftest runs, so the suite's private
    # data dir (keys, media, SQLite files) is chosen here; it is removed when the run ends.
    DATA_DIR = Path(tempfile.mkdtemp(prefix="civility-test-"))
    atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)
else:
    DATA_DIR = data_dir()

DEBUG = env_bool("CIVILITY_DEBUG")
PRODUCTION = env_bool("CIVILITY_PRODUCTION")
SECRET_KEY = secret_key(DATA_DIR)
ALLOWED_HOSTS = env_list("CIVILITY_ALLOWED_HOSTS", "127.0.0.1,localhost")
SITE_URL = env_str("CIVILITY_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_LANGUAGES = env_list("CIVILITY_SITE_LANGUAGES", "en")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    # Serves Swagger UI for /api/docs from local static files (the CSP allows no CDN).
    "ninja",
    "civility.accounts",
    "civility.news",
    "civility.discussion",
    "civility.moderation",
    "civility.notifications",
    "civility.ops",
    "civility.security",
    "civility.sites",
    "civility.webhooks",
]

MIDDLEWARE = [
    "civility.ops.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "civility.security.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "civility.sites.middleware.CurrentSiteMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "civility.accounts.middleware.ConsentMiddleware",
]

ROOT_URLCONF = "civility.config.urls"
WSGI_APPLICATION = "civility.config.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "civility.moderation.context_processors.moderation",
                "civility.discussion.context_processors.replies",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
_database_url = env_str("CIVILITY_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'civility.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
_test_database_url = env_str("CIVILITY_TEST_DATABASE_URL")
if TESTING and _test_database_url:
    DATABASES["default"] = dj_database_url.parse(_test_database_url)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, background tasks -----------------------------------------------------
REDIS_URL = env_str("CIVILITY_REDIS_URL")
if TESTING:
    REDIS_URL = env_str("CIVILITY_TEST_REDIS_URL") or REDIS_URL
if REDIS_URL:
    CACHES = {
        "default": {
            # An outage degrades to an empty cache instead of failing every request.
            "BACKEND": "civility.ops.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "civility-test" if TESTING else "civility",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work runs inline unless a broker is configured (design.md).
CELERY_BROKER_URL = env_str("CIVILITY_BROKER_URL") or REDIS_URL
# The suite has no worker: tasks run inline there even when Redis backs the cache.
CELERY_TASK_ALWAYS_EAGER = TESTING or not CELERY_BROKER_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# --- Auth ---------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; the suite signs users in hundreds of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
# A URL name, not "/": a reader who signs in on a language version (/ru/...) stays on it.
LOGIN_REDIRECT_URL = "news:front"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"

# --- E-mail -------------------------------------------------------------------------------


def mailer_from_url(url: str) -> dict[str, object]:
    """The MAILERS["default"] entry for CIVILITY_EMAIL_URL (console:, locmem:, smtp[+tls|+ssl]://)."""
    parsed = urlparse(url)
    if parsed.scheme in {"", "console"}:
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme in {"locmem", "memory"}:
        return {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parsed.scheme not in {"smtp", "smtp+tls", "smtp+ssl", "smtps"}:
        raise ValueError(f"CIVILITY_EMAIL_URL: unsupported scheme {parsed.scheme!r}")
    query = parse_qs(parsed.query)
    use_ssl = parsed.scheme in {"smtp+ssl", "smtps"}
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parsed.hostname or "localhost",
            "port": parsed.port or (465 if use_ssl else 25),
            "username": unquote(parsed.username or ""),
            "password": unquote(parsed.password or ""),
            "use_tls": parsed.scheme == "smtp+tls" or "tls" in query,
            "use_ssl": use_ssl,
            "timeout": 10,
        },
    }


# Django 6.1's MAILERS replaces the EMAIL_* settings (deprecated, gone in Django 2028):
# send with django.core.mail as usual; tests get locmem through Django's test set-up.
MAILERS = {"default": mailer_from_url(env_str("CIVILITY_EMAIL_URL", "console:"))}
DEFAULT_FROM_EMAIL = env_str("CIVILITY_DEFAULT_FROM_EMAIL", "Civility <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
# Interface languages shipped with complete translations (locale/); a site picks one.
LANGUAGES = [
    ("en", "English"),
    ("ru", "Русский"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at every start when it is missing
# Site-wide assets live in the package, outside any app's static/ folder.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("CIVILITY_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = [SITE_URL] if SITE_URL.startswith("https://") else []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # E-mail addresses and secrets never reach the logs (the security app also adds this
    # filter to handlers that other libraries configure later).
    "filters": {"redact": {"()": "civility.security.log_redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"civility": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

AUTH_USER_MODEL = "accounts.User"

# Each app contributes its own settings, so apps can evolve without editing this module.
from civility.accounts.conf import *  # noqa: E402, F403
from civility.discussion.conf import *  # noqa: E402, F403
from civility.moderation.conf import *  # noqa: E402, F403
from civility.news.conf import *  # noqa: E402, F403
from civility.notifications.conf import *  # noqa: E402, F403
from civility.ops.conf import *  # noqa: E402, F403
from civility.security.conf import *  # noqa: E402, F403
from civility.sites.conf import *  # noqa: E402, F403
from civility.webhooks.conf import *  # noqa: E402, F403
