"""Settings contributed by the security app (imported at the end of config/settings.py).

Everything here is a plain setting with a safe default; docs/security.md explains each control.
"""

from __future__ import annotations

import sys

from civility.config.env import env_bool

_PRODUCTION = env_bool("CIVILITY_PRODUCTION")

# --- Content-Security-Policy ------------------------------------------------------------------
# Django's own setting name (django.utils.csp), rendered by civility.security.middleware.
# No 'unsafe-inline' and no 'unsafe-eval' anywhere: every script and style is a static file.
# A view may set its own Content-Security-Policy header (the embed frame sets frame-ancestors
# to CIVILITY_EMBED_ORIGINS); the middleware keeps the view's directives and adds the rest.
SECURE_CSP: dict[str, list[str] | bool] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "worker-src": ["'self'"],
    "manifest-src": ["'self'"],
    "media-src": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    # Social sign-in posts to allauth, which redirects to the provider: the provider's
    # authorisation origin is added at start-up for each configured provider.
    "form-action": ["'self'"],
    "frame-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "report-uri": ["/.well-known/csp-report"],
}
if _PRODUCTION:
    SECURE_CSP["upgrade-insecure-requests"] = True

# Where each social provider's consent page lives (form-action must allow the redirect).
CIVILITY_SOCIAL_FORM_ACTION_ORIGINS: dict[str, list[str]] = {
    "google": ["https://accounts.google.com"],
    "facebook": ["https://www.facebook.com", "https://m.facebook.com"],
    "vk": ["https://oauth.vk.com", "https://id.vk.com"],
}

# Powerful browser features the site never uses are switched off for it and for anything it
# frames. (Notifications and push are not policy-controlled features; they keep working.)
CIVILITY_PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), "
    "microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), "
    "screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=(), browsing-topics=()"
)
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The CSP violation reports endpoint accepts this many reports per IP per minute.
CIVILITY_CSP_REPORTS_PER_MINUTE = 30

# --- Cookies ------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The CSRF cookie stays readable: static/civility/js/site.js sends it back in X-CSRFToken.
# (Django's docs: an HttpOnly CSRF cookie adds no protection.)
if _PRODUCTION:
    # __Host- cookies are refused by browsers unless Secure, Path=/ and without Domain: a
    # sibling subdomain cannot plant or overwrite the session.
    SESSION_COOKIE_NAME = "__Host-civility_session"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SAMESITE = "Lax"
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- security.txt (RFC 9116) ----------------------------------------------------------------------
# Contact for vulnerability reports; empty: security@<host of CIVILITY_SITE_URL>.
CIVILITY_SECURITY_CONTACT = ""
# security.txt must say when it stops being valid; it is regenerated on each request.
CIVILITY_SECURITY_TXT_VALID_DAYS = 180
# A page describing how to report vulnerabilities (path or URL); empty: no Policy field.
CIVILITY_SECURITY_POLICY_URL = ""

# --- Write limits (middleware) ---------------------------------------------------------------------
# A budget for every unsafe request (POST, PUT, PATCH, DELETE), counted per user and per IP
# address before the view runs. Views keep their own, finer limits (discussion/ratelimit.py,
# allauth's ACCOUNT_RATE_LIMITS); this is the floor under every write endpoint, including
# those that have none. "count/seconds"; the first matching URL-name pattern wins.
CIVILITY_WRITE_LIMITS: list[tuple[str, str]] = [
    # Sign-in, sign-up and reset have allauth's limits; these bound them by IP as well.
    ("account_login", "30/300"),
    # Django's admin sign-in bypasses allauth: the address budget is the main sign-in's (not
    # the generous admin:* one below), and CIVILITY_CREDENTIAL_ROUTES locks the account.
    ("admin:login", "30/300"),
    ("account_signup", "10/3600"),
    ("account_reset_password", "10/3600"),
    ("discussion:api:create_token", "10/300"),
    ("discussion:contact", "5/3600"),
    ("discussion:unlock", "5/3600"),
    ("security:csp_report", "60/60"),
    # Moderators act in bulk and fast: a generous budget that still stops a runaway script.
    ("moderation:*", "600/60"),
    ("admin:*", "600/60"),
    ("*", "120/60"),
]
CIVILITY_WRITE_LIMITS_ENABLED = True
# Sign-in endpoints outside allauth (which locks an account out by itself): view name -> the
# field (JSON or form) naming the account. After CIVILITY_CREDENTIAL_FAILURES failed attempts
# on one account, from any number of addresses, it is refused with 429 until the window passes.
CIVILITY_CREDENTIAL_ROUTES: dict[str, str] = {
    "discussion:api:create_token": "email",
    "admin:login": "username",
}
CIVILITY_CREDENTIAL_FAILURES = "5/300"

# --- Personal data -------------------------------------------------------------------------------
# IP addresses: the keyed hash (civility.security.privacy.pseudonymise_ip) and how long a
# stored address (hashed or not) is kept before `purge_ip_addresses` clears it.
CIVILITY_IP_RETENTION_DAYS = 30
# Store a keyed hash (an IPv6 address in fd0c:1::/32) instead of the address itself.
CIVILITY_IP_PSEUDONYMISE = True
# Normalise User.display_name on save (civility.security.validators.normalise_display_name).
CIVILITY_NORMALISE_DISPLAY_NAMES = True
# Redact e-mail addresses and tokens from every log record (civility.security.logging).
CIVILITY_LOG_REDACTION = True

# --- Background work ---------------------------------------------------------------------------
# Extend (never replace) the beat schedule the other apps' conf modules set before this one.
_settings_so_far = sys.modules.get("civility.config.settings")
CELERY_BEAT_SCHEDULE = {
    **getattr(_settings_so_far, "CELERY_BEAT_SCHEDULE", {}),
    "civility-purge-ip-addresses": {
        "task": "civility.security.purge_ip_addresses",
        "schedule": 24 * 60 * 60.0,
    },
}
