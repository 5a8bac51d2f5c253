"""Events reach a real local HTTP receiver: signed, once per subscription, only after commit,
retried with backoff, given up, and the endpoint deactivated when it keeps failing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civility.discussion import tasks as discussion_tasks
from civility.discussion.models import Comment, CommentStatus, HoldReason, Thread
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation import services as moderation
from civility.moderation.models import AuditLog
from civility.sites.models import Site
from civility.webhooks import services
from civility.webhooks.delivery import USER_AGENT, claim
from civility.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from civility.webhooks.tasks import purge_old_deliveries, retry_due
from tests.webhooks.conftest import Receiver, verifies

pytestmark = pytest.mark.django_db

TEXT = "The harbour plan leaves the fishermen out of the talks, which seems short-sighted."
Capture = Callable[..., Any]


def held_comment(article: Any, author: Any, text: str = TEXT) -> Comment:
    return Comment.objects.create(
        thread=thread_for_article(article),
        author=author,
        text=text,
        status=CommentStatus.PENDING,
        hold_reason=HoldReason.ENGINE,
    )


def make_due(*deliveries: WebhookDelivery) -> None:
    """As if the backoff had passed."""
    past = timezone.now() - timedelta(seconds=1)
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(next_attempt_at=past)


def test_an_approval_is_delivered_once_signed_and_without_the_comment_text(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    endpoint = make_endpoint(receiver.url, ["comment.approved"])
    comment = held_comment(article, reader)
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve_comment(comment, moderator=moderator, note="fine after all")

    (request,) = receiver.received
    assert verifies(request, endpoint.secret)
    assert not verifies(request, "whsec_someone-else")
    payload = json.loads(request.body)
    delivery = WebhookDelivery.objects.get()
    assert request.headers["Civility-Event"] == "comment.approved"
    assert request.headers["Civility-Delivery"] == payload["id"] == str(delivery.pk)
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.headers["Content-Type"] == "application/json"
    assert payload["event"] == "comment.approved"
    assert payload["actor"] == f"user:{moderator.pk}"
    assert payload["target"] == {"type": "discussion.comment", "id": str(comment.pk)}
    assert payload["comment"] == {
        "id": comment.pk,
        "status": "published",
        "thread_id": comment.thread_id,
        "url": f"{django_settings.SITE_URL}{comment.get_absolute_url()}",
    }
    body = request.body.decode()
    for private in (TEXT[:20], "fine after all", reader.email, moderator.email):
        assert private not in body
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1 and delivery.last_status_code == 200


def test_an_event_nobody_subscribed_to_sends_nothing(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    make_endpoint(receiver.url, ["comment.rejected"])
    make_endpoint(receiver.url, ["comment.approved"], active=False)
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve_comment(held_comment(article, reader), moderator=moderator)
    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_a_rolled_back_change_sends_nothing(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    make_endpoint(receiver.url, ["comment.approved"])
    comment = held_comment(article, reader)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        moderation.approve_comment(comment, moderator=moderator)
        assert WebhookDelivery.objects.count() == 1  # stored with the change...
        raise RuntimeError("the request failed later")
    assert not WebhookDelivery.objects.exists()  # ...and rolled back with it
    assert receiver.received == []


@pytest.mark.usefixtures("lenient_policy")
def test_engine_batch_decisions_read_the_endpoints_once_per_batch(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    endpoint = make_endpoint(receiver.url, ["comment.engine_decision"])
    thread = thread_for_article(article)
    start = timezone.now() - timedelta(minutes=10)
    comments = Comment.objects.bulk_create(
        Comment(
            thread=thread,
            site_id=thread.site_id,
            author=reader,
            text=f"{TEXT} Point {n}.",
            created_at=start + timedelta(seconds=n),
        )
        for n in range(20)
    )
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        assert discussion_tasks.moderate_batch([c.pk for c in comments]) == 20
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if "webhooks_webhookendpoint" in s]) <= 1
    assert len([s for s in sql if s.startswith('INSERT INTO "webhooks_webhookdelivery"')]) == 1

    for callback in callbacks:
        callback()
    assert len(receiver.received) == 20
    assert all(verifies(request, endpoint.secret) for request in receiver.received)
    ids = {json.loads(r.body)["comment"]["id"] for r in receiver.received}
    assert ids == {c.pk for c in comments}
    assert {json.loads(r.body)["actor"] for r in receiver.received} == {"engine"}
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.usefixtures("lenient_policy")
def test_posting_with_inline_moderation_reads_the_endpoints_from_the_cache(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    make_endpoint(receiver.url, ["comment.posted", "comment.engine_decision"])
    thread = thread_for_article(article)
    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        for n in range(4):
            post_comment(author=reader, thread=thread, text=f"{TEXT} Take {n}.")
    endpoint_reads = [
        q
        for q in queries.captured_queries
        if "webhooks_webhookendpoint" in q["sql"] and "INSERT" not in q["sql"]
    ]
    # The sender reads each delivery's endpoint; the outbox read them at most once.
    assert len(endpoint_reads) <= 1 + len(receiver.received)
    events = sorted(json.loads(r.body)["event"] for r in receiver.received)
    assert events == ["comment.engine_decision"] * 4 + ["comment.posted"] * 4


def test_a_failed_attempt_is_retried_after_the_backoff_and_delivered_once(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    endpoint = make_endpoint(receiver.url, ["comment.approved"])
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve_comment(held_comment(article, reader), moderator=moderator)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1 and delivery.last_status_code == 500
    assert delivery.last_error.startswith("HTTP 500: receiver says no")
    assert len(delivery.last_error) <= 300
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)

    assert retry_due() == 0  # not due yet
    make_due(delivery)
    assert retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    first, second = receiver.received
    assert first.headers["Civility-Delivery"] == second.headers["Civility-Delivery"]
    assert first.body == second.body and verifies(second, endpoint.secret)
    make_due(delivery)
    assert retry_due() == 0
    assert len(receiver.received) == 2


def test_a_receiver_that_is_down_gets_the_event_later(
    receiver: Receiver,
    closed_port_url: str,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    endpoint = make_endpoint(closed_port_url, ["comment.approved"])
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve_comment(held_comment(article, reader), moderator=moderator)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_status_code is None
    assert "ConnectionError" in delivery.last_error

    endpoint.url = receiver.url  # the receiver is back (here: at another address)
    services.save_endpoint(endpoint, by=moderator)
    make_due(delivery)
    assert retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    assert len(receiver.received) == 1


def test_backoff_doubles_and_the_delivery_is_given_up_after_the_last_attempt(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    moderator: Any,
    article: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.CIVILITY_WEBHOOKS_MAX_ATTEMPTS = 3
    receiver.default_status = 503
    endpoint = make_endpoint(receiver.url, ["comment.approved"])
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve_comment(held_comment(article, reader), moderator=moderator)
    delivery = WebhookDelivery.objects.get()
    waits = []
    for _ in range(2):
        delivery.refresh_from_db()
        waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds() / 60))
        make_due(delivery)
        assert retry_due() == 1
    assert waits == [1, 2]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3
    make_due(delivery)
    assert retry_due() == 0
    assert len(receiver.received) == 3
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1 and endpoint.active


def test_an_endpoint_that_keeps_failing_is_deactivated_with_an_audit_row(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    moderator: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.CIVILITY_WEBHOOKS_MAX_ATTEMPTS = 1
    settings.CIVILITY_WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    receiver.default_status = 500
    endpoint = make_endpoint(receiver.url, ["comment.approved", "ping"])
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.send_test_event(endpoint, by=moderator)
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "2 deliveries in a row" in endpoint.disabled_reason
    (row,) = AuditLog.objects.filter(action="webhook.endpoint_disabled")
    assert row.actor_label == "system" and row.target_id == str(endpoint.pk)
    assert endpoint.secret not in json.dumps([row.before, row.after, row.data])

    # Inactive: new events are not stored, a test event waits.
    with django_capture_on_commit_callbacks(execute=True):
        waiting = services.send_test_event(endpoint, by=moderator)
    assert len(receiver.received) == 2
    receiver.default_status = 200
    with django_capture_on_commit_callbacks(execute=True):
        assert services.enable_endpoint(endpoint, by=moderator)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 0
    assert endpoint.disabled_reason == ""
    assert AuditLog.objects.filter(action="webhook.endpoint_enabled").count() == 1
    waiting.refresh_from_db()
    assert waiting.status == DeliveryStatus.DELIVERED
    assert len(receiver.received) == 3


def test_of_two_workers_claiming_a_delivery_one_sends_it(
    make_endpoint: Callable[..., WebhookEndpoint], settings: Any
) -> None:
    settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = make_endpoint("http://127.0.0.1:9/", ["ping"])
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="ping", payload={})
    first = claim(delivery.pk)
    assert first is not None
    assert claim(delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING and delivery.claimed_until == first
    # The first worker died while sending: once its claim runs out, another takes over.
    assert claim(delivery.pk, now=first - timedelta(seconds=1)) is None
    assert claim(delivery.pk, now=first + timedelta(seconds=1)) is not None


def test_an_endpoint_for_one_site_gets_only_that_sites_events(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    other_site = Site.objects.create(name="Русская версия", domain="ru.example.org")
    make_endpoint(receiver.url, ["thread.updated"], site=other_site)
    here = thread_for_article(article)
    there = Thread.objects.create(site=other_site, canonical_url="https://ru.example.org/a")
    with django_capture_on_commit_callbacks(execute=True):
        moderation.update_thread(here, by=moderator, closed=True, premoderated=False)
        moderation.update_thread(there, by=moderator, closed=True, premoderated=False)
    (request,) = receiver.received
    payload = json.loads(request.body)
    assert payload["site"] == "ru.example.org"
    assert payload["target"] == {"type": "discussion.thread", "id": str(there.pk)}
    assert "comment" not in payload


def test_private_addresses_are_refused_when_saved_and_when_sent(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    moderator: Any,
    article: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    endpoint = make_endpoint(receiver.url, ["comment.approved"])  # allowed for the receiver
    settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1:8000/",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "ftp://hooks.example.org/",
    ):
        with pytest.raises(services.RefusedAddress):
            make_endpoint(url, ["ping"])
    assert WebhookEndpoint.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve_comment(held_comment(article, reader), moderator=moderator)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.PENDING
    assert "private" in delivery.last_error
    assert receiver.received == []

    settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE = True
    make_due(delivery)
    assert retry_due() == 1
    assert len(receiver.received) == 1


def test_old_finished_deliveries_are_purged(
    make_endpoint: Callable[..., WebhookEndpoint], settings: Any
) -> None:
    settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = make_endpoint("http://127.0.0.1:9/", ["ping"])
    old = timezone.now() - timedelta(days=31)
    recent = timezone.now() - timedelta(days=29)
    rows = {
        (status, when): WebhookDelivery.objects.create(
            endpoint=endpoint, event="ping", payload={}, status=status, created_at=when
        )
        for status in DeliveryStatus.values
        for when in (old, recent)
    }
    assert purge_old_deliveries() == 2
    kept = set(WebhookDelivery.objects.values_list("pk", flat=True))
    gone = {rows[("delivered", old)].pk, rows[("failed", old)].pk}
    assert kept == {row.pk for row in rows.values()} - gone


def test_a_slack_endpoint_gets_one_line_with_a_link_and_no_text(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    from civility.webhooks.models import PayloadFormat

    endpoint = make_endpoint(receiver.url, ["comment.rejected"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(payload_format=PayloadFormat.SLACK)
    comment = held_comment(article, reader)
    with django_capture_on_commit_callbacks(execute=True):
        moderation.reject_comment(comment, moderator=moderator, rule="insult")
    (request,) = receiver.received
    message = json.loads(request.body)
    url = f"{django_settings.SITE_URL}{comment.get_absolute_url()}"
    assert message == {
        "text": "*comment.rejected* · A moderator removed a comment. · rule: insult"
        f" <{url}|comment {comment.pk}>"
    }
    assert TEXT[:20] not in request.body.decode()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_review_requests_are_announced_with_the_contested_comment_and_no_text(
    receiver: Receiver,
    make_endpoint: Callable[..., WebhookEndpoint],
    reader: Any,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    make_endpoint(receiver.url, ["comment.review_requested", "comment.review_decided"])
    comment = held_comment(article, reader)
    moderation.reject_comment(comment, moderator=moderator, rule="insult")
    explanation = "Calling a plan short-sighted is criticism of a policy, not an insult."
    with django_capture_on_commit_callbacks(execute=True):
        review = moderation.request_review(comment, user=reader, explanation=explanation)
    with django_capture_on_commit_callbacks(execute=True):
        moderation.decide_review(
            review, moderator=moderator, reinstate=False, message="It names another reader."
        )
    requested, decided = (json.loads(request.body) for request in receiver.received)
    assert (requested["event"], decided["event"]) == (
        "comment.review_requested",
        "comment.review_decided",
    )
    for payload in (requested, decided):
        assert payload["target"] == {"type": "moderation.reviewrequest", "id": str(review.pk)}
        assert payload["comment"]["id"] == comment.pk and payload["rule"] == "insult"
    body = b"".join(request.body for request in receiver.received).decode()
    for private in (TEXT[:20], explanation[:20], "names another reader", reader.email):
        assert private not in body
