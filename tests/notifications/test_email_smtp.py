"""Every e-mail Civility sends, in HTML and text, through real SMTP to a local aiosmtpd server."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.urls import reverse

from civility.accounts import services as account_services
from civility.config.settings import mailer_from_url
from civility.notifications import services
from civility.notifications.tasks import send_notification_mail_task
from tests.accounts.helpers import PASSWORD, make_user, solved_captcha
from tests.notifications.test_email_queue import queued_tasks
from tests.ops.conftest import celery_broker, redis_url  # noqa: F401

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.connections: list[Any] = []  # the client's (host, port) of each message
        self.refused: set[str] = set()  # recipients the server refuses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refused:
            return "451 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.connections.append(session.peer)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp_inbox(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's start-up check cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{port}")}
        yield inbox
    finally:
        controller.stop()


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "both a text and an HTML part"
    return text.get_content(), html.get_content()


def test_all_mails_go_through_smtp_in_html_and_text(
    smtp_inbox: Inbox, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    client = Client()
    # Verification (sign-up).
    signup = client.post(
        "/accounts/signup/",
        {
            "email": "mia@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "accept_standards": "on",
            "altcha": solved_captcha(client),
        },
    )
    assert signup.status_code == 302
    (verification,) = smtp_inbox.to("mia@example.org")
    text, html = parts(verification)
    assert "/accounts/confirm-email/" in text and "Confirm my e-mail address" in html

    # Password reset.
    make_user("nina@example.org")
    client.post(
        reverse("account_reset_password"),
        {"email": "nina@example.org", "altcha": solved_captcha(client)},
    )
    (reset,) = smtp_inbox.to("nina@example.org")
    text, html = parts(reset)
    assert "/accounts/password/reset/key/" in text and "Choose a new password" in html

    # Restore link after deletion (sent on commit).
    oscar = make_user("oscar@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.delete_account(oscar)
    (restore,) = smtp_inbox.to("oscar@example.org")
    text, html = parts(restore)
    assert "/account/restore/" in text and "Restore my account" in html

    # Appeal outcome.
    services.send_appeal_outcome_mail(
        recipient_email="pia@example.org", restored=True, message="Welcome back."
    )
    (appeal,) = smtp_inbox.to("pia@example.org")
    text, html = parts(appeal)
    assert "restored your access" in text and "Welcome back." in html

    # Reply notification (opt-in).
    quentin = make_user("quentin@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.notify_reply(
                recipient=quentin, replier_name="Ria", article_title="Rain", url="http://x/a/#c1"
            )
            == 0
        )
        services.update_settings(quentin, email_replies=True)
        assert (
            services.notify_reply(
                recipient=quentin,
                replier_name="Ria",
                article_title="Rain",
                url="http://x/a/#c1",
                excerpt="Bring an umbrella.",
            )
            == 1
        )
    (reply,) = smtp_inbox.to("quentin@example.org")
    text, html = parts(reply)
    assert "Ria replied to your comment" in str(reply["Subject"])
    assert "Bring an umbrella." in text and "Read the reply" in html


def test_an_editors_pick_is_e_mailed_to_an_author_who_asked_for_it(
    smtp_inbox: Inbox, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from civility.moderation.services import set_featured
    from tests.accounts.helpers_discussion import published_comment

    moderator = make_user("moderator@example.org")
    rhea = make_user("rhea@example.org", display_name="Rhea")
    first = published_comment(rhea, "The ferry timetable needs a winter version.")
    with django_capture_on_commit_callbacks(execute=True):
        set_featured(first, moderator=moderator, featured=True)
    assert smtp_inbox.to("rhea@example.org") == [], "e-mails about picks are opt-in"

    services.update_settings(rhea, email_featured=True)
    second = published_comment(rhea, "And a night ferry on Fridays.")
    with django_capture_on_commit_callbacks(execute=True):
        set_featured(second, moderator=moderator, featured=True)
    (pick,) = smtp_inbox.to("rhea@example.org")
    text, html = parts(pick)
    assert str(pick["Subject"]).endswith("Your comment is an editors' pick")
    title = str(second.thread.display_title)
    assert f"under “{title}” as an editors' pick" in text
    assert "And a night ferry on Fridays." in html and "See your comment" in html
    assert second.get_absolute_url() in text and "/notifications/" in text

    with django_capture_on_commit_callbacks(execute=True):
        set_featured(second, moderator=moderator, featured=False)
        set_featured(second, moderator=moderator, featured=True)
    assert len(smtp_inbox.to("rhea@example.org")) == 1, "picked again: no second e-mail"


def test_a_suspension_is_e_mailed_in_html_and_text(
    smtp_inbox: Inbox, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from civility.moderation.services import suspend_user

    moderator = make_user("moderator@example.org")
    sam = make_user("sam@example.org", display_name="Sam")
    with django_capture_on_commit_callbacks(execute=True):
        suspend_user(sam, moderator=moderator, hours=72, reason="Repeated insults.")
    (mail,) = smtp_inbox.to("sam@example.org")
    text, html = parts(mail)
    assert str(mail["Subject"]).endswith("Your account is suspended for a while")
    assert "The moderators suspended your account until" in text
    assert "Repeated insults." in text and "Repeated insults." in html
    assert "/standards/" in text and "Our community standards" in html


def test_an_engine_removal_after_posting_is_e_mailed_in_html_and_text(
    smtp_inbox: Inbox, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    author = make_user("sven@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.notify_removal(
                recipient=author,
                article_title="Bridge vote",
                rule_label="rule 12, Profanity",
                review_url="http://x/my/comments/7/review/",
                excerpt="A rude remark.",
                by_engine=True,
            )
            == 1
        )
    (removal,) = smtp_inbox.to("sven@example.org")
    text, html = parts(removal)
    assert str(removal["Subject"]).endswith("Your comment was removed")
    assert "Our automatic moderation removed your comment" in text
    assert "rule 12, Profanity" in html and "/my/comments/7/review/" in html


def test_a_mail_server_that_is_down_fails_no_committed_work(
    settings: Any, django_capture_on_commit_callbacks: Callable[..., Any], caplog: Any
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{port}")}
    author = make_user("tove@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        queued = services.notify_removal(
            recipient=author,
            article_title="Bridge vote",
            rule_label="",
            review_url="http://x/my/comments/8/review/",
        )
    assert queued == 1  # queued, then refused by the server: logged, not raised
    assert any("notification mail" in record.getMessage() for record in caplog.records)


def test_a_batch_of_removal_mails_shares_one_smtp_connection(
    smtp_inbox: Inbox,
    celery_broker: tuple[Any, str],  # noqa: F811
) -> None:
    readers = [make_user(f"reader{n}") for n in range(4)]
    smtp_inbox.refused.add(readers[1].email)
    context = {"url": "https://news.example/x", "excerpt": "", "article_title": "Bridge"}
    context |= {"rule_label": "Insults", "by_engine": True}
    jobs = [["notifications/email/removed", r.email, r.pk, context] for r in readers]
    assert services.send_notification_mails(jobs) == 3
    assert [str(m["To"]) for m in smtp_inbox.messages] == [
        readers[0].email,
        readers[2].email,
        readers[3].email,
    ]
    # One connection before the refusal; after it, the session is opened anew once.
    assert len(set(smtp_inbox.connections)) == 2
    assert smtp_inbox.connections[1] == smtp_inbox.connections[2]
    # The refused mail waits on the broker, to be tried again alone.
    _, queue = celery_broker
    [(name, arguments)] = queued_tasks(queue)
    assert name == send_notification_mail_task.name
    assert arguments == jobs[1]
