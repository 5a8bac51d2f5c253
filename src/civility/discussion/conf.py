"""Settings contributed by the discussion app (imported at the end of config/settings.py)."""

from civility.config.env import env_list, env_str


def env_int_or(name: str, default: int) -> int:
    """An integer from the environment, or ``default`` when unset (a bad value is an error)."""
    value = env_str(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, not {value!r}") from exc


# How deep replies nest on the article page before a "continue this thread" link.
CIVILITY_THREAD_MAX_DEPTH = env_int_or("CIVILITY_THREAD_MAX_DEPTH", 4)
# Top-level comments per page on the article page and in the API.
CIVILITY_COMMENTS_PER_PAGE = env_int_or("CIVILITY_COMMENTS_PER_PAGE", 50)
# Hard cap on a comment's length, in characters (the policy's max_length applies too).
CIVILITY_COMMENT_MAX_LENGTH = env_int_or("CIVILITY_COMMENT_MAX_LENGTH", 5000)
# Rendered comments each web process keeps (discussion/fragments.py), in characters of
# markup: about 8 MB, some 80 pages of a busy 200-comment thread. 0 renders every time.
CIVILITY_COMMENT_CACHE_CHARS = env_int_or("CIVILITY_COMMENT_CACHE_CHARS", 8_000_000)
# How often an open article page asks whether new comments were published (thread.js; the
# answer comes from the read cache, and a hidden tab does not ask). 0 turns it off.
CIVILITY_LIVE_UPDATE_SECONDS = 30
# Authors may edit their own comment for this long after posting.
CIVILITY_EDIT_WINDOW_SECONDS = env_int_or("CIVILITY_EDIT_WINDOW_SECONDS", 300)
# Origins (scheme://host[:port]) whose pages may embed a thread with /embed.js.
CIVILITY_EMBED_ORIGINS = env_list("CIVILITY_EMBED_ORIGINS", "")
# Rate limits, "count/seconds", applied per user and per IP address.
CIVILITY_RATE_POST = "10/60"
CIVILITY_RATE_REPORT = "20/3600"
CIVILITY_RATE_RECOMMEND = "60/60"
CIVILITY_RATE_TOKEN = "10/300"
# Share clicks counted per address (the counter takes posts without a CSRF token).
CIVILITY_RATE_SHARE = "30/60"
# API bearer tokens expire after this many days (0: never).
CIVILITY_API_TOKEN_DAYS = env_int_or("CIVILITY_API_TOKEN_DAYS", 90)

# With a broker, Celery beat sweeps comments a lost task left undecided (see services.py).
CELERY_BEAT_SCHEDULE = {
    "civility-moderate-stale-pending": {
        "task": "civility.discussion.moderate_stale_pending",
        "schedule": 60.0,
    },
}
