"""``civility manage purge_ip_addresses``: clear stored addresses past the retention period."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from civility.security.privacy import purge_ip_addresses


class Command(BaseCommand):
    help = "Clear stored IP addresses older than CIVILITY_IP_RETENTION_DAYS."

    def handle(self, *args: Any, **options: Any) -> None:
        cleared = purge_ip_addresses()
        days = settings.CIVILITY_IP_RETENTION_DAYS
        for field, count in cleared.items():
            self.stdout.write(f"{field}: {count} cleared (older than {days} days)")
