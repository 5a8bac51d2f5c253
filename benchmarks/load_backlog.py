"""Backlog benchmark: how fast Celery workers decide a backlog of pending comments.

    python benchmarks/load_backlog.py --comments 20000 --workers 2
    python benchmarks/load_backlog.py --comments 2000 --batch-size 0   # one task per comment

Fills PostgreSQL (dropped and re-created) with --comments comments awaiting the engine, queues
them on Redis as batch tasks of --batch-size comments (what the sweeper queues; 0: one task per
comment, as posting does), starts --workers ``civility worker`` processes (one process each)
and times until every comment is decided. Reports comments per second,
the time 100k would take at that rate, and checks that none was decided twice.
Results: benchmarks/out/backlog/summary.json (figures copied to benchmarks/LOAD.md).

    python benchmarks/load_backlog.py --comments 2000 --in-process

decides the same backlog in this one process, no worker, and reports where a comment's time
goes (the engine, its recent-comments reads, the decision's writes): benchmarks/out/backlog/
split.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "backlog"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (  # noqa: E402
    cpu_seconds,
    flush_redis,
    recreate_database,
    start,
    stop,
    thread_comments,
)


def seed(count: int, batch_size: int) -> None:
    """Runs with Django configured: an article and ``count`` comments awaiting the engine."""
    import django

    django.setup()
    from civility.accounts.commands.createuser import create_user
    from civility.discussion.models import Comment
    from civility.discussion.services import thread_for_article
    from civility.discussion.tasks import moderate_comment_task, queue_batches
    from civility.news.models import Article

    article = Article.objects.create(
        slug="backlog",
        headline="Talks on the treaty resume after the summit",
        lead="Ministers met on Monday.",
        body="<p>The ministers met on Monday to resume talks on the treaty.</p>",
    )
    thread = thread_for_article(article)
    authors = [create_user(f"author{n}@backlog.example", "backlog-password") for n in range(50)]
    texts = [text for text, _parent, _author in thread_comments(200)]
    comments = Comment.objects.bulk_create(
        Comment(thread=thread, author=authors[n % len(authors)], text=f"{texts[n % 200]} ({n})")
        for n in range(count)
    )
    if batch_size > 0:
        queue_batches([c.pk for c in comments], batch_size)
    else:
        for comment in comments:
            moderate_comment_task.delay(comment.pk)
    print(json.dumps({"queued": len(comments), "progress": progress_queries()}))


def progress_queries() -> dict[str, tuple[str, tuple[Any, ...]]]:
    """Runs with Django configured: the SQL (and parameters) that count the comments still
    waiting and the comments decided twice. The poller runs them over one plain connection:
    a Django process started for every poll cost about a second of CPU, a tenth of what two
    workers had, every five seconds."""
    from django.db.models import Count

    from civility.discussion.models import Comment, CommentStatus, HoldReason
    from civility.moderation.models import AuditLog

    waiting = Comment.objects.filter(
        status=CommentStatus.PENDING, hold_reason=HoldReason.AWAITING_ENGINE
    ).values("pk")
    twice = (
        AuditLog.objects.filter(action="comment.engine_decision")
        .values("target_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    queries = {}
    for name, queryset in (("waiting", waiting), ("decided_twice", twice)):
        sql, params = queryset.query.sql_with_params()
        queries[name] = (f"SELECT count(*) FROM ({sql}) AS counted", tuple(params))
    return queries


class Progress:
    """The waiting and decided-twice counts, over one connection kept for the whole run."""

    def __init__(self, database_url: str, queries: dict[str, Any]) -> None:
        import psycopg

        self.connection = psycopg.connect(database_url, autocommit=True)
        self.queries = queries

    def __call__(self) -> dict[str, int]:
        counts = {}
        for name, (sql, params) in self.queries.items():
            row = self.connection.execute(sql, params).fetchone()
            counts[name] = int(row[0]) if row else 0
        return counts

    def close(self) -> None:
        self.connection.close()


def django_json(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def engine_seconds(metrics_dir: Path) -> float:
    """The full engine's time summed over the workers (civility_engine_check_seconds)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir))
    total = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == "civility_engine_check_seconds_sum":
                total += sample.value
    return total


