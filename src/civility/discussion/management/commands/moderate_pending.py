"""``civility manage moderate_pending``: decide comments still waiting for the engine."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civility.discussion.tasks import batches, moderate_batch, stale_pending_ids


class Command(BaseCommand):
    help = "Run the engine on comments left pending (a worker died or the broker lost a task)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than", type=int, default=None, help="seconds (default: setting)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ids = stale_pending_ids(options["older_than"])
        decided = sum(moderate_batch(batch) for batch in batches(ids))
        self.stdout.write(f"{decided} comment(s) decided")
