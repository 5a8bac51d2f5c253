"""Changes to webhook endpoints and deliveries: each in one transaction with its audit row.

The ``webhook.*`` audit actions are not publishable events (events.py): an endpoint's own
changes are never sent to endpoints. The signing secret is never written to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from civility.moderation.audit import record
from civility.webhooks.addresses import RefusedAddress, check_url
from civility.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    new_secret,
)
from civility.webhooks.outbox import forget_subscriptions, ping_payload, send_on_commit

__all__ = [
    "RefusedAddress",
    "delete_endpoint",
    "disable_endpoint",
    "enable_endpoint",
    "rotate_secret",
    "save_endpoint",
    "send_again",
    "send_test_event",
]

REASON_CHARS = 200


def _described(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint (never its secret)."""
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events or []),
        "site": endpoint.site_id,
        "active": endpoint.active,
    }


def save_endpoint(endpoint: WebhookEndpoint, *, by: Any) -> WebhookEndpoint:
    """Create or change an endpoint. Raises RefusedAddress for a URL Civility may not call
    (checked again at every send: DNS answers change)."""
    check_url(endpoint.url)
    with transaction.atomic():
        created = endpoint.pk is None
        before = {}
        if not created:
            stored = WebhookEndpoint.objects.filter(pk=endpoint.pk).first()
            before = _described(stored) if stored is not None else {}
        if endpoint.active:
            endpoint.disabled_reason = ""
        endpoint.save()
        record(
            "webhook.endpoint_saved",
            endpoint,
            actor=by,
            before=before,
            after=_described(endpoint),
            data={"created": created},
        )
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint, *, by: Any) -> None:
    """Delete an endpoint and its deliveries (sent or not)."""
    with transaction.atomic():
        record("webhook.endpoint_deleted", endpoint, actor=by, before=_described(endpoint))
        endpoint.delete()


def disable_endpoint(endpoint: WebhookEndpoint, *, reason: str, by: Any = None) -> bool:
    """Deactivate the endpoint (its pending deliveries wait for it to be enabled again);
    ``by`` None: Civility did, after too many failures. Returns whether it was active."""
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
            active=False, disabled_reason=reason[:REASON_CHARS]
        )
        endpoint.refresh_from_db()
        if changed:
            forget_subscriptions()  # an UPDATE sends no post_save
            record(
                "webhook.endpoint_disabled",
                endpoint,
                actor=by,
                actor_label="" if by is not None else "system",
                data={
                    "reason": endpoint.disabled_reason,
                    "consecutive_failures": endpoint.consecutive_failures,
                },
            )
    return bool(changed)


def enable_endpoint(endpoint: WebhookEndpoint, *, by: Any) -> bool:
    """Activate the endpoint again with a clean failure count; what it missed while inactive
    is sent now. Returns whether it was inactive."""
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=False).update(
            active=True, disabled_reason="", consecutive_failures=0
        )
        endpoint.refresh_from_db()
        if changed:
            forget_subscriptions()  # an UPDATE sends no post_save
            record("webhook.endpoint_enabled", endpoint, actor=by)
            waiting = list(
                WebhookDelivery.objects.filter(
                    endpoint=endpoint, status=DeliveryStatus.PENDING
                ).values_list("pk", flat=True)[:1000]
            )
            WebhookDelivery.objects.filter(pk__in=waiting).update(next_attempt_at=timezone.now())
            send_on_commit(waiting)
    return bool(changed)


def rotate_secret(endpoint: WebhookEndpoint, *, by: Any) -> WebhookEndpoint:
    """Give the endpoint a new signing secret (the receiver must be told it)."""
    with transaction.atomic():
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret"])
        record("webhook.secret_rotated", endpoint, actor=by)
    return endpoint


def send_test_event(endpoint: WebhookEndpoint, *, by: Any) -> WebhookDelivery:
    """Store a ``ping`` delivery for the endpoint and send it (if the endpoint is active)."""
    with transaction.atomic():
        delivery = WebhookDelivery(endpoint=endpoint, event="ping")
        delivery.payload = ping_payload(
            str(delivery.pk), occurred_at=timezone.now().isoformat(), endpoint=endpoint
        )
        delivery.save(force_insert=True)
        record("webhook.test_sent", endpoint, actor=by, data={"delivery": str(delivery.pk)})
        send_on_commit([delivery.pk])
    return delivery


def send_again(deliveries: Iterable[WebhookDelivery], *, by: Any) -> int:
    """Queue finished or waiting deliveries once more, with a fresh set of attempts and the
    same id (a receiver that already has one ignores it). Returns how many."""
    ids = [d.pk for d in deliveries if d.status != DeliveryStatus.SENDING]
    if not ids:
        return 0
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk__in=ids).exclude(status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            claimed_until=None,
            delivered_at=None,
            last_error="",
            last_status_code=None,
        )
        for delivery in WebhookDelivery.objects.filter(pk__in=ids).select_related("endpoint"):
            record(
                "webhook.delivery_resent",
                delivery,
                actor=by,
                site_id=delivery.endpoint.site_id,
                data={"endpoint": delivery.endpoint_id, "event": delivery.event},
            )
        send_on_commit(ids)
    return len(ids)
