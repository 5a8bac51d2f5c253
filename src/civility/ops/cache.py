"""A Redis cache backend that degrades to "no cache" while Redis is unreachable.

Django's RedisCache raises on a lost connection, so a Redis outage would fail every request
that touches the cache: posting (rate-limit counters), signing in (allauth's limits), the
read cache. Redis holds nothing here that cannot be rebuilt (sessions are cached_db: the
database keeps them), so during an outage this backend answers as an empty cache that
forgets what it is given: reads miss, writes are dropped, counters start from one (rate limits
fail open for the outage), and a warning is logged once per failing call. Use it with

    CACHES = {"default": {"BACKEND": "civility.ops.cache.ResilientRedisCache", ...}}

It also keeps one ``redis.Redis`` client per connection pool: Django's builds a new one for
every operation, and each copies redis-py's 170 response callbacks into a fresh dictionary
(about a quarter of a millisecond of CPU per cache call, half of a small GET's cost).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _warn(operation: str, exc: BaseException) -> None:
    logger.warning("cache %s skipped, Redis unavailable: %s", operation, exc)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client, with one ``redis.Redis`` per connection pool instead of one per call
    (a ``redis.Redis`` takes a connection from its pool for each command, so sharing it is
    safe; the pools themselves are Django's, one per server)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django_client: Any = self  # Django's private helpers (untyped in django-stubs)
        index = django_client._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = django_client._get_connection_pool(write)
            client = django_client._client(connection_pool=pool)
            self._clients[index] = client
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        try:
            return bool(super().add(key, value, timeout, version))
        except UNAVAILABLE as exc:
            _warn("add", exc)
            return False

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as exc:
            _warn("get", exc)
            return default

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNAVAILABLE as exc:
            _warn("set", exc)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        try:
            return bool(super().touch(key, timeout, version))
        except UNAVAILABLE as exc:
            _warn("touch", exc)
            return False

    def delete(self, key: Any, version: Any = None) -> bool:
        try:
            return bool(super().delete(key, version))
        except UNAVAILABLE as exc:
            _warn("delete", exc)
            return False

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        try:
            return dict(super().get_many(keys, version))
        except UNAVAILABLE as exc:
            _warn("get_many", exc)
            return {}

    def has_key(self, key: Any, version: Any = None) -> bool:
        try:
            return bool(super().has_key(key, version))
        except UNAVAILABLE as exc:
            _warn("has_key", exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        try:
            return int(super().incr(key, delta, version))
        except UNAVAILABLE as exc:
            _warn("incr", exc)
            # What Django raises for a missing key: callers then start a new counter.
            raise ValueError(f"Key {key!r} not found (Redis unavailable)") from exc

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        try:
            return list(super().set_many(data, timeout, version))
        except UNAVAILABLE as exc:
            _warn("set_many", exc)
            return list(data)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        try:
            super().delete_many(keys, version)
        except UNAVAILABLE as exc:
            _warn("delete_many", exc)

    def clear(self) -> None:
        try:
            super().clear()
        except UNAVAILABLE as exc:
            _warn("clear", exc)


def forget(key: str) -> None:
    """Drop the cached entry ``key``. A cache that cannot be reached is logged, not raised:
    the caller's change must not fail for it, and the entry expires by its own timeout."""
    from django.core.cache import cache

    try:
        cache.delete(key)
    except Exception:
        logger.warning("could not drop the cached entry %s", key, exc_info=True)


def forget_now_and_at_commit(key: str) -> None:
    """Drop ``key`` now and again when the transaction commits: a reader that read the old
    rows in between would otherwise cache them again for the entry's whole timeout."""
    forget(key)
    transaction.on_commit(partial(forget, key))
