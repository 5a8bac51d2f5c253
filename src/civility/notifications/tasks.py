"""Celery tasks: thin wrappers around plain functions that also run inline."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from civility.notifications import services


@shared_task(name="civility.notifications.deliver_push", acks_late=True)
def deliver_push_task(subscription_id: int, payload: dict[str, Any]) -> str:
    return services.deliver_push(subscription_id, payload)


@shared_task(name="civility.notifications.send_moderation_digests", acks_late=True)
def send_moderation_digests_task() -> int:
    return services.send_moderation_digests()
