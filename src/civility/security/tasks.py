"""Celery tasks of the security app (beat schedule in security/conf.py)."""

from __future__ import annotations

from celery import shared_task

from civility.security.privacy import purge_ip_addresses


@shared_task(name="civility.security.purge_ip_addresses")
def purge_ip_addresses_task() -> dict[str, int]:
    return purge_ip_addresses()
