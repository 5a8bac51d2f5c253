"""Celery signal handlers for ``civility worker``: load the engine once per process.

Building the engine loads every detector and its model (the embedding model among them), which
takes seconds and tens of megabytes. A prefork worker does it in each child right after the fork
(``worker_process_init``), never in the parent: the ONNX runtime's thread pools do not survive a
fork. Solo and thread pools run tasks in the main process and warm it at start.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

logger = logging.getLogger("civility.ops.worker")


def warm_engine() -> float:
    """Build every site's engines and run one comment through them; return seconds."""
    started = time.perf_counter()
    from django.db import close_old_connections

    from civility.discussion.engine import current_engines
    from civility.sites.current import all_sites
    from civility.standards.types import Comment

    close_old_connections()
    # Sites with the same policy share one engine, so this costs one model load, not one a site.
    for site in all_sites():
        engines = current_engines(site)
        # Models load lazily on first use: one check pays that before the first real comment.
        engines.full.check(Comment(text="Warming up the moderation engine."))
    close_old_connections()
    return time.perf_counter() - started


def _warm(**_: Any) -> None:
    try:
        seconds = warm_engine()
        logger.info("engine loaded in process %s in %.1f s", os.getpid(), seconds)
    except Exception:  # the first task loads it instead; a worker must still start
        logger.exception("could not load the engine at start; it loads with the first task")


def _mark_dead(**_: Any) -> None:
    from civility.ops.metrics import multiprocess_dir

    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


def connect(pool: str) -> None:
    from celery.signals import worker_init, worker_process_init, worker_process_shutdown

    if pool == "prefork":
        worker_process_init.connect(_warm, weak=False, dispatch_uid="civility.warm_engine")
        worker_process_shutdown.connect(_mark_dead, weak=False, dispatch_uid="civility.mark_dead")
    else:
        worker_init.connect(_warm, weak=False, dispatch_uid="civility.warm_engine")


def serve_metrics(port: int, address: str = "0.0.0.0") -> None:
    """Serve this worker's metrics (all its processes) on http://address:port/metrics."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=address, registry=registry)
