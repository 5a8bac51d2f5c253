"""The admin: endpoints (checkboxes, read-only secret, test event, re-enable) and deliveries
(read-only, send again), for a superuser; the events allow-list; the beat schedule."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from civility.moderation.models import AuditLog
from civility.webhooks.events import EVENTS
from civility.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.webhooks.conftest import Receiver, verifies

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]


@pytest.fixture
def admin_client(make_user: Callable[..., Any]) -> Client:
    operator = make_user("operator@example.org", staff=True)
    operator.is_superuser = True
    operator.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(operator)
    return client


def test_the_allow_list_keeps_private_actions_out() -> None:
    assert "ping" in EVENTS and "comment.approved" in EVENTS and "policy.saved" in EVENTS
    for name in EVENTS:
        assert not name.startswith(("reader.", "account.", "user.note_", "webhook.", "comments."))


def test_an_unknown_event_is_refused(settings: Any) -> None:
    from django.core.exceptions import ValidationError

    settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = WebhookEndpoint(url="http://127.0.0.1:9/", events=["reader.ignored"])
    with pytest.raises(ValidationError, match=r"reader\.ignored"):
        endpoint.full_clean()


def test_the_beat_schedule_sends_due_deliveries_every_minute_and_purges_daily() -> None:
    from django.conf import settings

    from civility.config.celery import app

    app.loader.import_default_modules()
    schedule: dict[str, Any] = {
        str(entry["task"]): entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert float(schedule["civility.webhooks.retry_due"]["schedule"]) == 60
    assert "civility.webhooks.purge" in schedule
    # The other apps' jobs are still there (the schedule is extended, not replaced).
    assert "civility.discussion.moderate_stale_pending" in schedule
    assert "civility.security.purge_ip_addresses" in schedule
    for name in ("civility.webhooks.deliver", "civility.webhooks.retry_due"):
        assert name in app.tasks


def test_an_operator_adds_an_endpoint_and_sends_it_a_test_event(
    admin_client: Client, receiver: Receiver, django_capture_on_commit_callbacks: Capture
) -> None:
    add_url = reverse("admin:webhooks_webhookendpoint_add")
    page = admin_client.get(add_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="checkbox" name="events" value="comment.approved"' in html
    assert 'value="reader.ignored"' not in html
    assert '<option value="slack">Slack message</option>' in html

    response = admin_client.post(
        add_url,
        {
            "url": receiver.url,
            "description": "Slack relay",
            "payload_format": "slack",
            "events": ["comment.approved", "ping"],
            "site": "",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["comment.approved", "ping"]
    assert endpoint.payload_format == "slack"
    assert endpoint.secret.startswith("whsec_")
    (saved,) = AuditLog.objects.filter(action="webhook.endpoint_saved")
    assert saved.after["url"] == receiver.url
    assert endpoint.secret not in json.dumps([saved.before, saved.after, saved.data])

    change = admin_client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert change.status_code == 200 and endpoint.secret in change.content.decode()
    listing = admin_client.get(reverse("admin:webhooks_webhookendpoint_changelist"))
    assert listing.status_code == 200 and receiver.url in listing.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:webhooks_webhookendpoint_changelist"),
            {"action": "send_test_event", "_selected_action": [endpoint.pk]},
        )
    assert response.status_code == 302
    (request,) = receiver.received
    assert request.headers["Civility-Event"] == "ping" and verifies(request, endpoint.secret)
    # A Slack endpoint gets the event as one line of text.
    assert json.loads(request.body) == {"text": "*ping* · Test event sent from the admin."}


def test_the_form_refuses_a_private_address(admin_client: Client, settings: Any) -> None:
    settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE = False
    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "http://127.0.0.1:8000/hook", "events": ["ping"], "active": "on"},
    )
    assert response.status_code == 200
    assert "private, loopback or reserved address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_are_read_only_and_can_be_sent_again(
    admin_client: Client,
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    endpoint = make_endpoint(receiver.url, ["ping"])
    failed = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="ping",
        payload={"id": "x", "event": "ping"},
        status=DeliveryStatus.FAILED,
        attempts=12,
        last_error="HTTP 500: down",
    )
    listing = admin_client.get(reverse("admin:webhooks_webhookdelivery_changelist"))
    assert listing.status_code == 200
    filtered = admin_client.get(
        reverse("admin:webhooks_webhookdelivery_changelist"), {"status__exact": "failed"}
    )
    assert filtered.status_code == 200 and str(failed.pk) in filtered.content.decode()
    detail = admin_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[failed.pk]))
    assert detail.status_code == 200 and "HTTP 500: down" in detail.content.decode()
    assert b'name="_save"' not in detail.content
    assert admin_client.get(reverse("admin:webhooks_webhookdelivery_add")).status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:webhooks_webhookdelivery_changelist"),
            {"action": "send_again", "_selected_action": [str(failed.pk)]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.DELIVERED and failed.attempts == 1
    (request,) = receiver.received
    assert request.headers["Civility-Delivery"] == str(failed.pk)
    assert AuditLog.objects.filter(action="webhook.delivery_resent").count() == 1


def test_a_deactivated_endpoint_is_enabled_again_from_the_list(
    admin_client: Client, make_endpoint: Callable[..., WebhookEndpoint], settings: Any
) -> None:
    from civility.webhooks.services import disable_endpoint

    settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = make_endpoint("http://127.0.0.1:9/", ["ping"])
    disable_endpoint(endpoint, reason="20 deliveries in a row were given up")
    listing = admin_client.get(reverse("admin:webhooks_webhookendpoint_changelist"))
    assert listing.status_code == 200
    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "enable", "_selected_action": [endpoint.pk]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active and not endpoint.disabled_reason
    assert AuditLog.objects.filter(action="webhook.endpoint_enabled").count() == 1

    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_delete", args=[endpoint.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()
    assert AuditLog.objects.filter(action="webhook.endpoint_deleted").count() == 1
