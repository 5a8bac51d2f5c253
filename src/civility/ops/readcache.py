"""A short-lived shared cache for anonymous thread reads.

Under load most requests are readers fetching the same few threads. Rendering a thread of a
few hundred comments costs tens of milliseconds; serving it from Redis costs well under one.
The cache holds a rendered response for at most CIVILITY_READ_CACHE_SECONDS (5 s by default).
A saved comment marks its thread changed (:func:`note_comment_saved`, connected in ops.apps;
again when its transaction commits), and an entry rendered before the mark is not served: a
new, edited or removed comment shows at the next request of the process that saved it, and
within CIVILITY_READ_CACHE_LOCAL_SECONDS (0.25 s) everywhere else. Bulk changes that save no comment (every comment of a deleted account
hidden) show within the maximum age. Why not simply a 1 s maximum age: rendering a busy thread
takes long enough on a loaded host that entries stamped at the start of their rendering would
expire as they are stored, and every reader would render.

Only anonymous GETs of the paths in CIVILITY_READ_CACHE_PATHS are cached: a request with a
session cookie or an Authorization header always reaches the view (signed-in readers see their
own pending comments), and a response that sets a cookie or is not a plain 200 is never stored.

:class:`FastLane` (wrapped around the WSGI application by deploy/gunicorn.conf.py) serves the
process's own copies before Django builds a request: a hit then costs a dictionary look-up
instead of the request/response cycle, which on a hot thread was most of a read's cost.

Each entry keeps its body gzipped as well, compressed once when it is stored: a reader whose
client sends ``Accept-Encoding: gzip`` (every browser) gets the compressed copy, a seventh of
the bytes of a 200-comment section. Sending 173 kB cost a web process more than the look-up
did, and a page larger than the socket buffers held the process until the client had read
most of it. The cached pages are anonymous (no CSRF token, no session, nothing personal),
so compressing them leaks nothing through their length (BREACH).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache, partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from civility.ops import metrics

logger = logging.getLogger(__name__)

CACHE_HEADER = "X-Civility-Cache"
# A cache hit never resolves the URL: the route the view had is kept with the entry, for metrics.
ROUTE_ATTRIBUTE = "_civility_route"
# (stamp, status, headers, body, route, gzip headers, gzipped body or b"" when not worth it)
Entry = tuple[float, int, list[tuple[str, str]], bytes, str, list[tuple[str, str]], bytes]
ENTRY_FIELDS = 7
# Bodies smaller than this are sent as they are (gzip's header and a round trip outweigh it).
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6
COMPRESSIBLE = ("text/", "application/json", "application/javascript")
CHANGED_PREFIX = "readcache:changed:"
# Paths of one article's thread: the article page, its comment section, the JSON listing.
# (A path-prefix site's paths start with its prefix: the sites middleware runs later.)
_ARTICLE_PATH = re.compile(r"^(?:/[^/]+)?/(?:news|api/articles)/(?P<slug>[^/]+)/")
_EMBED_PATH = re.compile(r"^(?:/[^/]+)?/embed/thread$")


@lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def max_age() -> float:
    return float(getattr(settings, "CIVILITY_READ_CACHE_SECONDS", 0) or 0)


@lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header admits gzip (``gzip;q=0`` refuses it)."""
    for part in accept_encoding.split(","):
        name, _, parameters = part.partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip"):
            continue
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def build_entry(
    stamp: float, status: int, headers: list[tuple[str, str]], body: bytes, route: str
) -> Entry:
    """An entry with its gzipped copy (``headers`` already vary on Accept-Encoding)."""
    names = {name.lower(): value for name, value in headers}
    compressed = b""
    if (
        len(body) >= GZIP_MIN_BYTES
        and "content-encoding" not in names
        and names.get("content-type", "").startswith(COMPRESSIBLE)
    ):
        compressed = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        if len(compressed) >= len(body):
            compressed = b""
    gzip_headers: list[tuple[str, str]] = []
    if compressed:
        gzip_headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        gzip_headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(compressed)))]
    return (stamp, status, headers, body, route, gzip_headers, compressed)


