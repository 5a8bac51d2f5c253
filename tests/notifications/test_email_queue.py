"""Notification e-mails leave a worker's batch as tasks of their own, on a real Redis broker.

A worker that decides a batch of comments must not render and send the batch's removal e-mails
itself (one SMTP conversation after another) before it takes the next batch, and a mail server
that refuses must get the message again later rather than have it logged and lost.
"""

from __future__ import annotations

import json
import smtplib
from typing import Any

import pytest
from django.core import mail

from civility.discussion import tasks
from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import thread_for_article
from civility.notifications import services
from civility.notifications.tasks import send_notification_mail_task, send_notification_mails_task
from tests.ops.conftest import broker_down, celery_broker, redis_url  # noqa: F401

pytestmark = pytest.mark.django_db

ABUSIVE = "You are a fucking idiot, shut the fuck up and go away."


def removed_by_a_worker(reader: Any, article: Any, capture: Any, count: int = 2) -> list[Any]:
    thread = thread_for_article(article)
    comments = Comment.objects.bulk_create(
        Comment(thread=thread, site_id=thread.site_id, author=reader, text=f"{ABUSIVE} {n}")
        for n in range(count)
    )
    with capture(execute=True):
        assert tasks.moderate_batch([c.pk for c in comments]) == count
    for comment in comments:
        comment.refresh_from_db()
        assert comment.status == CommentStatus.REJECTED
    return comments


def queued_tasks(queue: str) -> list[tuple[str, list[Any]]]:
    """(task name, arguments) of each message waiting on ``queue`` (kombu's JSON envelope)."""
    import base64

    import redis

    client = redis.Redis.from_url(redis_url())
    try:
        found = []
        for raw in client.lrange(queue, 0, -1):
            envelope = json.loads(raw)
            arguments, _, _ = json.loads(base64.b64decode(envelope["body"]))
            found.append((envelope["headers"]["task"], arguments))
        return found
    finally:
        client.close()


@pytest.mark.parametrize(
    ("removals", "task", "result"),
    [(3, send_notification_mails_task, 3), (1, send_notification_mail_task, True)],
    ids=["a batch's mails: one task", "one mail: a task that retries"],
)
def test_with_a_broker_the_worker_queues_the_removal_mails_instead_of_sending_them(
    removals: int,
    task: Any,
    result: Any,
    reader: Any,
    article: Any,
    celery_broker: tuple[Any, str],  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, queue = celery_broker
    removed_by_a_worker(reader, article, django_capture_on_commit_callbacks, count=removals)
    assert mail.outbox == []
    [(name, arguments)] = queued_tasks(queue)
    assert name == task.name
    # What a worker runs: the message's own arguments, through the task.
    assert task.apply(args=arguments).get() == result
    assert len(mail.outbox) == removals
    message = mail.outbox[0]
    assert message.to == [reader.email]
    assert "Our automatic moderation removed your comment" in message.body


def test_a_mail_of_a_batch_that_the_server_refuses_is_queued_again_alone(
    reader: Any,
    make_user: Any,
    celery_broker: tuple[Any, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, queue = celery_broker
    other = make_user("other")
    original = services.send_templated_mail

    def refusing_the_reader(
        template_prefix: str, email: str, context: dict[str, Any], connection: Any = None
    ) -> None:
        if email == reader.email:
            raise smtplib.SMTPRecipientsRefused({email: (451, b"try again later")})
        original(template_prefix, email, context, connection)

    monkeypatch.setattr(services, "send_templated_mail", refusing_the_reader)
    context = {"url": "https://news.example/x", "excerpt": "", "article_title": "Bridge"}
    jobs = [
        ["notifications/email/removed", user.email, user.pk, context] for user in (reader, other)
    ]
    assert services.send_notification_mails(jobs) == 1
    assert [m.to for m in mail.outbox] == [[other.email]]
    [(name, arguments)] = queued_tasks(queue)
    assert name == send_notification_mail_task.name
    assert arguments == jobs[0]


def test_with_the_broker_down_the_mail_is_sent_inline(
    reader: Any,
    article: Any,
    broker_down: Any,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    removed_by_a_worker(reader, article, django_capture_on_commit_callbacks, count=1)
    assert len(mail.outbox) == 1
    assert "Our automatic moderation removed your comment" in mail.outbox[0].body


def test_a_queued_mail_follows_an_account_that_moved_and_skips_one_deactivated_since(
    reader: Any, make_user: Any
) -> None:
    context = {"url": "https://news.example/x", "excerpt": "…", "article_title": "Bridge"}
    context |= {"rule_label": "Insults", "by_engine": True}
    template = "notifications/email/removed"
    assert services.send_notification_mail(template, reader.email, reader.pk, context) is True
    assert len(mail.outbox) == 1
    assert "Bridge" in mail.outbox[0].body
    # The reader changed their address after the mail was queued: the new one gets it.
    assert services.send_notification_mail(template, "old@example.org", reader.pk, context) is True
    assert [m.to for m in mail.outbox] == [[reader.email], [reader.email]]
    gone = make_user("gone")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert services.send_notification_mail(template, gone.email, gone.pk, context) is False
    assert len(mail.outbox) == 2


def test_a_mail_server_that_refuses_gets_the_message_again_later(
    reader: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []

    def refusing(
        template_prefix: str, email: str, context: dict[str, Any], connection: Any = None
    ) -> None:
        attempts.append(email)
        raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")

    monkeypatch.setattr(services, "send_templated_mail", refusing)
    arguments = ("notifications/email/removed", reader.email, reader.pk, {"url": "u"})
    result = send_notification_mail_task.apply(args=arguments)
    # Eager runs retry in place: every attempt the task allows, then the error.
    assert len(attempts) == send_notification_mail_task.max_retries + 1
    with pytest.raises(smtplib.SMTPServerDisconnected):
        result.get()
