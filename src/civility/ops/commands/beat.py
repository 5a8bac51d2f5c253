"""``civility beat``: Celery beat, the one process that schedules the periodic jobs.

Run exactly one per deployment. The schedule is settings.CELERY_BEAT_SCHEDULE (the apps'
conf modules gather their jobs): the pending-comment sweeper and webhook retries every minute,
the account purge, webhook clean-up and the moderators' digest daily. Beat only sends tasks;
workers run them. With no broker (the embedded mode) it runs each job itself when it is due
(civility.ops.inline_beat); ``civility serve`` starts it so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-s",
        "--schedule",
        default="",
        help="file beat keeps its last-run times in (default: <data dir>/celerybeat-schedule)",
    )
    parser.add_argument("-l", "--loglevel", default="INFO", help="log level (default INFO)")
    parser.add_argument(
        "--list", action="store_true", help="print the schedule and exit without running"
    )


def describe_schedule(schedule: dict[str, dict[str, object]]) -> list[str]:
    return [
        f"{name}: {entry['task']} every {entry['schedule']}" for name, entry in schedule.items()
    ]


def run(args: argparse.Namespace) -> int:
    from civility.cli import setup_django

    setup_django()
    from django.conf import settings

    for line in describe_schedule(settings.CELERY_BEAT_SCHEDULE):
        print(line)
    if args.list:
        return 0
    if settings.CELERY_TASK_ALWAYS_EAGER:
        from civility.ops.inline_beat import start

        print(
            "civility beat: no broker configured (CIVILITY_REDIS_URL or CIVILITY_BROKER_URL):"
            " running the jobs in this process when they are due.",
            file=sys.stderr,
            flush=True,
        )
        start(Path(args.schedule or settings.DATA_DIR / "inline-beat.json")).run_forever()
        return 0
    from civility.config.celery import app

    schedule_file = args.schedule or str(settings.DATA_DIR / "celerybeat-schedule")
    app.start(["beat", f"--schedule={schedule_file}", f"--loglevel={args.loglevel}"])
    return 0
