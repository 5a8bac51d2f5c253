"""``civility manage send_due_webhooks``: send the due webhook deliveries now.

Without a broker there is no beat to retry failed deliveries: run this from cron every minute
(``--purge`` once a day also deletes old finished deliveries)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civility.webhooks.tasks import purge_old_deliveries, retry_due


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due (retries, lost tasks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--purge",
            action="store_true",
            help="Also delete delivered and given-up deliveries past the retention period.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{retry_due()} due deliveries sent or queued")
        if options["purge"]:
            self.stdout.write(f"{purge_old_deliveries()} old deliveries deleted")
