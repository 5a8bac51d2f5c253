"""Time the moderator queue pages on the scale database (benchmarks/scale_data.py, 1M comments).

    CIVILITY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civility_scale \\
    .venv/bin/python benchmarks/queue_pages.py [PATH ...]

For each page: the queries one request runs and their database time, then wall-clock p50/p95/max,
CPU p50/p95 and template rendering p50 over RUNS requests (default 30) through Django's test
client signed in as staff. Template rendering is not instrumented the way the test runner does
it (``setup_test_environment`` makes every template send a signal and the client copy its
context, which doubled the cost of a page of 25 cards). SHOW=1 prints every query with its
time. The deep pages are reached the way a moderator does: following "Next" (a cursor) from
the page before; ``?page=N`` alone is read with OFFSET. Issue 6 target: queue pages p95 <= 150 ms.
"""

from __future__ import annotations

import html
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

DEFAULT_PATHS = [
    "/moderation/queue/pending/",
    "/moderation/queue/pending/?page=2",
    "/moderation/queue/pending/?page=40",
    "next:/moderation/queue/pending/?page=39",  # page 40, through page 39's "Next" link
    "/moderation/queue/reported/",
    "/moderation/queue/rejected/",
    "/moderation/queue/approved/",
    "/moderation/queue/all/",
    "/moderation/queue/all/?page=10",
    "/moderation/queue/pending/?rule=insult",
    "/moderation/queue/rejected/?rule=insult",
    "/moderation/queue/all/?rule=threat&page=5",
]
NEXT = re.compile(r'<a href="\?([^"]*)" rel="next">')


def percentile_95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civility.config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.template.backends import django as django_backend
    from django.test import Client
    from django.test.utils import override_settings

    user_model = get_user_model()
    staff = user_model.objects.filter(is_staff=True).first()
    if staff is None:
        staff = user_model.objects.create_user(
            username="bench-staff", email="bench-staff@example.org", password="x", is_staff=True
        )
    client = Client()
    client.force_login(staff)
    runs = int(os.environ.get("RUNS", "30"))
    rendering = [0.0]
    render = django_backend.Template.render

    def timed_render(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return render(self, *args, **kwargs)
        finally:
            rendering[0] += time.perf_counter() - started

    django_backend.Template.render = timed_render  # type: ignore[method-assign]
    print(
        f"{'path':58} {'queries':>7} {'db ms':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        f" {'cpu p50':>8} {'cpu p95':>8} {'tmpl p50':>8}"
    )
    with override_settings(ALLOWED_HOSTS=["*"], CIVILITY_READ_CACHE_SECONDS=0):
        for label in sys.argv[1:] or DEFAULT_PATHS:
            path = label
            if label.startswith("next:"):
                page = client.get(label[5:]).content.decode()
                found = NEXT.search(page)
                if found is None:
                    raise SystemExit(f"{label}: no next link")
                path = label[5:].split("?", 1)[0] + "?" + html.unescape(found[1])
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
            templates: list[float] = []
            for _ in range(runs):
                rendering[0] = 0.0
                started, cpu_started = time.perf_counter(), time.process_time()
                client.get(path)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                templates.append(rendering[0] * 1000)
            database_ms = sum(ms for ms, _ in queries)
            print(
                f"{label[:58]:58} {len(queries):7d} {database_ms:6.1f}"
                f" {statistics.median(wall):8.1f} {percentile_95(wall):8.1f} {max(wall):8.1f}"
                f" {statistics.median(cpu):8.1f} {percentile_95(cpu):8.1f}"
                f" {statistics.median(templates):8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
