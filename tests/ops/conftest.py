"""Fixtures for the ops tests: the discussion app's named users and article, real services.

Redis and PostgreSQL are used when configured (CIVILITY_TEST_REDIS_URL / CIVILITY_REDIS_URL,
CIVILITY_TEST_DATABASE_URL); tests that need them skip otherwise, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.discussion.conftest import (  # noqa: F401  (fixtures shared with the discussion tests)
    _fresh_cache,
    article,
    lenient_policy,
    make_user,
    other_reader,
    reader,
    reader_client,
)

# A Redis cache nobody listens on (as if Redis were stopped).
DEAD_REDIS_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1},
    }
}


def redis_url() -> str:
    return (
        os.environ.get("CIVILITY_TEST_REDIS_URL")
        or os.environ.get("CIVILITY_REDIS_URL")
        or "redis://127.0.0.1:6379/15"
    )


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(redis_url(), socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def reset_celery_connections(app: Any) -> None:
    """Forget pooled broker connections so the next publish uses the broker URL now configured.

    (kombu keeps one producer pool per broker address; closing them would break later tests.)
    """
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_broker(settings: Any) -> Iterator[tuple[Any, str]]:
    """The Celery app publishing to a real Redis broker, on a queue private to this test."""
    if not redis_available():
        pytest.skip("no Redis reachable (set CIVILITY_TEST_REDIS_URL)")
    from civility.config.celery import app

    keys = ("task_always_eager", "broker_url", "task_default_queue")
    saved = {key: app.conf.get(key) for key in keys}
    queue = f"civility-ops-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_url()
    app.conf.update(task_always_eager=False, broker_url=redis_url(), task_default_queue=queue)
    reset_celery_connections(app)
    yield app, queue
    app.conf.update(**saved)
    reset_celery_connections(app)
    import redis

    client = redis.Redis.from_url(redis_url())
    client.delete(queue)
    client.close()


@pytest.fixture
def broker_down(settings: Any) -> Iterator[Any]:
    """The Celery app pointed at a broker nobody listens on (as if Redis were stopped)."""
    from civility.config.celery import app

    dead = "redis://127.0.0.1:1/0"
    keys = ("task_always_eager", "broker_url")
    saved = {key: app.conf.get(key) for key in keys}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = dead
    app.conf.update(task_always_eager=False, broker_url=dead)
    reset_celery_connections(app)
    yield app
    app.conf.update(**saved)
    reset_celery_connections(app)
