"""A comment that was accepted always reaches a decision, once: the moderation task is
acknowledged late and retried with backoff, decisions are idempotent, posting works with the
broker down, and a worker killed in the middle of a task loses nothing.

Real Redis and PostgreSQL when configured; the tests that run a worker in a subprocess need
PostgreSQL (the worker must see the test database) and skip on SQLite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client

from civility.discussion import services
from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation.models import AuditLog
from tests.concurrency import run_in_threads
from tests.ops.conftest import redis_url

CLEAN = "The talks on the peace treaty and the islands seem to be making slow progress."
REPO = Path(__file__).resolve().parents[2]


def engine_decisions(comment_id: int) -> int:
    return AuditLog.objects.filter(
        action="comment.engine_decision", target_id=str(comment_id)
    ).count()


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set CIVILITY_TEST_DATABASE_URL)")


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up after {seconds:.0f} s waiting for {what}")


# --- Task settings ---------------------------------------------------------------------------


def test_moderation_task_is_acknowledged_late_and_retried_with_backoff() -> None:
    from civility.config.celery import app
    from civility.discussion.tasks import moderate_comment_task

    assert moderate_comment_task.acks_late
    assert moderate_comment_task.reject_on_worker_lost
    assert moderate_comment_task.retry_backoff
    assert moderate_comment_task.max_retries and moderate_comment_task.max_retries >= 3
    assert Exception in moderate_comment_task.autoretry_for
    assert app.conf.worker_prefetch_multiplier == 1
    # A task held by a dead worker comes back after the visibility timeout, which must outlast
    # the longest retry countdown (or a retrying task would be delivered twice).
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > getattr(moderate_comment_task, "retry_backoff_max", 600)  # Celery's default


@pytest.mark.django_db
def test_beat_schedules_the_sweeper_and_the_purge() -> None:
    from django.conf import settings

    from civility.config.celery import app

    app.loader.import_default_modules()
    tasks: dict[str, Any] = {
        str(entry["task"]): entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert float(tasks["civility.discussion.moderate_stale_pending"]) <= 60
    assert "civility.accounts.purge_deleted_accounts" in tasks
    for name in tasks:
        assert name in app.tasks, f"beat would send {name}, which no worker knows"


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_a_failing_task_is_retried_until_it_succeeds(
    reader: Any, article: Any, monkeypatch: Any
) -> None:
    from civility.discussion.tasks import moderate_comment_task

    comment = Comment.objects.create(thread=thread_for_article(article), author=reader, text=CLEAN)
    real = services.moderate_comment
    calls: list[int] = []

    def flaky(comment_id: int) -> str | None:
        calls.append(comment_id)
        if len(calls) < 3:
            raise ConnectionError("database went away")
        return real(comment_id)

    monkeypatch.setattr(services, "moderate_comment", flaky)
    result = moderate_comment_task.apply(args=[comment.pk])
    assert result.successful(), result.traceback
    assert len(calls) == 3
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PUBLISHED
    assert engine_decisions(comment.pk) == 1


# --- Idempotency -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_running_the_task_again_writes_no_second_decision(reader: Any, article: Any) -> None:
    from civility.discussion.tasks import moderate_comment_task

    comment = Comment.objects.create(thread=thread_for_article(article), author=reader, text=CLEAN)
    assert moderate_comment_task.apply(args=[comment.pk]).result == "published"
    assert moderate_comment_task.apply(args=[comment.pk]).result is None
    assert services.moderate_stale_pending(older_than_seconds=0) == 0
    assert engine_decisions(comment.pk) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_two_workers_racing_on_one_comment_write_one_decision(reader: Any, article: Any) -> None:
    require_postgresql()
    services.current_engines()  # both threads share the loaded engine, as a worker's tasks do
    comments = [
        Comment.objects.create(thread=thread_for_article(article), author=reader, text=CLEAN)
        for _ in range(5)
    ]
    barrier = threading.Barrier(2)

    def worker() -> list[str | None]:
        outcomes = []
        for comment in comments:
            barrier.wait(timeout=60)
            outcomes.append(services.moderate_comment(comment.pk))
        return outcomes

    results = [outcome for outcomes in run_in_threads(worker) for outcome in outcomes]
    assert results.count("published") == len(comments)
    assert results.count(None) == len(comments)
    for comment in comments:
        assert engine_decisions(comment.pk) == 1


# --- Broker down -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_with_the_broker_down_a_comment_is_kept_and_decided_inline(
    broker_down: Any, reader: Any, article: Any
) -> None:
    outcome = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    outcome.comment.refresh_from_db()
    assert outcome.comment.status == CommentStatus.PUBLISHED
    assert engine_decisions(outcome.comment.pk) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_with_the_broker_down_the_api_still_accepts_comments(
    broker_down: Any, reader: Any, article: Any
) -> None:
    raw, _token = services.issue_api_token(reader)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post(
        f"/api/articles/{article.slug}/comments",
        {"text": CLEAN, "client_token": "broker-down-1"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    comment = Comment.objects.get(pk=response.json()["id"])
    assert comment.status == CommentStatus.PUBLISHED
    assert engine_decisions(comment.pk) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_queued_comments_nobody_consumed_are_decided_by_the_sweeper(
    celery_broker: Any, reader: Any, article: Any
) -> None:
    """The broker took the task but no worker ever ran it (a lost queue): the sweeper decides,
    and the stale message, if it is delivered later, finds nothing left to do."""
    from civility.discussion.tasks import moderate_comment_task

    outcome = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    assert outcome.status == "pending"
    assert services.moderate_stale_pending(older_than_seconds=0) == 1
    assert moderate_comment_task.apply(args=[outcome.comment.pk]).result is None
    assert engine_decisions(outcome.comment.pk) == 1


# --- Database down -----------------------------------------------------------------------------


@contextmanager
def database_unreachable() -> Iterator[None]:
    """Point the default connection at a port nobody listens on, as if PostgreSQL restarted."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = 1
    connection.settings_dict["OPTIONS"] = {**saved.get("OPTIONS", {}), "connect_timeout": 2}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_requests_get_503_with_retry_after_while_the_database_is_down(article: Any) -> None:
    require_postgresql()
    url = f"/api/articles/{article.slug}/comments"
    assert Client().get(url).status_code == 200
    with database_unreachable():
        response = Client(raise_request_exception=False).get(url)
        assert response.status_code == 503
        assert response["Retry-After"].isdigit()
        health = Client(raise_request_exception=False).get("/healthz")
        assert health.status_code == 503
        assert "database" in health.json()["failed"]
        metrics = Client(raise_request_exception=False).get("/metrics")
        assert metrics.status_code == 200  # the scrape still works, and says what is down
        assert "civility_metrics_database_up 0.0" in metrics.content.decode()
    assert Client().get(url).status_code == 200  # recovers by itself


