"""Settings contributed by the accounts app (imported at the end of config/settings.py)."""

from __future__ import annotations

from typing import Any

from civility.config.env import env_bool, env_str

ACCOUNT_ADAPTER = "civility.accounts.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "civility.accounts.adapter.SocialAccountAdapter"
ACCOUNT_FORMS = {
    "signup": "civility.accounts.forms.CaptchaSignupForm",
    "reset_password": "civility.accounts.forms.CaptchaResetPasswordForm",
}
SOCIALACCOUNT_FORMS = {"signup": "civility.accounts.forms.StandardsSocialSignupForm"}

# Sign-in, sign-up and reset answer the same whether or not an address is registered.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Changing the e-mail address or password asks for the password again, like deletion does.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# Social-only accounts have no password: they confirm with a code sent by e-mail.
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "code")
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Civility] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if env_bool("CIVILITY_PRODUCTION") else "http"
# allauth counts attempts in the default cache: Redis when CIVILITY_REDIS_URL is set.
ACCOUNT_RATE_LIMITS: dict[str, str] = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reauthenticate": "10/m/user",
}

# Social sign-up always shows our form: the community standards must be accepted first.
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = True
SOCIALACCOUNT_LOGIN_ON_GET = False


def _social_providers() -> dict[str, dict[str, Any]]:
    """Providers with credentials in the environment; the others are not shown."""
    providers: dict[str, dict[str, Any]] = {}
    specs: dict[str, tuple[str, dict[str, Any]]] = {
        "google": ("CIVILITY_GOOGLE", {"SCOPE": ["profile", "email"]}),
        "facebook": (
            "CIVILITY_FACEBOOK",
            {"METHOD": "oauth2", "SCOPE": ["email", "public_profile"]},
        ),
        "vk": ("CIVILITY_VK", {"SCOPE": ["email"]}),
    }
    for provider_id, (prefix, extra) in specs.items():
        client_id = env_str(f"{prefix}_CLIENT_ID")
        secret = env_str(f"{prefix}_SECRET") or env_str(f"{prefix}_CLIENT_SECRET")
        if client_id and secret:
            providers[provider_id] = {
                "APPS": [{"client_id": client_id, "secret": secret, "key": ""}],
                **extra,
            }
    return providers


SOCIALACCOUNT_PROVIDERS = _social_providers()

# Deleted accounts can be restored for this many days, then `civility purge-deleted` erases them.
CIVILITY_ACCOUNT_RESTORE_DAYS = 30
# ALTCHA proof of work: the browser tries up to this many numbers (about a second on a phone).
CIVILITY_CAPTCHA_MAX_NUMBER = int(env_str("CIVILITY_CAPTCHA_MAX_NUMBER", "50000"))
CIVILITY_CAPTCHA_EXPIRES_SECONDS = 20 * 60
# One JSON export of "my data" per user per this many seconds.
CIVILITY_DATA_EXPORT_INTERVAL_SECONDS = 60

# A reader may change their display name once in this many days (Coral's rule is 14).
CIVILITY_DISPLAY_NAME_CHANGE_DAYS = 14
