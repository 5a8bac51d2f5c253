"""`civility purge-deleted`: erase accounts deleted longer ago than the restore window."""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="list the accounts due, change nothing"
    )


def run(args: argparse.Namespace) -> int:
    from civility.cli import setup_django

    setup_django()
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from civility.accounts import services
    from civility.accounts.models import User

    if args.dry_run:
        cutoff = timezone.now() - datetime.timedelta(days=settings.CIVILITY_ACCOUNT_RESTORE_DAYS)
        due = User.objects.filter(deleted_at__lte=cutoff, purged_at__isnull=True).count()
        print(f"{due} deleted account(s) are due for purging")
        return 0
    purged = services.purge_deleted_accounts()
    print(f"purged {len(purged)} deleted account(s)")
    return 0
