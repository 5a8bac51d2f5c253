"""Settings for the load benchmark: production settings with the abuse limits lifted.

The benchmark drives the site from one address with a few accounts posting several comments a
second; the per-user, per-IP and write limits would refuse most of them. Everything else is as
in production (PostgreSQL, Redis cache and sessions, Celery broker, read cache).
"""

from civility.config.settings import *  # noqa: F403

CIVILITY_RATE_POST = ""
CIVILITY_RATE_TOKEN = ""
CIVILITY_WRITE_LIMITS_ENABLED = False
ALLOWED_HOSTS = ["*"]
DEBUG = False
