"""Redis stopped (cache and broker at once): with civility.ops.cache.ResilientRedisCache,
posting keeps working, each comment is decided (inline) once, and /healthz names the cache."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from civility.discussion import services
from civility.discussion.models import Comment, CommentStatus
from civility.moderation.models import AuditLog

CLEAN = "The talks on the peace treaty and the islands seem to be making slow progress."
DEAD_RESILIENT_CACHE = {
    "default": {
        "BACKEND": "civility.ops.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1},
    }
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_posting_and_reading_survive_a_redis_outage(
    broker_down: Any, reader: Any, article: Any, settings: Any
) -> None:
    raw, _token = services.issue_api_token(reader)
    settings.CIVILITY_RATE_POST = "10/60"  # the limiter runs (and fails open) as in production
    settings.CIVILITY_READ_CACHE_SECONDS = 1.0
    with override_settings(CACHES=DEAD_RESILIENT_CACHE):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        ids = []
        for n in range(3):
            response = client.post(
                f"/api/articles/{article.slug}/comments",
                {"text": f"{CLEAN} Outage {n}.", "client_token": f"outage-{n}"},
                content_type="application/json",
            )
            assert response.status_code == 201, response.content
            ids.append(response.json()["id"])
        listing = Client().get(f"/api/articles/{article.slug}/comments")
        assert listing.status_code == 200 and listing.json()["count"] == 3
        health = Client().get("/healthz")
        assert health.status_code == 503 and "cache" in health.json()["failed"]
    for comment_id in ids:
        assert Comment.objects.get(pk=comment_id).status == CommentStatus.PUBLISHED
        assert (
            AuditLog.objects.filter(
                action="comment.engine_decision", target_id=str(comment_id)
            ).count()
            == 1
        )


def test_resilient_cache_answers_as_an_empty_cache_while_redis_is_down() -> None:
    from django.core.cache import caches

    with override_settings(CACHES=DEAD_RESILIENT_CACHE):
        cache = caches["default"]
        assert cache.get("k", "default") == "default"
        assert cache.add("k", 1) is False
        cache.set("k", 1)
        assert cache.get_many(["k"]) == {}
        with pytest.raises(ValueError):
            cache.incr("k")
        assert cache.delete("k") is False


def test_resilient_cache_is_a_plain_redis_cache_when_redis_is_up() -> None:
    from tests.ops.conftest import redis_available, redis_url

    if not redis_available():
        pytest.skip("no Redis reachable (set CIVILITY_TEST_REDIS_URL)")
    from django.core.cache import caches

    live = {"default": {**DEAD_RESILIENT_CACHE["default"], "LOCATION": redis_url()}}
    with override_settings(CACHES=live):
        cache = caches["default"]
        cache.set("ops-resilient", 41)
        assert cache.incr("ops-resilient") == 42
        assert cache.get("ops-resilient") == 42
        cache.delete("ops-resilient")


def test_resilient_cache_keeps_one_redis_client_per_connection_pool() -> None:
    """Django builds a redis.Redis for every call; ours reuses one (no Redis needed)."""
    from civility.ops.cache import ResilientRedisCache

    cache = ResilientRedisCache("redis://127.0.0.1:1/0", {})
    client = cache._cache.get_client("k")
    assert cache._cache.get_client("other") is client
    assert cache._cache.get_client(write=True) is client  # one server: one pool
    assert client.connection_pool is cache._cache._get_connection_pool(False)