# --- A worker killed mid-task -------------------------------------------------------------------


def worker_environment(data_dir: Path, visibility_seconds: int | None = None) -> dict[str, str]:
    settings_dict = connection.settings_dict
    user = quote(str(settings_dict.get("USER") or ""))
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(str(password))}@" if password else (f"{user}@" if user else "")
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CIVILITY_", "PYTEST", "DJANGO_SETTINGS"))
    }
    env.update(
        CIVILITY_DATABASE_URL=f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}",
        CIVILITY_REDIS_URL=redis_url(),
        CIVILITY_DATA_DIR=str(data_dir),
        CIVILITY_ONNX_THREADS="1",
        PYTHONPATH=os.pathsep.join([str(REPO), *sys.path]),
    )
    if visibility_seconds is not None:
        env["CIVILITY_BROKER_VISIBILITY_SECONDS"] = str(visibility_seconds)
    return env


def start_worker(
    data_dir: Path, queue: str, *, stall_marker: Path | None = None, visibility: int | None = None
) -> subprocess.Popen[bytes]:
    options = ["--pool=solo", f"--queues={queue}", "--loglevel=WARNING", f"--hostname={queue}@%h"]
    if stall_marker is not None:
        command = [sys.executable, "-m", "tests.ops.stalling_worker", str(stall_marker), "120"]
    else:
        command = [sys.executable, "-m", "civility.cli", "worker"]
    log = (data_dir / f"worker-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(
        [*command, *options],
        env=worker_environment(data_dir, visibility),
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killed whole, like kill -9 on a host
    )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def worker_logs(data_dir: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in data_dir.glob("worker-*.log"))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_worker_killed_mid_task_loses_no_comment_and_decides_none_twice(
    celery_broker: Any, reader: Any, article: Any, tmp_path: Path
) -> None:
    require_postgresql()
    _app, queue = celery_broker
    marker = tmp_path / "in-flight"
    first = start_worker(tmp_path, queue, stall_marker=marker)
    try:
        thread = thread_for_article(article)
        posted = [
            post_comment(author=reader, thread=thread, text=f"{CLEAN} Number {n}.").comment.pk
            for n in range(5)
        ]
        wait_for(marker.exists, 240, "the first worker to start a task\n" + worker_logs(tmp_path))
        in_flight = int(marker.read_text())
        os.killpg(first.pid, signal.SIGKILL)  # kill -9, in the middle of the task
        first.wait(timeout=30)
    finally:
        stop(first, signal.SIGKILL)
    assert in_flight in posted
    assert Comment.objects.get(pk=in_flight).status == CommentStatus.PENDING
    assert engine_decisions(in_flight) == 0

    # The restarted worker gets the unacknowledged task back (visibility timeout) with the rest.
    second = start_worker(tmp_path, queue, visibility=1)
    try:
        wait_for(
            lambda: (
                not Comment.objects.filter(pk__in=posted, status=CommentStatus.PENDING).exists()
            ),
            240,
            "the restarted worker to decide every comment\n" + worker_logs(tmp_path),
        )
    finally:
        stop(second)
    for comment_id in posted:
        assert Comment.objects.get(pk=comment_id).status == CommentStatus.PUBLISHED
        assert engine_decisions(comment_id) == 1, f"comment {comment_id} decided twice"


@pytest.mark.slow
def test_without_a_broker_the_worker_refuses_and_beat_runs_the_jobs_itself(
    tmp_path: Path,
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CIVILITY_", "PYTEST", "DJANGO_SETTINGS"))
    }
    env.update(CIVILITY_DATA_DIR=str(tmp_path), PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run(
        [sys.executable, "-m", "civility.cli", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "CIVILITY_REDIS_URL" in result.stderr

    subprocess.run(
        [sys.executable, "-m", "civility.cli", "manage", "migrate", "-v", "0"],
        env=env,
        check=True,
        timeout=300,
    )
    beat = subprocess.Popen(
        [sys.executable, "-m", "civility.cli", "beat"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = tmp_path / "inline-beat.json"
    try:
        deadline = time.monotonic() + 120
        while not state.exists() and beat.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert beat.poll() is None, beat.communicate()[1]
        assert state.exists(), "the first tick saves the jobs' last runs"
    finally:
        beat.terminate()
        _out, errors = beat.communicate(timeout=30)
    assert "running the jobs in this process" in errors
