"""The periodic jobs without a broker: ``civility beat`` in the embedded mode.

With no broker there is no Celery beat to send the jobs, and no worker to run them; yet
deleted accounts must still be purged after 30 days, a comment left pending by a crash must
still be decided, webhooks retried and digests sent. This loop reads the same schedule
(settings.CELERY_BEAT_SCHEDULE) and runs each job in this process when it is due, as
Celery beat and a worker would. ``civility serve`` starts it beside the web server.

Last-run times are kept in a JSON file under the data directory, so a restart neither runs a
daily job again at once nor skips one. A job that fails is logged and tried again at its
next time; it never stops the others.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from celery.schedules import schedule as celery_schedule

logger = logging.getLogger(__name__)

# How often the loop wakes to look for due jobs (the shortest job runs every minute).
TICK_SECONDS = 5.0


def as_schedule(value: Any) -> Any:
    """A schedule entry's ``schedule`` as a Celery schedule (seconds become an interval)."""
    if isinstance(value, int | float):
        return celery_schedule(run_every=float(value))
    return value


class InlineBeat:
    def __init__(
        self,
        entries: Mapping[str, Mapping[str, Any]],
        state_file: Path,
        *,
        run_task: Callable[[str], Any],
        now: Callable[[], datetime],
    ) -> None:
        self.entries = dict(entries)
        self.state_file = state_file
        self.run_task = run_task
        self.now = now
        self.last_run: dict[str, datetime] = self._load()

    def _load(self) -> dict[str, datetime]:
        try:
            raw = json.loads(self.state_file.read_text())
            return {name: datetime.fromisoformat(stamp) for name, stamp in raw.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def _save(self) -> None:
        stamps = {name: stamp.isoformat() for name, stamp in self.last_run.items()}
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(stamps, indent=1, sort_keys=True))
        temporary.replace(self.state_file)

    def tick(self) -> list[str]:
        """Run every job that is due now; returns their names."""
        ran: list[str] = []
        for name, entry in self.entries.items():
            now = self.now()
            # A job seen for the first time counts from now, as Celery beat does: a daily job
            # runs at its next time, not at every start.
            last = self.last_run.setdefault(name, now)
            due, _next = as_schedule(entry["schedule"]).is_due(last)
            if not due:
                continue
            self.last_run[name] = now
            try:
                self.run_task(str(entry["task"]))
                ran.append(name)
            except Exception:
                logger.exception("periodic job %s (%s) failed", name, entry["task"])
        self._save()
        return ran

    def run_forever(self, *, tick_seconds: float = TICK_SECONDS) -> None:
        while True:
            self.tick()
            time.sleep(tick_seconds)


def run_registered_task(name: str) -> Any:
    """Run the Celery task called ``name`` here and now (no broker involved)."""
    from civility.config.celery import app

    result = app.tasks[name].apply(throw=True)
    return result.get(disable_sync_subtasks=False)


def start(state_file: Path) -> InlineBeat:
    from django.conf import settings

    from civility.config.celery import app

    app.loader.import_default_modules()  # registers every app's tasks
    return InlineBeat(
        settings.CELERY_BEAT_SCHEDULE,
        state_file,
        run_task=run_registered_task,
        now=app.now,
    )
