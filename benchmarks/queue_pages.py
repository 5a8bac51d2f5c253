"""Time the moderator queue pages on the scale database (benchmarks/scale_data.py, 1M comments).

    CIVILITY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civility_scale \\
    CIVILITY_ALLOWED_HOSTS=testserver .venv/bin/python benchmarks/queue_pages.py [PATH ...]

For each page: the queries one request runs and their database time, then wall-clock p50/p95/max
and CPU p50/p95 over RUNS requests (default 30) through Django's test client signed in as staff.
SHOW=1 prints every query with its time. Issue 6 target: queue pages p95 <= 150 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

DEFAULT_PATHS = [
    "/moderation/queue/pending/",
    "/moderation/queue/pending/?page=2",
    "/moderation/queue/pending/?page=40",
    "/moderation/queue/reported/",
    "/moderation/queue/rejected/",
    "/moderation/queue/approved/",
    "/moderation/queue/all/",
    "/moderation/queue/all/?page=10",
    "/moderation/queue/pending/?rule=insult",
]


def percentile_95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civility.config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    user_model = get_user_model()
    staff = user_model.objects.filter(is_staff=True).first()
    if staff is None:
        staff = user_model.objects.create_user(
            username="bench-staff", email="bench-staff@example.org", password="x", is_staff=True
        )
    client = Client()
    client.force_login(staff)
    runs = int(os.environ.get("RUNS", "30"))
    print(
        f"{'path':45} {'queries':>7} {'db ms':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        f" {'cpu p50':>8} {'cpu p95':>8}"
    )
    for path in sys.argv[1:] or DEFAULT_PATHS:
        client.get(path)  # warm the caches a real moderator's session would have
        queries: list[tuple[float, str]] = []

        def timed(
            execute: Callable[..., Any],
            sql: str,
            params: Any,
            many: bool,
            context: Any,
            queries: list[tuple[float, str]] = queries,
        ) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append(((time.perf_counter() - started) * 1000, sql))

        with connection.execute_wrapper(timed):
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        if os.environ.get("SHOW"):
            for ms, sql in queries:
                print(f"   {ms:7.1f} {sql[:160]}")
        wall: list[float] = []
        cpu: list[float] = []
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(path)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        database_ms = sum(ms for ms, _ in queries)
        print(
            f"{path:45} {len(queries):7d} {database_ms:6.1f} {statistics.median(wall):8.1f}"
            f" {percentile_95(wall):8.1f} {max(wall):8.1f} {statistics.median(cpu):8.1f}"
            f" {percentile_95(cpu):8.1f}"
        )


if __name__ == "__main__":
    main()
