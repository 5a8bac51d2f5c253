"""Settings for the PostgreSQL restart test's server: production settings, posting limits
lifted (one address and one account post a comment after another)."""

from civility.config.settings import *  # noqa: F403

CIVILITY_RATE_POST = ""
CIVILITY_WRITE_LIMITS_ENABLED = False
ALLOWED_HOSTS = ["*"]
DEBUG = False
