"""The outbox: every recorded audit row an active endpoint subscribes to becomes a delivery,
written in the same transaction as the change, and is sent once that transaction commits.

The receiver runs for every audit row Civility writes (the engine decides thousands of
comments a second), so who subscribes to what is read from the cache: with no active
endpoint an audit row costs one cache read per batch of rows and no query.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from civility.moderation.models import AuditLog
from civility.ops.cache import forget_now_and_at_commit
from civility.webhooks.events import EVENTS, PING
from civility.webhooks.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

CACHE_KEY = "civility:webhooks:subscriptions:v1"
# Endpoint changes clear the entry at once; this only bounds an entry a failed clear left.
CACHE_SECONDS = 300
COMMENT_TYPE = "discussion.comment"
REVIEW_TYPE = "moderation.reviewrequest"


@dataclass(frozen=True)
class Subscription:
    """An active endpoint, as the outbox needs it."""

    endpoint_id: int
    site_id: int | None  # None: every site
    events: frozenset[str]

    def wants(self, row: AuditLog) -> bool:
        return row.action in self.events and (self.site_id is None or self.site_id == row.site_id)


def _read_subscriptions() -> list[Subscription]:
    rows = WebhookEndpoint.objects.filter(active=True).values_list("pk", "site_id", "events")
    return [
        Subscription(pk, site_id, frozenset(e for e in events or () if e in EVENTS))
        for pk, site_id, events in rows
    ]


def active_subscriptions() -> list[Subscription]:
    """The active endpoints' subscriptions: from the cache, else one query (then cached).
    A cache outage costs that query, never the caller's change."""
    try:
        cached: list[Subscription] | None = cache.get(CACHE_KEY)
    except Exception:
        logger.warning("cache unavailable; reading webhook subscriptions", exc_info=True)
        return _read_subscriptions()
    if cached is not None:
        return cached
    subscriptions = _read_subscriptions()
    try:
        cache.set(CACHE_KEY, subscriptions, CACHE_SECONDS)
    except Exception:
        logger.warning("could not cache webhook subscriptions", exc_info=True)
    return subscriptions


def forget_subscriptions(**_: Any) -> None:
    """Forget the cached subscriptions now and again when the transaction commits (a writer
    that read the old endpoints in between would otherwise cache them again)."""
    forget_now_and_at_commit(CACHE_KEY)


def store_events(sender: Any = None, *, rows: Sequence[AuditLog], **_: Any) -> None:
    """``audit_recorded`` receiver: store a delivery for every (row, subscribed endpoint), in
    the caller's transaction, and have them sent when it commits."""
    subscriptions = active_subscriptions()
    if not subscriptions:
        return
    matches = [(row, sub) for row in rows for sub in subscriptions if sub.wants(row)]
    if not matches:
        return
    comments = _comment_facts(row for row, _sub in matches)
    deliveries = []
    for row, sub in matches:
        delivery = WebhookDelivery(endpoint_id=sub.endpoint_id, event=row.action)
        delivery.payload = event_payload(row, delivery_id=str(delivery.pk), comments=comments)
        deliveries.append(delivery)
    WebhookDelivery.objects.bulk_create(deliveries)
    send_on_commit([d.pk for d in deliveries])


def send_on_commit(delivery_ids: list[Any]) -> None:
    """Queue the deliveries once the transaction commits (and, in a web request, once its
    response is sent: a slow receiver never holds up the reader or the moderator). A lost
    task is no loss: retry_due sends whatever is still due."""
    from civility.ops.after_response import run_after_response

    ids = [str(pk) for pk in delivery_ids]
    transaction.on_commit(partial(run_after_response, partial(_queue, ids)))


def _queue(delivery_ids: list[str]) -> None:
    from civility.webhooks.tasks import deliver_task

    for delivery_id in delivery_ids:
        try:
            deliver_task.delay(delivery_id)
        except Exception:  # the broker is down: the beat's retry_due sends it later
            logger.warning("could not queue webhook delivery %s", delivery_id, exc_info=True)


def _comment_facts(rows: Iterable[AuditLog]) -> dict[str, tuple[str, int]]:
    """comment id -> (status, thread id) for the comments ``rows`` are about: one query."""
    from civility.discussion.models import Comment

    ids = {comment_id for row in rows if (comment_id := _comment_id_of(row))}
    if not ids:
        return {}
    found = Comment.objects.filter(pk__in=[int(pk) for pk in ids if pk.isdigit()])
    return {
        str(pk): (str(status), int(thread_id))
        for pk, status, thread_id in found.values_list("pk", "status", "thread_id")
    }


def _comment_id_of(row: AuditLog) -> str | None:
    """The comment an event is about: its target, or the comment a review request contests."""
    if row.target_type == COMMENT_TYPE:
        return str(row.target_id)
    if row.target_type == REVIEW_TYPE and isinstance(row.data, dict):
        comment_id = row.data.get("comment_id")
        return str(comment_id) if isinstance(comment_id, int) else None
    return None


def _site_domain(site_id: int | None) -> str | None:
    if site_id is None:
        return None
    from civility.sites.current import site_by_id

    return site_by_id(site_id).domain or None


def event_payload(
    row: AuditLog, *, delivery_id: str, comments: dict[str, tuple[str, int]]
) -> dict[str, Any]:
    """What a receiver is told about ``row``: ids and public links, never the comment's text,
    the before/after values, notes or e-mail addresses (docs/webhooks.md)."""
    payload: dict[str, Any] = {
        "id": delivery_id,
        "event": row.action,
        "occurred_at": row.created_at.isoformat(),
        "site": _site_domain(row.site_id),
        "target": {"type": row.target_type, "id": row.target_id},
        "actor": row.actor_label,
        "rule": row.rule,
    }
    comment_id = _comment_id_of(row)
    if comment_id is not None and comment_id in comments:
        status, thread_id = comments[comment_id]
        payload["comment"] = comment_summary(int(comment_id), status, thread_id)
    return payload


def comment_summary(comment_id: int, status: str, thread_id: int) -> dict[str, Any]:
    from django.urls import reverse

    return {
        "id": comment_id,
        "status": status,
        "thread_id": thread_id,
        "url": settings.SITE_URL + reverse("discussion:comment", args=[comment_id]),
    }


def ping_payload(
    delivery_id: str, *, occurred_at: str, endpoint: WebhookEndpoint
) -> dict[str, Any]:
    """The admin's test event: the same shape as every event, about the endpoint itself."""
    return {
        "id": delivery_id,
        "event": PING,
        "occurred_at": occurred_at,
        "site": _site_domain(endpoint.site_id),
        "target": {"type": WebhookEndpoint._meta.label_lower, "id": str(endpoint.pk)},
        "actor": "system",
        "rule": "",
    }
