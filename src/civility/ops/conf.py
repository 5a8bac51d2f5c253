"""Settings contributed by the ops app (imported at the end of config/settings.py).

Production mode (CIVILITY_REDIS_URL or CIVILITY_BROKER_URL set) runs Celery workers and beat;
these settings make the broker fail fast (so posting falls back to inline moderation at once)
and bound how long a task a dead worker held stays invisible.
"""

from __future__ import annotations

import sys

from celery.schedules import crontab

from civility.config.env import env_bool, env_str
from civility.discussion.conf import env_int_or


def _env_float(name: str, default: float) -> float:
    value = env_str(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, not {value!r}") from exc


_TESTING = "pytest" in sys.modules or env_bool("CIVILITY_TESTING")

# --- Celery --------------------------------------------------------------------------------
# A message a worker took but never acknowledged (it was killed) goes back to the queue after
# this many seconds. It must exceed the longest retry countdown (retry_backoff caps at 600 s
# by default, moderation retries stop well before); the sweeper covers anything older anyway.
CIVILITY_BROKER_VISIBILITY_SECONDS = env_int_or("CIVILITY_BROKER_VISIBILITY_SECONDS", 900)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CIVILITY_BROKER_VISIBILITY_SECONDS,
    # Fail fast when Redis is down: the web request then moderates inline instead of hanging.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One retry when publishing: a broker that is down costs a request well under a second
# before it falls back to inline moderation (discussion.services.enqueue_moderation).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

# Beat: every periodic job the apps define, plus the daily account purge. The discussion app's
# sweeper decides comments a lost task left pending; the notifications app adds the
# moderators' daily digest.
# Extend (never replace) the schedule the conf modules imported before this one set.
_settings_so_far = sys.modules.get("civility.config.settings")
CELERY_BEAT_SCHEDULE = {
    **getattr(_settings_so_far, "CELERY_BEAT_SCHEDULE", {}),
    "civility-purge-deleted-accounts": {
        "task": "civility.accounts.purge_deleted_accounts",
        "schedule": crontab(hour=3, minute=17),
    },
}

# --- Read cache ------------------------------------------------------------------------------
# Anonymous GETs of thread reads (the JSON comment listing, the comment section, the embedded
# thread, article pages) are served from the cache. A saved comment (new, edited, published,
# removed) invalidates its thread's entries at once, so it shows at the next request (within
# CIVILITY_READ_CACHE_LOCAL_SECONDS below on other web processes); changes that save no
# comment (bulk updates: an account's comments hidden) show within this many seconds, the
# most an entry is ever served. 0 turns the cache off. Off in the test suite unless a test
# turns it on.
CIVILITY_READ_CACHE_SECONDS = _env_float("CIVILITY_READ_CACHE_SECONDS", 0.0 if _TESTING else 5.0)
# Each web process keeps its own copy of a hot entry and serves it without asking Redis for
# this long (never beyond the maximum age above): a cache hit then costs no round trip.
CIVILITY_READ_CACHE_LOCAL_SECONDS = _env_float(
    "CIVILITY_READ_CACHE_LOCAL_SECONDS", 0.0 if _TESTING else 0.25
)
# A site served under a path prefix (/ru/news/...) is matched too: the read cache runs before
# the sites middleware strips the prefix, and its key holds the whole path and the host.
CIVILITY_READ_CACHE_PATHS = [
    r"^(?:/[^/]+)?/api/articles$",
    r"^(?:/[^/]+)?/api/articles/[^/]+/comments$",
    r"^(?:/[^/]+)?/news/[^/]+/$",
    r"^(?:/[^/]+)?/news/[^/]+/discussion/$",
    r"^(?:/[^/]+)?/news/[^/]+/discussion/latest$",
    r"^(?:/[^/]+)?/embed/thread$",
]

# --- Health and metrics ----------------------------------------------------------------------
# Seconds each /healthz check may take before it counts as failed.
CIVILITY_HEALTH_TIMEOUT_SECONDS = 2.0
# Who may read /metrics: comma-separated client addresses; empty means anyone (put it behind
# the reverse proxy's allow-list in that case).
CIVILITY_METRICS_ALLOWED_IPS = [
    ip.strip() for ip in env_str("CIVILITY_METRICS_ALLOWED_IPS").split(",") if ip.strip()
]
# Seconds a 503 answered while the database is unreachable tells clients to wait.
CIVILITY_RETRY_AFTER_SECONDS = 5
