"""Settings contributed by the notifications app (imported at the end of config/settings.py)."""

from __future__ import annotations

import sys

from celery.schedules import crontab

from civility.config.env import env_bool, env_str

# VAPID keys for web push. Unset: generated once into <data dir>/vapid_private.pem (never
# committed). Set CIVILITY_VAPID_PRIVATE_KEY to a PEM or a base64url raw key to pin them.
CIVILITY_VAPID_PRIVATE_KEY = env_str("CIVILITY_VAPID_PRIVATE_KEY")
CIVILITY_VAPID_SUBJECT = env_str("CIVILITY_VAPID_SUBJECT", "mailto:webmaster@localhost")
# Push services are HTTPS; plain-HTTP endpoints are accepted only when this is on (tests).
CIVILITY_PUSH_ALLOW_HTTP_ENDPOINTS = env_bool("CIVILITY_PUSH_ALLOW_HTTP_ENDPOINTS")
CIVILITY_PUSH_TTL_SECONDS = 24 * 60 * 60
CIVILITY_PUSH_TIMEOUT_SECONDS = 10

# The moderators' daily digest (for those who ask for it in their notification settings), at
# 07:05 in TIME_ZONE. Extend (never replace) the schedule the conf modules before this one set.
_settings_so_far = sys.modules.get("civility.config.settings")
CELERY_BEAT_SCHEDULE = {
    **getattr(_settings_so_far, "CELERY_BEAT_SCHEDULE", {}),
    "civility-moderation-digest": {
        "task": "civility.notifications.send_moderation_digests",
        "schedule": crontab(hour=7, minute=5),
    },
}
