"""Settings contributed by the moderation app (imported at the end of config/settings.py)."""

from civility.discussion.conf import env_int_or

# Automatic pre-moderation: an author whose share of rejected comments among their last
# CIVILITY_PREMOD_WINDOW decided comments reaches this rate (with at least
# CIVILITY_PREMOD_MIN_COMMENTS of them) has every new comment held for review.
CIVILITY_PREMOD_REJECTION_RATE = float(env_int_or("CIVILITY_PREMOD_REJECTION_PERCENT", 50)) / 100
CIVILITY_PREMOD_WINDOW = env_int_or("CIVILITY_PREMOD_WINDOW", 20)
CIVILITY_PREMOD_MIN_COMMENTS = env_int_or("CIVILITY_PREMOD_MIN_COMMENTS", 4)
# A comment still waiting for the engine after this many seconds is decided by the sweeper.
CIVILITY_STALE_PENDING_SECONDS = env_int_or("CIVILITY_STALE_PENDING_SECONDS", 120)
# Rate limits, "count/seconds", per user and per IP address.
CIVILITY_RATE_CONTACT = "3/3600"
CIVILITY_RATE_UNLOCK = "3/3600"
# Minimum length of the explanation in an unlock request.
CIVILITY_UNLOCK_MIN_EXPLANATION = 30
# Queue sizes above this are shown as "10000+": counting a million comments on every page
# costs more than the figure is worth (the dashboard counts exactly).
CIVILITY_QUEUE_COUNT_CAP = 10_000
# A reader may ask for a review of a removed comment for this many days after the removal (the
# EU's Digital Services Act asks for at least six months), explaining in at least
# CIVILITY_REVIEW_MIN_EXPLANATION characters why the comment keeps to the standards.
CIVILITY_REVIEW_REQUEST_DAYS = 183
CIVILITY_REVIEW_MIN_EXPLANATION = 20
CIVILITY_REVIEW_MAX_EXPLANATION = 2000
CIVILITY_RATE_REVIEW = "10/3600"
