"""Settings contributed by the webhooks app (imported at the end of config/settings.py)."""

from __future__ import annotations

import sys

from celery.schedules import crontab

from civility.config.env import env_bool

# Endpoints whose host resolves to a loopback, private, link-local or reserved address are
# refused (an operator, or someone who took over an admin account, could otherwise make the
# server call its own internal services). On for tests and for receivers on the same network.
CIVILITY_WEBHOOKS_ALLOW_PRIVATE = env_bool("CIVILITY_WEBHOOKS_ALLOW_PRIVATE")
# A slow receiver must never hold a request for long: deliveries can run inline (no broker).
CIVILITY_WEBHOOKS_TIMEOUT_SECONDS = 5.0
# Attempts per delivery before it is given up. The waits between them double from a minute up
# to six hours: 1, 2, 4 ... 256 minutes, then 6 h twice; the last attempt comes ~20 h after
# the first.
CIVILITY_WEBHOOKS_MAX_ATTEMPTS = 12
CIVILITY_WEBHOOKS_FIRST_RETRY_SECONDS = 60
CIVILITY_WEBHOOKS_MAX_RETRY_SECONDS = 6 * 60 * 60
# An endpoint whose deliveries were given up this many times in a row is deactivated.
CIVILITY_WEBHOOKS_DISABLE_AFTER_FAILURES = 20
# Delivered and given-up deliveries are deleted after this many days.
CIVILITY_WEBHOOKS_RETENTION_DAYS = 30

# Extend (never replace) the beat schedule the other apps' conf modules set before this one.
_settings_so_far = sys.modules.get("civility.config.settings")
CELERY_BEAT_SCHEDULE = {
    **getattr(_settings_so_far, "CELERY_BEAT_SCHEDULE", {}),
    # Sends what is due: retries, and deliveries whose task was lost (broker outage, a worker
    # killed after it claimed one).
    "civility-webhooks-retry-due": {
        "task": "civility.webhooks.retry_due",
        "schedule": 60.0,
    },
    "civility-webhooks-purge": {
        "task": "civility.webhooks.purge",
        "schedule": crontab(hour=3, minute=41),
    },
}
