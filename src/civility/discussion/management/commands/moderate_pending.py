"""``civility manage moderate_pending``: decide comments still waiting for the engine."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civility.discussion.services import moderate_stale_pending


class Command(BaseCommand):
    help = "Run the engine on comments left pending (a worker died or the broker lost a task)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than", type=int, default=None, help="seconds (default: setting)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        decided = moderate_stale_pending(options["older_than"])
        self.stdout.write(f"{decided} comment(s) decided")
