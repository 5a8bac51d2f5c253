"""Celery tasks of the webhooks app (beat schedule in webhooks/conf.py). Each is a thin
wrapper around a plain function, which also runs inline when no broker is configured."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from civility.webhooks.delivery import deliver
from civility.webhooks.models import OPEN_STATUSES, DeliveryStatus, WebhookDelivery

logger = logging.getLogger(__name__)

# The most deliveries one retry_due run queues; the next run (a minute later) takes the rest.
RETRY_LIMIT = 2000


@shared_task(name="civility.webhooks.deliver", acks_late=True)
def deliver_task(delivery_id: str) -> str:
    return deliver(delivery_id)


@shared_task(name="civility.webhooks.retry_due", acks_late=True)
def retry_due_task() -> int:
    return retry_due()


@shared_task(name="civility.webhooks.purge")
def purge_task() -> int:
    return purge_old_deliveries()


def due_delivery_ids(*, now: Any = None, limit: int = RETRY_LIMIT) -> list[str]:
    """Deliveries to active endpoints whose next attempt is due, oldest due first: pending
    ones, and ones whose worker's claim ran out (it died while sending)."""
    now = now or timezone.now()
    return [
        str(pk)
        for pk in WebhookDelivery.objects.filter(
            status__in=OPEN_STATUSES, next_attempt_at__lte=now, endpoint__active=True
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    ]


def retry_due(*, now: Any = None) -> int:
    """Queue every due delivery (sent here when tasks run inline); returns how many. A
    delivery queued twice is sent once: its task claims it first."""
    ids = due_delivery_ids(now=now)
    for delivery_id in ids:
        try:
            deliver_task.delay(delivery_id)
        except Exception:
            logger.warning("broker unavailable; sending webhook %s here", delivery_id)
            deliver(delivery_id)
    return len(ids)


def purge_old_deliveries(*, now: Any = None) -> int:
    """Delete delivered and given-up deliveries older than CIVILITY_WEBHOOKS_RETENTION_DAYS;
    returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CIVILITY_WEBHOOKS_RETENTION_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], created_at__lt=cutoff
    ).delete()
    return deleted