def variant(entry: Entry, accept_encoding: str) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body to send a client with this Accept-Encoding."""
    if entry[6] and accepts_gzip(accept_encoding):
        return entry[5], entry[6]
    return entry[2], entry[3]


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


def thread_key_of(request: HttpRequest) -> str:
    """The key of the thread a cacheable path shows (as ``Thread.key`` builds it), or ""."""
    from civility.discussion.context import thread_key

    match = _ARTICLE_PATH.match(request.path_info)
    if match is not None:
        return thread_key(match.group("slug"), None)
    if _EMBED_PATH.match(request.path_info) and request.GET.get("url"):
        from civility.discussion.embed import canonicalise

        return thread_key(None, canonicalise(request.GET["url"]))
    return ""


def changed_key(thread: str) -> str:
    return CHANGED_PREFIX + hashlib.sha1(thread.encode("utf-8")).hexdigest()


# thread id -> its key: a thread never changes article or URL, so each process asks once.
_thread_keys: dict[int, str] = {}


def _thread_key_for_id(thread_id: int) -> str:
    key = _thread_keys.get(thread_id)
    if key is None:
        from civility.discussion.context import thread_key
        from civility.discussion.models import Thread

        row = Thread.objects.filter(pk=thread_id).values_list("article__slug", "canonical_url")
        slug, url = row.first() or (None, None)
        key = thread_key(slug, url)
        if len(_thread_keys) > 10_000:
            _thread_keys.clear()
        _thread_keys[thread_id] = key
    return key


# The process's own copies of recent entries: cache key -> (when Redis last vouched for it,
# entry). A copy is served without asking Redis for CIVILITY_READ_CACHE_LOCAL_SECONDS (a
# fraction of a second) and never once the entry is older than the maximum age, so the bound
# above holds; what it saves on a hot thread is a Redis round trip carrying the whole page.
_local: dict[str, tuple[float, Entry]] = {}
LOCAL_ENTRIES = 256


def local_seconds() -> float:
    return float(getattr(settings, "CIVILITY_READ_CACHE_LOCAL_SECONDS", 0) or 0)


def _local_entry(key: str, seconds: float) -> Entry | None:
    kept = _local.get(key)
    if kept is None:
        return None
    now = time.time()
    vouched, entry = kept
    if now - vouched <= min(local_seconds(), seconds) and now - entry[0] <= seconds:
        return entry
    return None


def _keep_local(key: str, entry: Entry) -> None:
    if local_seconds() <= 0:
        return
    if len(_local) >= LOCAL_ENTRIES:
        _local.clear()
    _local[key] = (time.time(), entry)


def forget_local() -> None:
    """Drop this process's copies (a comment saved here; tests that play another process)."""
    _local.clear()


# The raw WSGI facts of a request -> its cache key. Learnt by :class:`ReadCache`, which checks
# the request (method, cookies, host, path) and builds the key; :class:`FastLane` serves only
# requests whose facts were learnt, so it takes no decision the full check did not take.
# Any cookie at all, the scheme and the forwarding headers are part of the facts.
_RAW_FACTS = (
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "HTTP_HOST",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_COOKIE",
    "HTTP_ACCEPT_LANGUAGE",
    "wsgi.url_scheme",
)
_raw_keys: dict[tuple[str, ...], str] = {}
RAW_KEYS = 4096


def _raw_facts(environ: Any) -> tuple[str, ...]:
    return tuple(str(environ.get(name, "")) for name in _RAW_FACTS)


def _learn(environ: Any, key: str) -> None:
    if len(_raw_keys) >= RAW_KEYS:
        _raw_keys.clear()
    _raw_keys[_raw_facts(environ)] = key


def note_comment_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """post_save / post_delete of a comment: its thread's cached pages and total are stale.

    A pending comment shows to nobody but its author (who is never served from the cache), so
    posting one costs nothing here, and neither does a save that keeps it pending (the engine
    or a moderator holding it, its verdict written): on a busy article each such save used to
    send the next readers of the whole thread to render it again. The decision that publishes
    it marks the thread.

    Nor does a new recommendation count (a save of that column alone): on a busy article
    readers recommend many times a second, and each would empty the thread's cached pages;
    the count a signed-out reader sees is at most the cache's age behind.
    """
    from civility.discussion.models import CommentStatus

    status = instance.__dict__.get("status")  # never a query for a deferred field
    was = getattr(instance, "status_as_saved", None)
    instance.status_as_saved = status
    if status == CommentStatus.PENDING and (created or was == CommentStatus.PENDING):
        return
    if set(kwargs.get("update_fields") or ()) == {"recommendations"}:
        return
    thread_id = int(instance.thread_id)
    batch = _batched_threads.get()
    if batch is not None:
        batch.add((thread_id, kwargs.get("using") or "default"))
        return
    _mark_now_and_at_commit(thread_id, kwargs.get("using") or "default")


