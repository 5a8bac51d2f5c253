"""/healthz: 200 when the database, the cache and the broker answer; 503 naming the failure."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from tests.ops.conftest import DEAD_REDIS_CACHE, redis_available, redis_url


@pytest.mark.django_db
def test_healthy_instance_answers_200_with_every_check(settings: Any) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_without_a_broker_the_broker_check_says_tasks_run_inline(settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    body = Client().get("/healthz").json()
    assert body["checks"]["broker"]["ok"]
    assert "inline" in body["checks"]["broker"]["detail"]


@pytest.mark.django_db
def test_real_redis_broker_is_checked(settings: Any) -> None:
    if not redis_available():
        pytest.skip("no Redis reachable (set CIVILITY_TEST_REDIS_URL)")
    settings.CELERY_BROKER_URL = redis_url()
    body = Client().get("/healthz").json()
    assert body["checks"]["broker"]["ok"], body
    assert "redis" in body["checks"]["broker"]["detail"].lower()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//"])
def test_unreachable_broker_gives_503_naming_the_broker(settings: Any, url: str) -> None:
    settings.CELERY_BROKER_URL = url
    settings.CIVILITY_HEALTH_TIMEOUT_SECONDS = 1.0
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["broker"]
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
    assert body["checks"]["broker"]["detail"]  # the error, for whoever reads the probe
    assert response["Retry-After"].isdigit()


@pytest.mark.django_db
def test_unreachable_cache_gives_503_naming_the_cache(settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    # Restored inside the test: the suite's fixtures clear the real cache when the test ends.
    with override_settings(CACHES=DEAD_REDIS_CACHE):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


@pytest.mark.django_db
def test_healthz_refuses_writes() -> None:
    assert Client().post("/healthz").status_code == 405
