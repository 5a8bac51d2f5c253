"""Celery tasks of the accounts app (beat can run the purge daily)."""

from __future__ import annotations

from celery import shared_task

from civility.accounts import services


@shared_task(name="civility.accounts.purge_deleted_accounts")
def purge_deleted_accounts_task() -> list[int]:
    return services.purge_deleted_accounts()