def _mark_now_and_at_commit(thread_id: int, using: str) -> None:
    _mark_thread_changed(thread_id)
    # A reader in another process may render between this mark and the commit: it reads the
    # rows as they were, and its entry, stamped after the mark, would look fresh for the
    # maximum age. Marking again once the change is visible leaves no such window.
    connection = transaction.get_connection(using)
    if connection.in_atomic_block:
        transaction.on_commit(
            partial(_mark_thread_changed, thread_id), using=connection.alias, robust=True
        )


def note_thread_changed(thread_id: int, using: str = "default") -> None:
    """A change to the thread itself (closed, its notice): its cached pages are stale."""
    _mark_now_and_at_commit(thread_id, using)


# The threads whose comments a batch saved, while one_mark_per_thread() is open.
_batched_threads: ContextVar[set[tuple[int, str]] | None] = ContextVar(
    "civility_readcache_batched_threads", default=None
)


@contextmanager
def one_mark_per_thread() -> Iterator[None]:
    """Within it, a saved comment only notes its thread; on leaving, each noted thread is
    marked once (now, and again at commit), where a batch of 200 decisions in one thread made
    400 round trips to the cache (about 0.9 ms a comment of a worker's time)."""
    token = _batched_threads.set(set())
    try:
        yield
    finally:
        threads = _batched_threads.get() or set()
        _batched_threads.reset(token)
        for thread_id, using in sorted(threads):
            _mark_now_and_at_commit(thread_id, using)


def _mark_thread_changed(thread_id: int) -> None:
    """Stamp the thread changed now and drop its cached pages and total."""
    from civility.discussion.selectors import thread_cache_keys

    forget_local()
    try:
        thread = _thread_key_for_id(thread_id)
        cache.set(changed_key(thread), time.time(), timeout=math.ceil(max(max_age(), 1)) + 5)
        cache.delete_many(thread_cache_keys(thread_id))
    except Exception as exc:  # the cache is down: entries expire within their bound anyway
        logger.warning("read cache unavailable: %s", exc)


