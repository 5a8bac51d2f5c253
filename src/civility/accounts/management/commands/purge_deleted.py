from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civility.accounts import services


class Command(BaseCommand):
    help = "Erase accounts deleted longer ago than the restore window (30 days)."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = services.purge_deleted_accounts()
        self.stdout.write(f"purged {len(purged)} deleted account(s)")
