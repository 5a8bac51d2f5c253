"""Health checks behind /healthz: the database, the cache and the broker.

Each check either returns a short detail or raises; a check that raises (or takes longer than
CIVILITY_HEALTH_TIMEOUT_SECONDS) marks the service unhealthy. A load balancer takes an instance
out of rotation on 503 and reads which part failed from the JSON body.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    milliseconds: float
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "ms": round(self.milliseconds, 2), "detail": self.detail}


def check_database() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return str(connection.vendor)


def check_cache() -> str:
    from django.core.cache import cache

    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    if value != "ok":
        raise RuntimeError("the cache did not return the value just written")
    return str(settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1])


def check_broker() -> str:
    """Connect to the Celery broker. Without one, tasks run inline: nothing to check."""
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if not url:
        return "none configured: tasks run inline"
    from kombu import Connection

    timeout = float(settings.CIVILITY_HEALTH_TIMEOUT_SECONDS)
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    with Connection(url, connect_timeout=timeout, transport_options=options) as connection:
        connection.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=timeout
        )
        # Redis connects lazily: opening a channel makes it talk to the server.
        channel = connection.default_channel
        client = getattr(channel, "client", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()
        return str(connection.transport_cls)


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail, ok = check(), True
        except Exception as exc:  # any failure is reported, none escapes
            detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
        results.append(CheckResult(name, ok, (time.perf_counter() - started) * 1000, detail))
    return results
