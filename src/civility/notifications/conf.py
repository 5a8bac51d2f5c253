"""Settings contributed by the notifications app (imported at the end of config/settings.py)."""

from __future__ import annotations

from civility.config.env import env_bool, env_str

# VAPID keys for web push. Unset: generated once into <data dir>/vapid_private.pem (never
# committed). Set CIVILITY_VAPID_PRIVATE_KEY to a PEM or a base64url raw key to pin them.
CIVILITY_VAPID_PRIVATE_KEY = env_str("CIVILITY_VAPID_PRIVATE_KEY")
CIVILITY_VAPID_SUBJECT = env_str("CIVILITY_VAPID_SUBJECT", "mailto:webmaster@localhost")
# Push services are HTTPS; plain-HTTP endpoints are accepted only when this is on (tests).
CIVILITY_PUSH_ALLOW_HTTP_ENDPOINTS = env_bool("CIVILITY_PUSH_ALLOW_HTTP_ENDPOINTS")
CIVILITY_PUSH_TTL_SECONDS = 24 * 60 * 60
CIVILITY_PUSH_TIMEOUT_SECONDS = 10
