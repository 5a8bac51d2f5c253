"""gunicorn settings for Civility's web processes (sync workers).

    gunicorn -c deploy/gunicorn.conf.py civility.config.wsgi:application

Sync workers: a request holds one process from start to end, so a slow client cannot starve
the others only if a reverse proxy (nginx, Caddy) buffers requests and responses in front; and
a connection is closed as soon as the response is written (``close_promptly``), not when the
client gets round to closing it.
Size with WEB_CONCURRENCY (default 2 x cores + 1). A post holds its worker mostly waiting for
PostgreSQL and Redis (about 15 round trips), so more workers than that keep readers from
queueing behind posts: on 2 busy cores, 8 workers served 2.4 times the reads of 4 in the load
benchmark (benchmarks/LOAD.md). Sync workers close the connection after each response
(``keepalive`` applies to the other worker classes); ``backlog`` stays gunicorn's 2048. Each worker keeps one PostgreSQL
connection (CONN_MAX_AGE) and builds its own moderation engine, once, right after it starts.

Prometheus: the workers share PROMETHEUS_MULTIPROC_DIR (emptied at start) and /metrics adds
them up. Any options given on the command line override these.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import socket
import tempfile
from typing import Any

# Must be set before prometheus_client is first imported, i.e. before the app loads.
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "civility-prometheus")
)

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Behind a buffering proxy requests are short; a stuck worker is killed and replaced.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Replace workers now and then, so a slow leak never grows unbounded; but rarely: a new
# worker loads the app, builds the engine and warms up (about 2 s of CPU with compiled
# bytecode, 5.5 s without), on cores that serve readers meanwhile. Cached reads count as
# requests: at 5000, each of 8 workers serving 620 reads/s restarted about once a minute.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 200_000))
max_requests_jitter = max_requests // 10
# The proxy on this host sets X-Forwarded-For / -Proto; REMOTE_ADDR then is the reader's
# address, which the rate limits count on (discussion/ratelimit.py).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# GUNICORN_ACCESS_LOG="" turns the access log off (the load benchmark does).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
# gunicorn's control socket would otherwise live in ~/.gunicorn.
control_socket_disable = True


def on_starting(server: Any) -> None:
    """Start every run with an empty metrics directory (files of dead processes would count)."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


# gunicorn's own graceful close, kept for connections with unread request bytes.
graceful: Any = None


def close_promptly(sock: socket.socket, timeout: float = 2.0, max_drain: int = 65536) -> None:
    """Close a served connection at once when the client has nothing more in flight.

    gunicorn (since 23) closes every connection "gracefully": it sends FIN, then waits for the
    client to close its side, up to 2 s, reading and dropping what comes, so that unread
    request bytes do not make the kernel answer with a reset that could cut the response
    short. A sync worker waits there, serving no one: for as long as the client takes to read
    the response and close (a busy client, or one that thinks before closing, such as the
    benchmark's posters: each held a worker for its 0.5 s wait). Nothing unread means no
    reset, so the wait is needed only when request bytes are still in the buffer; then this
    does what gunicorn does.
    """
    from gunicorn import util

    unread: bytes | None
    try:
        sock.setblocking(False)
        unread = sock.recv(1, socket.MSG_PEEK)  # b"": the client has closed already
    except BlockingIOError:
        unread = b""  # nothing unread: FIN now, no reset
    except Exception:  # a TLS socket takes no flags, a broken one: gunicorn's way
        unread = None
    if unread != b"":
        with contextlib.suppress(OSError):
            sock.setblocking(True)
        graceful(sock, timeout, max_drain)
        return
    util.close(sock)


def install_close_promptly() -> None:
    """Make the sync worker close with :func:`close_promptly` (it calls
    ``util.close_graceful`` after each response); gunicorn before 23 has none and closes at
    once anyway."""
    from gunicorn import util

    global graceful
    original = getattr(util, "close_graceful", None)
    if original is not None and original is not close_promptly:
        graceful = original
        util.close_graceful = close_promptly


def post_worker_init(worker: Any) -> None:
    """Build the engine and load what requests load lazily before the first request, so the
    first post does not pay for it; put the read cache's fast lane in front of the
    application (ops/readcache.py: a cached thread is served before Django builds a
    request), and behind both the hand-over of a post's broker publish to after its
    response (ops/after_response.py)."""
    from civility.ops.after_response import after_response
    from civility.ops.readcache import fast_lane

    install_close_promptly()
    worker.wsgi = after_response(fast_lane(worker.wsgi))
    try:
        from civility.ops.worker_hooks import warm_engine

        worker.log.info("engine ready in %.1f s", warm_engine())
    except Exception:  # the first post builds it instead
        worker.log.exception("could not build the engine at start")
    # URLconf, API, templates, catalogues, broker connection: what a fresh worker's first
    # post otherwise loads (1.3 s of CPU; ops/warmup.py).
    from civility.ops.warmup import warm_web_process

    worker.log.info("web process warmed: %s", warm_web_process())


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
