"""Fixed-window rate limits in the Django cache (local memory, or Redis when configured).

A limit applies separately to the user and to the IP address: either one over the limit
refuses the action.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from civility.discussion.errors import RateLimited


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
    bucket = int(time.time() // window)
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
            raise RateLimited(
                f"Too many attempts; please wait {window - int(time.time()) % window} seconds."
            )


def client_ip(request: Any) -> str:
    """The client's address. Behind a proxy, the proxy must set REMOTE_ADDR (e.g. gunicorn
    --forwarded-allow-ips); we don't trust X-Forwarded-For blindly."""
    return str(request.META.get("REMOTE_ADDR") or "")
