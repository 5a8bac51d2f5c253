"""The periodic jobs without a broker (civility.ops.inline_beat): what ``civility beat`` runs
in the embedded mode, and ``civility serve`` starts beside the web server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from civility.ops.inline_beat import InlineBeat, run_registered_task, start

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


def _beat(state: Path, clock: Clock, ran: list[str], fail: set[str] | None = None) -> InlineBeat:
    def run_task(name: str) -> None:
        if name in (fail or set()):
            raise RuntimeError("boom")
        ran.append(name)

    entries = {
        "sweeper": {"task": "sweep", "schedule": 60.0},
        "nightly": {"task": "purge", "schedule": crontab(hour=3, minute=17)},
    }
    return InlineBeat(entries, state, run_task=run_task, now=clock)


def test_jobs_run_when_due_and_a_restart_neither_repeats_nor_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery import current_app

    clock = Clock()
    # Celery's schedules read the app's clock for "now".
    monkeypatch.setattr(current_app, "now", clock)
    state, ran = tmp_path / "beat.json", list[str]()
    beat = _beat(state, clock, ran)
    assert beat.tick() == [] and ran == [], "nothing runs at start"
    clock.at += timedelta(seconds=61)
    assert beat.tick() == ["sweeper"]
    clock.at += timedelta(seconds=30)
    assert beat.tick() == []

    # A restart reads the last runs: the nightly job is not run again at once...
    clock.at = START.replace(hour=3, minute=18)
    restarted = _beat(state, clock, ran)
    assert "nightly" in restarted.tick()
    again = _beat(state, clock, ran)
    assert "nightly" not in again.tick()
    # ...and runs the next night.
    clock.at += timedelta(days=1)
    assert "nightly" in again.tick()
    saved = json.loads(state.read_text())
    assert set(saved) == {"sweeper", "nightly"}


def test_a_failing_job_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from celery import current_app

    clock = Clock()
    monkeypatch.setattr(current_app, "now", clock)
    ran: list[str] = []
    beat = _beat(tmp_path / "beat.json", clock, ran, fail={"sweep"})
    beat.tick()
    clock.at = START.replace(hour=3, minute=20)
    assert beat.tick() == ["nightly"]
    assert ran == ["purge"] and "periodic job sweeper (sweep) failed" in caplog.text
    clock.at += timedelta(seconds=61)
    beat.tick()
    assert "sweeper" in json.loads((tmp_path / "beat.json").read_text()), "tried again later"


@pytest.mark.django_db  # celery's Django fix-up runs the system checks on importing the tasks
def test_every_scheduled_job_is_a_registered_task(tmp_path: Path) -> None:
    from civility.config.celery import app

    beat = start(tmp_path / "beat.json")
    names = {entry["task"] for entry in beat.entries.values()}
    assert names == {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "civility.accounts.purge_deleted_accounts",
        "civility.discussion.moderate_stale_pending",
        "civility.notifications.send_moderation_digests",
    } <= names
    assert names <= set(app.tasks), f"unregistered: {names - set(app.tasks)}"


@pytest.mark.django_db
def test_the_purge_job_runs_here_and_now(make_user: Any) -> None:
    from civility.accounts import services

    gone = make_user("gone@example.org")
    services.delete_account(gone)
    type(gone).objects.filter(pk=gone.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    purged = run_registered_task("civility.accounts.purge_deleted_accounts")
    assert gone.pk in purged