class ReadCache:
    """WSGI-level wrapper around the rest of the middleware chain (see MetricsMiddleware).

    An entry is stamped with the time its view started reading, and served only while younger
    than the maximum age, so what a reader sees is never older than that. Two things keep the
    entry warm without a stampede: in the second half of its life one request (the one that
    takes a short lock) renders a fresh copy while the others keep serving the current one;
    when the thread has just changed, one request renders while the others are served the
    page as it was for up to STALE_SECONDS ("stale"); and when no entry is usable, one
    request renders while the others wait for its result instead of rendering the same page
    in every process.
    """

    # How long a request waits for another process's rendering before rendering itself.
    WAIT_SECONDS = 3.0
    # After a thread changes, one request renders its page again; for this long the others
    # are served the page as it was instead of waiting (a new comment still shows within a
    # second). On an article that gets comments as fast as it is read, each publication used
    # to hold every reader of the thread until the render was done, under load for hundreds
    # of milliseconds.
    STALE_SECONDS = 0.5
    POLL_SECONDS = 0.01

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = max_age()
        if seconds <= 0 or not is_cacheable_request(request):
            return self.get_response(request)
        key = cache_key(request)
        _learn(request.META, key)
        local = _local_entry(key, seconds)
        if local is not None:
            return self._hit(request, local)
        stamp_key = changed_key(thread_key_of(request))
        entry, changed = self._get(key, stamp_key)
        if entry is not None and self._fresh(entry, changed, seconds):
            age = time.time() - entry[0]
            if age <= seconds / 2 or not self._lock(key):
                _keep_local(key, entry)
                return self._hit(request, entry)
            return self._render(request, key, seconds)  # refresh ahead, holding the lock
        if self._lock(key):
            return self._render(request, key, seconds)
        if entry is not None and self._just_changed(entry, changed, seconds):
            return self._hit(request, entry, state="stale")
        fresh = self._wait_for_fresh(key, stamp_key, seconds)
        if fresh is not None:
            return self._hit(request, fresh)
        return self._render(request, key, seconds, locked=False)

    @classmethod
    def _just_changed(cls, entry: Entry, changed: float | None, seconds: float) -> bool:
        """Young enough, and stale only because its thread changed less than STALE_SECONDS
        ago: served while another request renders the new page."""
        now = time.time()
        return (
            now - entry[0] <= seconds and changed is not None and now - changed <= cls.STALE_SECONDS
        )

    @staticmethod
    def _fresh(entry: Entry, changed: float | None, seconds: float) -> bool:
        """Young enough, and rendered after the thread last changed."""
        return time.time() - entry[0] <= seconds and (changed is None or entry[0] > changed)

    def _render(
        self, request: HttpRequest, key: str, seconds: float, *, locked: bool = True
    ) -> HttpResponse:
        metrics.count_read_cache(hit=False)
        started = time.time()
        try:
            response = self.get_response(request)
            if is_cacheable_response(response):
                from civility.ops.middleware import route_of

                # One entry serves both encodings: caches on the way must keep them apart.
                patch_vary_headers(response, ["Accept-Encoding"])
                headers = [(k, v) for k, v in response.items() if k.lower() != "set-cookie"]
                stored = build_entry(
                    started, response.status_code, headers, response.content, route_of(request)
                )
                self._set(key, stored, seconds)
                _keep_local(key, stored)
        finally:
            if locked:
                self._unlock(key)
        response[CACHE_HEADER] = "miss"
        return response

    def _wait_for_fresh(self, key: str, stamp_key: str, seconds: float) -> Entry | None:
        deadline = time.monotonic() + self.WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(self.POLL_SECONDS)
            entry, changed = self._get(key, stamp_key)
            if entry is not None and self._fresh(entry, changed, seconds):
                return entry
            if not self._locked(key):  # the renderer gave up (error, uncacheable response)
                return None
        return None

    def _hit(self, request: HttpRequest, entry: Entry, *, state: str = "hit") -> HttpResponse:
        metrics.count_read_cache(hit=True)
        setattr(request, ROUTE_ATTRIBUTE, entry[4])
        headers, body = variant(entry, request.META.get("HTTP_ACCEPT_ENCODING", ""))
        response = HttpResponse(body, status=entry[1])
        for name, value in headers:
            response[name] = value
        response[CACHE_HEADER] = state
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
    def _get(key: str, stamp_key: str) -> tuple[Entry | None, float | None]:
        """The entry and its thread's last change, in one round trip."""
        try:
            found = cache.get_many([key, stamp_key])
        except Exception as exc:  # a cache outage must not take reads down with it
            logger.warning("read cache unavailable: %s", exc)
            return None, None
        changed = found.get(stamp_key)
        entry = found.get(key)
        if not (isinstance(entry, tuple) and len(entry) == ENTRY_FIELDS):
            entry = None  # absent, or stored by an older release in another shape
        return entry, float(changed) if isinstance(changed, (int, float)) else None

    @staticmethod
    def _set(key: str, entry: Entry, seconds: float) -> None:
        try:
            # Redis counts whole seconds; the stored timestamp enforces the exact bound.
            cache.set(key, entry, timeout=math.ceil(seconds) + 1)
        except Exception as exc:
            logger.warning("read cache unavailable: %s", exc)


class FastLane:
    """WSGI wrapper: answers a read from this process's own copy of its page (see
    :func:`_local_entry`: vouched for by Redis within CIVILITY_READ_CACHE_LOCAL_SECONDS and
    younger than the maximum age) before Django sees the request; anything else goes on to the
    application, where :class:`ReadCache` decides as before. Counts the hit and the request in
    the metrics as MetricsMiddleware would."""

    def __init__(self, application: Callable[..., Any]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        if environ.get("REQUEST_METHOD") == "GET" and "HTTP_AUTHORIZATION" not in environ:
            key = _raw_keys.get(_raw_facts(environ))
            if key is not None:
                seconds = max_age()
                entry = _local_entry(key, seconds) if seconds > 0 else None
                if entry is not None:
                    return self._serve(entry, environ, start_response, started)
        return self.application(environ, start_response)

    @staticmethod
    def _serve(
        entry: Entry,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        started: float,
    ) -> list[bytes]:
        status, route = entry[1], entry[4]
        headers, body = variant(entry, environ.get("HTTP_ACCEPT_ENCODING", ""))
        start_response(f"{status} {_reason(status)}", [*headers, (CACHE_HEADER, "hit")])
        metrics.count_read_cache(hit=True)
        metrics.observe_request("GET", route, status, time.perf_counter() - started)
        return [body]


@lru_cache(maxsize=16)
def _reason(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


def fast_lane(application: Callable[..., Any]) -> Callable[..., Any]:
    """``application`` behind a :class:`FastLane` (once)."""
    if isinstance(application, FastLane):
        return application
    return FastLane(application)
