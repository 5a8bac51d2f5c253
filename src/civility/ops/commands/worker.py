"""``civility worker``: a Celery worker that decides comments (and runs the other tasks).

Needs a broker (CIVILITY_REDIS_URL or CIVILITY_BROKER_URL). Each worker process loads the
moderation engine once, at start. Tasks are acknowledged only after they finish (acks_late) and
re-queued if the worker dies, so stopping or killing a worker loses nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--concurrency", type=int, default=0, help="worker processes (default: CPU cores)"
    )
    parser.add_argument(
        "--pool",
        choices=["prefork", "solo", "threads"],
        default="prefork",
        help="prefork (default): one engine per process; solo: one process, for debugging",
    )
    parser.add_argument(
        "-Q", "--queues", default="", help="comma-separated queues to consume (default: all)"
    )
    parser.add_argument("-n", "--hostname", default="", help="node name (default: celery@host)")
    parser.add_argument("-l", "--loglevel", default="INFO", help="log level (default INFO)")
    parser.add_argument(
        "--max-tasks-per-child",
        type=int,
        default=0,
        help="replace a process after this many tasks (0: never)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        help="serve this worker's Prometheus metrics on this port (0: off)",
    )


def celery_arguments(args: argparse.Namespace) -> list[str]:
    argv = ["worker", f"--loglevel={args.loglevel}", f"--pool={args.pool}"]
    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    if args.queues:
        argv.append(f"--queues={args.queues}")
    if args.hostname:
        argv.append(f"--hostname={args.hostname}")
    if args.max_tasks_per_child:
        argv.append(f"--max-tasks-per-child={args.max_tasks_per_child}")
    return argv


def run(args: argparse.Namespace) -> int:
    if args.metrics_port and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Child processes record the metrics: they must share a directory, chosen before
        # prometheus_client is first imported (by Django's set-up).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="civility-worker-metrics-")
    from civility.cli import setup_django

    setup_django()
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        print(
            "civility worker: no broker configured, tasks run inline in the web process.\n"
            "Set CIVILITY_REDIS_URL (or CIVILITY_BROKER_URL) to run workers.",
            file=sys.stderr,
        )
        return 2
    from civility.config.celery import app
    from civility.ops import worker_hooks

    worker_hooks.connect(args.pool)
    if args.metrics_port:
        worker_hooks.serve_metrics(args.metrics_port)
    app.worker_main(celery_arguments(args))
    return 0