def split(batch_size: int) -> None:
    """Runs with Django configured, in one process and no worker: decide the seeded backlog
    by calling ``tasks.moderate_batch`` batch after batch, as a worker's task does, and time
    where each comment's time goes (wall time around the calls; CPU of this process and of
    its PostgreSQL backend)."""
    import resource

    import django

    django.setup()
    from collections import defaultdict
    from collections.abc import Callable

    from django.db import connection
    from django.db.models import Count

    from civility.discussion import services, tasks
    from civility.discussion.models import Comment
    from civility.ops import readcache
    from civility.ops.worker_hooks import warm_engine
    from civility.standards.engine import Engine

    seconds: dict[str, float] = defaultdict(float)

    def timed(owner: Any, name: str, part: str) -> None:
        inner: Callable[..., Any] | None = getattr(owner, name, None)
        if inner is None:  # renamed since: that part goes untimed
            return

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                seconds[part] += time.perf_counter() - started

        setattr(owner, name, wrapper)

    warm_engine()
    from civility.discussion.engine import current_engines

    engine = current_engines().full
    engine.timings = {}  # the engine's own clock: its parts, detector by detector
    # Nested parts: "engine" holds "engine: recent comments"; "apply" holds the others.
    timed(Engine, "check_many", "engine")
    timed(tasks.BatchContext, "recent_comments", "engine: recent comments (database)")
    timed(services, "apply_engine_verdicts", "apply")
    timed(services, "_write_decisions", "apply: decision rows")
    timed(readcache, "_mark_thread_changed", "apply: read cache marks")
    timed(services, "_refresh_auto_premoderation", "apply: pre-moderation refresh")
    ids = list(Comment.objects.order_by("created_at", "id").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = int(cursor.fetchone()[0])

    def backend_cpu() -> float:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def own_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    cpu, database_cpu, started = own_cpu(), backend_cpu(), time.perf_counter()
    decided = sum(tasks.moderate_batch(batch) for batch in tasks.batches(ids, batch_size))
    wall = time.perf_counter() - started
    cpu, database_cpu = own_cpu() - cpu, backend_cpu() - database_cpu
    per = 1000 / max(decided, 1)
    parts = {part: round(value * per, 2) for part, value in sorted(seconds.items())}
    engine_parts = sorted((engine.timings or {}).items(), key=lambda item: -item[1])
    print(
        json.dumps(
            {
                "decided": decided,
                "batch_size": batch_size,
                "comments_per_second": round(decided / wall, 1),
                "ms_per_comment": round(wall * per, 2),
                "cpu_ms_per_comment": round(cpu * per, 2),
                "postgresql_backend_cpu_ms_per_comment": round(database_cpu * per, 2),
                "wall_ms_per_comment": parts,
                "engine_ms_per_comment": {k: round(v * per, 2) for k, v in engine_parts[:8]},
                "stages": dict(
                    Comment.objects.values_list("verdict__stage")
                    .annotate(n=Count("id"))
                    .values_list("verdict__stage", "n")
                ),
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--batch-size", type=int, default=200, help="comments per task (0: one task each)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CIVILITY_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civility_backlog"
        ),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("CIVILITY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"),
    )
    parser.add_argument(
        "--onnx-threads",
        type=int,
        default=1,
        help="CIVILITY_ONNX_THREADS of each worker (comments a batch embeds side by side)",
    )
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="no workers: decide the backlog in one process and report where the time goes",
    )
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--split", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--poll", type=float, default=1.0, help="seconds between two counts of the waiting"
    )
    args = parser.parse_args(argv)
    if args.seed:
        seed(args.comments, args.batch_size)
        return 0
    if args.split:
        split(args.batch_size)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    metrics_dir = OUT / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVILITY_", "DJANGO_"))}
    env.update(
        CIVILITY_DATABASE_URL=args.database_url,
        CIVILITY_REDIS_URL=args.redis_url,
        CIVILITY_DATA_DIR=str(OUT / "data"),
        CIVILITY_ONNX_THREADS=str(args.onnx_threads),
        DJANGO_SETTINGS_MODULE="civility.config.settings",
        PYTHONPATH=str(ROOT / "src"),
        # The workers' engine timings, read back after the run (the engine's share).
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    recreate_database(args.database_url)
    flush_redis(args.redis_url)
    subprocess.run(
        [str(BIN / "civility"), "manage", "migrate", "--no-input"],
        env=env,
        check=True,
        capture_output=True,
    )
    seeded = django_json(
        ["--seed", "--comments", str(args.comments), "--batch-size", str(args.batch_size)], env
    )
    queued = seeded["queued"]
    if args.in_process:
        flush_redis(args.redis_url)  # the queued tasks: this process decides the backlog
        print(f"{queued} comments; deciding them in this process", flush=True)
        result = django_json(["--split", "--batch-size", str(args.batch_size or 200)], env)
        (OUT / "split.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        print(json.dumps(result))
        return 0
    progress = Progress(args.database_url, seeded["progress"])
    print(f"{queued} comments queued; starting {args.workers} worker(s)", flush=True)
    workers = [
        start(
            [
                str(BIN / "civility"),
                "worker",
                "--concurrency",
                "1",
                "--hostname",
                f"backlog{n}@%h",
                "--loglevel",
                "WARNING",
            ],
            env,
            OUT / f"worker{n}.log",
        )
        for n in range(args.workers)
    ]
    started = time.monotonic()
    groups = {f"worker{n}": worker.pid for n, worker in enumerate(workers)}
    cpu_before = cpu_seconds(groups)
    cpu_after = cpu_before
    state: dict[str, Any] = {}
    # (seconds, decided) at the first poll that saw decisions: the steady rate leaves out the
    # workers' start-up (Django, the engine's models), which a running deployment has paid.
    first_seen: tuple[float, int] | None = None
    last_poll = 0.0
    try:
        while time.monotonic() - started < args.timeout:
            time.sleep(args.poll)
            state = progress()
            elapsed = last_poll = time.monotonic() - started
            done = queued - state["waiting"]
            if first_seen is None and done > 0:
                first_seen = (elapsed, done)
            print(f"{elapsed:6.1f} s: {done} of {queued} decided", flush=True)
            cpu_after = cpu_seconds(groups)
            if state["waiting"] == 0:
                break
    finally:
        for worker in workers:
            stop(worker, timeout=120)
        progress.close()
    # From the workers' start (Django, the engine's models) to the poll that saw the last one.
    elapsed = last_poll
    decided = queued - state.get("waiting", queued)
    rate = decided / elapsed if elapsed else 0.0
    steady = 0.0
    if first_seen is not None and elapsed > first_seen[0]:
        steady = (decided - first_seen[1]) / (elapsed - first_seen[0])
    worker_cpu = sum(cpu_after[name] - cpu_before[name] for name in groups)
    engine = engine_seconds(metrics_dir)
    summary = {
        "comments": queued,
        "workers": args.workers,
        "batch_size": args.batch_size,
        "onnx_threads": args.onnx_threads,
        "decided": decided,
        "decided_twice": state.get("decided_twice"),
        "seconds": round(elapsed, 1),
        "comments_per_second": round(rate, 1),
        "seconds_for_100k_at_this_rate": round(100_000 / rate) if rate else None,
        "steady_comments_per_second": round(steady, 1),
        "seconds_for_100k_at_steady_rate": round(100_000 / steady) if steady else None,
        # Where the workers' time goes: the engine (check_many over the batches) against the
        # CPU the worker processes used (start-up included) and their wall time.
        "worker_cpu_seconds": round(worker_cpu, 1),
        "postgresql_cpu_seconds": round(cpu_after["postgresql"] - cpu_before["postgresql"], 1),
        "engine_seconds": round(engine, 1),
        "engine_ms_per_comment": round(1000 * engine / decided, 1) if decided else None,
        "engine_share_of_worker_cpu": round(engine / worker_cpu, 2) if worker_cpu else None,
        "engine_share_of_worker_wall": (
            round(engine / (args.workers * elapsed), 2) if elapsed else None
        ),
    }
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
