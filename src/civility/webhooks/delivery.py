"""Send one delivery: claim it, sign it, POST it, record the outcome.

Delivery is at least once: a worker that dies after the receiver answered but before the
outcome is written sends again once its claim expires. Receivers dedupe on the
Civility-Delivery header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

import civility
from civility.webhooks.addresses import RefusedAddress, check_url
from civility.webhooks.models import (
    OPEN_STATUSES,
    DeliveryStatus,
    PayloadFormat,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

USER_AGENT = f"Civility-Webhooks/{civility.__version__}"
# How long a claim lasts beyond the request's own timeout before another worker may take the
# delivery over (its first worker is then presumed dead).
CLAIM_MARGIN_SECONDS = 55
ERROR_CHARS = 300


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Civility-Signature header: ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.
    The timestamp lets receivers refuse old (replayed) requests."""
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: doubling from the first retry's,
    capped."""
    first = int(settings.CIVILITY_WEBHOOKS_FIRST_RETRY_SECONDS)
    cap = int(settings.CIVILITY_WEBHOOKS_MAX_RETRY_SECONDS)
    return timedelta(seconds=min(cap, first * 2 ** min(max(attempts - 1, 0), 30)))


def claim(delivery_id: Any, *, now: datetime | None = None) -> datetime | None:
    """Take the delivery for this worker if it is due (pending and due, or sending with an
    expired claim); returns the claim's end (the token that writes its outcome) or None.

    One conditional UPDATE on the delivery's own row: of two workers, the second finds the
    row changed (PostgreSQL re-checks the condition after the first commits; SQLite runs one
    writer at a time) and updates nothing.
    """
    now = now or timezone.now()
    timeout = float(settings.CIVILITY_WEBHOOKS_TIMEOUT_SECONDS)
    until = now + timedelta(seconds=timeout + CLAIM_MARGIN_SECONDS)
    taken = WebhookDelivery.objects.filter(
        pk=delivery_id, status__in=OPEN_STATUSES, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, claimed_until=until, next_attempt_at=until)
    return until if taken else None


def deliver(delivery_id: Any) -> str:
    """Send the delivery if it is due and its endpoint active; returns what happened
    ("delivered", "retry", "failed", "skipped"). Never raises: it may run inline, after the
    request that caused the event."""
    try:
        return _deliver(delivery_id)
    except Exception:
        logger.exception("webhook delivery %s failed unexpectedly", delivery_id)
        return "error"


def _deliver(delivery_id: Any) -> str:
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "skipped"
    endpoint = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).first()
    if endpoint is None:  # deleted while the delivery was being written (no FK constraint)
        WebhookDelivery.objects.filter(pk=delivery.pk).delete()
        return "skipped"
    if not endpoint.active:  # kept; sent if the endpoint is enabled again
        return "skipped"
    claimed_until = claim(delivery.pk)
    if claimed_until is None:
        return "skipped"
    status_code, error = post(endpoint, delivery)
    if status_code is not None and 200 <= status_code < 300:
        _delivered(delivery, endpoint, claimed_until, status_code)
        return "delivered"
    return _failed(delivery, endpoint, claimed_until, status_code, error)


def slack_message(event: str, payload: dict[str, Any]) -> dict[str, str]:
    """An event as one line of a Slack channel (Mattermost and Rocket.Chat read the same
    ``text``): what happened, the rule, and a link to the comment. In the site's language:
    a channel is read by the whole newsroom. No comment text, as in every payload."""
    from django.utils import translation

    from civility.webhooks.events import EVENTS

    with translation.override(settings.LANGUAGE_CODE):
        meaning = str(EVENTS.get(event, event))
    parts = [f"*{event}*", meaning]
    if payload.get("rule"):
        parts.append(f"rule: {payload['rule']}")
    if payload.get("site"):
        parts.append(f"site: {payload['site']}")
    comment = payload.get("comment")
    text = " · ".join(parts)
    if isinstance(comment, dict) and comment.get("url"):
        text += f" <{comment['url']}|comment {comment.get('id')}>"
    return {"text": text}


def post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the signed payload; returns (HTTP status or None, a short error). The body of
    the answer is read only for an error's first characters."""
    try:
        check_url(endpoint.url)
    except RefusedAddress as exc:
        return None, str(exc)
    body = (
        body_of(slack_message(delivery.event, delivery.payload))
        if endpoint.payload_format == PayloadFormat.SLACK
        else body_of(delivery.payload)
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Civility-Event": delivery.event,
        "Civility-Delivery": str(delivery.pk),
        "Civility-Signature": signature(endpoint.secret, int(time.time()), body),
    }
    try:
        with requests.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=float(settings.CIVILITY_WEBHOOKS_TIMEOUT_SECONDS),
            allow_redirects=False,
            stream=True,
        ) as response:
            if 200 <= response.status_code < 300:
                return response.status_code, ""
            start = response.raw.read(ERROR_CHARS, decode_content=True) or b""
            text = start.decode("utf-8", "replace").strip()
            return response.status_code, f"HTTP {response.status_code}: {text}"[:ERROR_CHARS]
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]


def _delivered(
    delivery: WebhookDelivery, endpoint: WebhookEndpoint, claimed_until: datetime, code: int
) -> None:
    WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_until=claimed_until
    ).update(
        status=DeliveryStatus.DELIVERED,
        attempts=F("attempts") + 1,
        last_status_code=code,
        last_error="",
        delivered_at=timezone.now(),
        claimed_until=None,
    )
    if endpoint.consecutive_failures:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)


def _failed(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    claimed_until: datetime,
    code: int | None,
    error: str,
) -> str:
    attempts = delivery.attempts + 1
    gave_up = attempts >= int(settings.CIVILITY_WEBHOOKS_MAX_ATTEMPTS)
    now = timezone.now()
    written = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_until=claimed_until
    ).update(
        status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
        attempts=attempts,
        last_status_code=code,
        last_error=error,
        next_attempt_at=now if gave_up else now + backoff(attempts),
        claimed_until=None,
    )
    logger.info("webhook delivery %s to endpoint %s failed: %s", delivery.pk, endpoint.pk, error)
    if not (gave_up and written):
        return "retry"
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint.refresh_from_db(fields=["consecutive_failures", "active"])
    limit = int(settings.CIVILITY_WEBHOOKS_DISABLE_AFTER_FAILURES)
    if endpoint.active and limit and endpoint.consecutive_failures >= limit:
        from civility.webhooks.services import disable_endpoint

        disable_endpoint(
            endpoint,
            reason=_("%(count)s deliveries in a row were given up; the last: %(error)s")
            % {"count": endpoint.consecutive_failures, "error": error},
        )
    return "failed"
