"""A short-lived shared cache for anonymous thread reads.

Under load most requests are readers fetching the same few threads. Rendering a thread of a
few hundred comments costs tens of milliseconds; serving it from Redis costs well under one.
The cache holds a rendered response for at most CIVILITY_READ_CACHE_SECONDS (1 s by
default), so a new, edited or removed comment is visible to everyone within that bound, without
the discussion app having to invalidate anything (bulk changes such as hiding every comment of
a deleted account included).

Only anonymous GETs of the paths in CIVILITY_READ_CACHE_PATHS are cached: a request with a
session cookie or an Authorization header always reaches the view (signed-in readers see their
own pending comments), and a response that sets a cookie or is not a plain 200 is never stored.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from civility.ops import metrics

logger = logging.getLogger(__name__)

CACHE_HEADER = "X-Civility-Cache"
# A cache hit never resolves the URL: the route the view had is kept with the entry, for metrics.
ROUTE_ATTRIBUTE = "_civility_route"
Entry = tuple[float, int, list[tuple[str, str]], bytes, str]


@lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def max_age() -> float:
    return float(getattr(settings, "CIVILITY_READ_CACHE_SECONDS", 0) or 0)


def is_cacheable_request(request: HttpRequest) -> bool:
    if request.method != "GET":
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
        return False
    patterns = tuple(getattr(settings, "CIVILITY_READ_CACHE_PATHS", ()))
    return bool(patterns) and _compiled(patterns).match(request.path_info) is not None


def is_cacheable_response(response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not getattr(response, "streaming", False)
        and not response.cookies
        and "private" not in response.get("Cache-Control", "")
    )


def cache_key(request: HttpRequest) -> str:
    # The page's language comes from Accept-Language or the language cookie (LocaleMiddleware).
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    accept = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    raw = "\n".join([request.get_full_path(), request.get_host(), language, accept])
    return "readcache:" + hashlib.sha1(raw.encode("utf-8")).hexdigest()


class ReadCache:
    """WSGI-level wrapper around the rest of the middleware chain (see MetricsMiddleware).

    An entry is stamped with the time its view started reading, and served only while younger
    than the maximum age, so what a reader sees is never older than that. Two things keep the
    entry warm without a stampede: in the second half of its life one request (the one that
    takes a short lock) renders a fresh copy while the others keep serving the current one;
    and when no entry is fresh, one request renders while the others wait for its result
    instead of rendering the same page in every process.
    """

    # How long a request waits for another process's rendering before rendering itself.
    WAIT_SECONDS = 3.0
    POLL_SECONDS = 0.01

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = max_age()
        if seconds <= 0 or not is_cacheable_request(request):
            return self.get_response(request)
        key = cache_key(request)
        entry = self._get(key)
        age = time.time() - entry[0] if entry is not None else None
        if entry is not None and age is not None and age <= seconds:
            if age <= seconds / 2 or not self._lock(key):
                return self._hit(request, entry)
            return self._render(request, key, seconds)  # refresh ahead, holding the lock
        if self._lock(key):
            return self._render(request, key, seconds)
        fresh = self._wait_for_fresh(key, seconds)
        if fresh is not None:
            return self._hit(request, fresh)
        return self._render(request, key, seconds, locked=False)

    def _render(
        self, request: HttpRequest, key: str, seconds: float, *, locked: bool = True
    ) -> HttpResponse:
        metrics.count_read_cache(hit=False)
        started = time.time()
        try:
            response = self.get_response(request)
            if is_cacheable_response(response):
                from civility.ops.middleware import route_of

                headers = [(k, v) for k, v in response.items() if k.lower() != "set-cookie"]
                stored: Entry = (
                    started,
                    response.status_code,
                    headers,
                    response.content,
                    route_of(request),
                )
                self._set(key, stored, seconds)
        finally:
            if locked:
                self._unlock(key)
        response[CACHE_HEADER] = "miss"
        return response

    def _wait_for_fresh(self, key: str, seconds: float) -> Entry | None:
        deadline = time.monotonic() + self.WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(self.POLL_SECONDS)
            entry = self._get(key)
            if entry is not None and time.time() - entry[0] <= seconds:
                return entry
            if not self._locked(key):  # the renderer gave up (error, uncacheable response)
                return None
        return None

    def _hit(self, request: HttpRequest, entry: Entry) -> HttpResponse:
        metrics.count_read_cache(hit=True)
        setattr(request, ROUTE_ATTRIBUTE, entry[4])
        _, status, headers, body, _route = entry
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        response[CACHE_HEADER] = "hit"
        return response

    @staticmethod
    def _lock(key: str) -> bool:
        try:
            return bool(cache.add(key + ":lock", 1, timeout=5))
        except Exception:
            return True  # no cache: every request renders for itself

    @staticmethod
    def _locked(key: str) -> bool:
        try:
            return cache.get(key + ":lock") is not None
        except Exception:
            return False

    @staticmethod
    def _unlock(key: str) -> None:
        try:
            cache.delete(key + ":lock")
        except Exception as exc:
            logger.warning("read cache unavailable: %s", exc)

    @staticmethod
    def _get(key: str) -> Entry | None:
        try:
            return cache.get(key)  # type: ignore[no-any-return]
        except Exception as exc:  # a cache outage must not take reads down with it
            logger.warning("read cache unavailable: %s", exc)
            return None

    @staticmethod
    def _set(key: str, entry: Entry, seconds: float) -> None:
        try:
            # Redis counts whole seconds; the stored timestamp enforces the exact bound.
            cache.set(key, entry, timeout=math.ceil(seconds) + 1)
        except Exception as exc:
            logger.warning("read cache unavailable: %s", exc)
