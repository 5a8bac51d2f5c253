"""Celery tasks: thin wrappers around plain functions that also run inline."""

from __future__ import annotations

import smtplib
from typing import Any

from celery import shared_task

from civility.notifications import services


@shared_task(name="civility.notifications.deliver_push", acks_late=True)
def deliver_push_task(subscription_id: int, payload: dict[str, Any]) -> str:
    return services.deliver_push(subscription_id, payload)


@shared_task(name="civility.notifications.send_moderation_digests", acks_late=True)
def send_moderation_digests_task() -> int:
    return services.send_moderation_digests()


@shared_task(
    name="civility.notifications.send_mail",
    autoretry_for=(smtplib.SMTPException, OSError),
    max_retries=8,
    retry_backoff=True,
    acks_late=True,
)
def send_notification_mail_task(
    template_prefix: str, email: str, user_id: int, context: dict[str, Any]
) -> bool:
    """One notification e-mail; a mail server that refuses or cannot be reached gets it again
    later, up to eight times (Celery's exponential backoff with jitter, at most 10 minutes
    between two tries)."""
    return services.send_notification_mail(template_prefix, email, user_id, context)


@shared_task(name="civility.notifications.send_mails", acks_late=True)
def send_notification_mails_task(jobs: list[list[Any]]) -> int:
    """The mails of one batch of decisions; each refused one is queued again alone."""
    return services.send_notification_mails(jobs)
