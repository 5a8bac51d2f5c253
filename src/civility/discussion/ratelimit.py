"""Fixed-window rate limits in the Django cache (local memory, or Redis when configured).

A limit applies separately to the user and to the IP address: either one over the limit
refuses the action. The refusal says when to come back (:attr:`RateLimited.retry_after`),
and the latest one in this request or task is kept in :data:`last_retry_after`, so that a 429
from a view that only shows the message still gets an exact Retry-After header
(security/middleware.py).
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import ngettext

from civility.discussion.errors import RateLimited

# The limiters' clock (the suite pins it to the start of a window, so that a test's requests
# never straddle two windows).
clock = time.time

# Seconds until the last refused action may be tried again (None: nothing refused yet).
last_retry_after: ContextVar[int | None] = ContextVar("last_retry_after", default=None)


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/60"`` -> (10 actions, per 60 seconds)."""
    count, _, seconds = rate.partition("/")
    return int(count), int(seconds or 60)


def hit(scope: str, *, user: Any = None, ip: str | None = None, setting: str = "") -> None:
    """Count one action; raise :class:`RateLimited` when the user or the IP is over the limit."""
    rate = getattr(settings, setting or f"CIVILITY_RATE_{scope.upper()}", "")
    if not rate:
        return
    limit, window = parse_rate(rate)
    now = clock()
    bucket = int(now // window)
    identities = []
    if user is not None and getattr(user, "is_authenticated", False):
        identities.append(f"user:{user.pk}")
    if ip:
        identities.append(f"ip:{ip}")
    for identity in identities:
        key = f"ratelimit:{scope}:{identity}:{bucket}"
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=window + 5)
            count = 1
        if count > limit:
            # The counter is a fixed window: the next one starts at the next multiple.
            retry_after = max(1, window - int(now) % window)
            last_retry_after.set(retry_after)
            message = ngettext(
                "Too many attempts; please wait %(seconds)d second.",
                "Too many attempts; please wait %(seconds)d seconds.",
                retry_after,
            ) % {"seconds": retry_after}
            raise RateLimited(message, retry_after=retry_after)


def client_ip(request: Any) -> str:
    """The client's address. Behind a proxy, the proxy must set REMOTE_ADDR (e.g. gunicorn
    --forwarded-allow-ips); we don't trust X-Forwarded-For blindly."""
    return str(request.META.get("REMOTE_ADDR") or "")
