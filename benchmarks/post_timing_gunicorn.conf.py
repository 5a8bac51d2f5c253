"""Diagnostic gunicorn configuration: deploy/gunicorn.conf.py, plus a record of where each
POST's time goes, for ``load.py --gunicorn-config benchmarks/post_timing_gunicorn.conf.py``.

Each POST appends one JSON line to ``$POST_TIMINGS_DIR/<pid>.jsonl``: its wall time in the
worker, the CPU time of the worker's thread, voluntary and involuntary context switches, the
time spent in SQL (and how many statements), in Redis (cache and broker), in the commit, and
in the named phases of the post path. Wall time minus CPU, SQL and Redis is time the process
was runnable but not running (waiting for a core). Nothing here changes what a post does.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_deploy = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
exec(compile(_deploy.read_text(encoding="utf-8"), str(_deploy), "exec"))

_deploy_post_worker_init = post_worker_init  # type: ignore[name-defined]  # noqa: F821

_state = threading.local()


def _phase(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, adding its wall time to the current request's phase ``name``."""

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        phases = getattr(_state, "phases", None)
        if phases is None:
            return function(*args, **kwargs)
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
            cpu_name = name + "_cpu"
            phases[cpu_name] = phases.get(cpu_name, 0.0) + time.thread_time() - cpu

    return timed


def _patch(owner: Any, attribute: str, name: str) -> None:
    if hasattr(owner, attribute):  # a phase the code no longer has is left out
        setattr(owner, attribute, _phase(name, getattr(owner, attribute)))


def _instrument() -> None:
    import redis.client
    from django.db.backends.base.base import BaseDatabaseWrapper

    from civility.discussion import api, services

    _patch(services, "post_context", "post_context")
    _patch(services, "author_facts", "author_facts")
    _patch(services, "thread_for_article", "thread")
    _patch(services, "user_for_request_token", "token")
    _patch(services, "ensure_may_post", "may_post")
    _patch(services, "current_policy", "policy")
    _patch(services, "clean_text", "clean_text")
    _patch(services, "record", "audit")
    _patch(services, "decide_new_comment", "decide")
    _patch(services, "_engine_comment", "engine_comment")
    _patch(services, "comment_rules", "comment_rules")
    _patch(api, "_posted", "response_body")
    _patch(BaseDatabaseWrapper, "_commit", "commit")
    _patch(BaseDatabaseWrapper, "connect", "connect")
    from django.db.backends.postgresql.base import DatabaseWrapper

    _patch(DatabaseWrapper, "is_usable", "health_check")
    _patch(redis.client.Redis, "execute_command", "redis")
    from celery.app.task import Task

    _patch(Task, "apply_async", "publish")
    from civility.discussion import engine

    original_current_engines = engine.current_engines

    def current_engines(*args: Any, **kwargs: Any) -> Any:
        engines = original_current_engines(*args, **kwargs)
        screen = engines.screen
        if not getattr(screen, "_timed", False):
            screen.check = _phase("screen", screen.check)
            screen._timed = True
        return engines

    services.current_engines = current_engines  # type: ignore[assignment]


def _gc_timer(phase: str, info: dict[str, Any]) -> None:
    """gc callback: the cyclic collector's pauses count as phase ``gc`` (and ``gc2`` for
    full collections, which walk every object the process holds, the engine's included)."""
    phases = getattr(_state, "phases", None)
    if phases is None:
        return
    if phase == "start":
        _state.gc_started = time.perf_counter()
        return
    elapsed = time.perf_counter() - getattr(_state, "gc_started", time.perf_counter())
    name = "gc2" if info.get("generation") == 2 else "gc"
    phases[name] = phases.get(name, 0.0) + elapsed


def _sql_timer(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    phases = getattr(_state, "phases", None)
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        if phases is not None:
            phases["sql"] = phases.get("sql", 0.0) + time.perf_counter() - started
            phases["sql_count"] = phases.get("sql_count", 0) + 1


def _run_delay() -> float:
    """Seconds this thread has spent runnable but waiting for a core (schedstat)."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as handle:
            return int(handle.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _process_run_delay(pid: int | None) -> float:
    """Seconds process ``pid`` (its main thread) has waited for a core; 0 when unknown."""
    if not pid:
        return 0.0
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as handle:
            return int(handle.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _machine_ticks() -> tuple[int, int]:
    """The machine's steal and iowait, in clock ticks (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = handle.readline().split()
    return int(fields[8]), int(fields[5])


def _redis_pid() -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    return int(entry.name)
            except OSError:
                continue
    return None


class PostTimings:
    def __init__(self, application: Callable[..., Any], directory: Path) -> None:
        self.application = application
        self.path = directory / f"{os.getpid()}.jsonl"
        self.redis_pid = _redis_pid()
        self.tick = os.sysconf("SC_CLK_TCK")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.application(environ, start_response)
        from django.db import connection

        _state.phases = {}
        usage = resource.getrusage(resource.RUSAGE_THREAD)
        backend = getattr(getattr(connection.connection, "info", None), "backend_pid", None)
        waits = (_process_run_delay(backend), _process_run_delay(self.redis_pid))
        ticks = _machine_ticks()
        cpu = time.thread_time()
        delay = _run_delay()
        wall = time.perf_counter()
        status: list[str] = []

        def recording_start_response(line: str, headers: Any, *rest: Any) -> Any:
            status.append(line[:3])
            return start_response(line, headers, *rest)

        try:
            with connection.execute_wrapper(_sql_timer):
                body = self.application(environ, recording_start_response)
                chunks = list(body)
                # The response is complete here; what its close runs (ops.after_response)
                # happens after the client has it, and counts apart.
                responded = time.perf_counter()
                if hasattr(body, "close"):
                    body.close()
                _state.phases["after_response"] = time.perf_counter() - responded
        finally:
            after = resource.getrusage(resource.RUSAGE_THREAD)
            record = {
                "at": time.time(),
                "status": status[0] if status else "",
                "wall_ms": round(
                    1000 * (time.perf_counter() - wall - _state.phases.get("after_response", 0)),
                    2,
                ),
                "cpu_ms": round(1000 * (time.thread_time() - cpu), 2),
                "run_delay_ms": round(1000 * (_run_delay() - delay), 2),
                # The PostgreSQL backend's and Redis's own waits for a core (a backend opened
                # during the request counts from 0), the machine's steal and iowait (ms).
                "pg_run_delay_ms": round(1000 * (_process_run_delay(backend) - waits[0]), 2)
                if backend
                else None,
                "redis_run_delay_ms": round(
                    1000 * (_process_run_delay(self.redis_pid) - waits[1]), 2
                ),
                "steal_ms": round(1000 * (_machine_ticks()[0] - ticks[0]) / self.tick, 1),
                "iowait_ms": round(1000 * (_machine_ticks()[1] - ticks[1]) / self.tick, 1),
                "voluntary": after.ru_nvcsw - usage.ru_nvcsw,
                "involuntary": after.ru_nivcsw - usage.ru_nivcsw,
                **{
                    k: (round(1000 * v, 2) if not k.endswith("_count") else v)
                    for k, v in _state.phases.items()
                },
            }
            _state.phases = None
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        return chunks


def post_worker_init(worker: Any) -> None:
    _deploy_post_worker_init(worker)
    directory = Path(os.environ.get("POST_TIMINGS_DIR", "/tmp/civility-post-timings"))
    directory.mkdir(parents=True, exist_ok=True)
    _instrument()
    import gc

    gc.callbacks.append(_gc_timer)
    worker.wsgi = PostTimings(worker.wsgi, directory)
