"""``civility beat``: Celery beat, the one process that schedules the periodic jobs.

Run exactly one per deployment. The schedule is settings.CELERY_BEAT_SCHEDULE (ops/conf.py
gathers the apps' jobs): the pending-comment sweeper every minute and the account purge daily.
Beat only sends tasks; workers run them.
"""

from __future__ import annotations

import argparse
import sys


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
        print(
            "civility beat: no broker configured. Set CIVILITY_REDIS_URL (or CIVILITY_BROKER_URL);"
            " without one, run `civility manage moderate_pending` and `civility purge-deleted`"
            " from cron instead.",
            file=sys.stderr,
        )
        return 2
    from civility.config.celery import app

    schedule_file = args.schedule or str(settings.DATA_DIR / "celerybeat-schedule")
    app.start(["beat", f"--schedule={schedule_file}", f"--loglevel={args.loglevel}"])
    return 0
