"""Personal data: IP addresses as keyed hashes with a retention period, no e-mail addresses or
tokens in the logs, and a staff-only, logged reveal of what moderators do not see."""

from __future__ import annotations

import io
import ipaddress
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from civility.security import log_redaction
from civility.security.privacy import (
    PSEUDONYM_PREFIX,
    is_pseudonym,
    pseudonymise_ip,
    purge_ip_addresses,
)

pytestmark = pytest.mark.django_db


# --- IP addresses -------------------------------------------------------------------------------


def test_an_address_becomes_a_keyed_pseudonym(settings: Any) -> None:
    first = pseudonymise_ip("203.0.113.9")
    assert ipaddress.ip_address(first) in PSEUDONYM_PREFIX
    assert first == pseudonymise_ip("203.0.113.9")  # equal addresses stay comparable
    assert first != pseudonymise_ip("203.0.113.10")
    assert pseudonymise_ip(first) == first  # idempotent
    assert pseudonymise_ip("2001:db8::1") == pseudonymise_ip("2001:DB8:0::1")
    assert "203.0.113.9" not in first and pseudonymise_ip("") == ""
    settings.SECRET_KEY = "another-key-" * 5
    assert pseudonymise_ip("203.0.113.9") != first  # the key, not the address, makes it


@pytest.fixture
def pseudonymise(settings: Any) -> None:
    settings.CIVILITY_IP_PSEUDONYMISE = True


def test_stored_addresses_are_pseudonyms(
    pseudonymise: None, make_user: Any, article: Any, lenient_policy: Any
) -> None:
    from civility.discussion.services import post_comment, thread_for_article

    user = make_user()
    comment = post_comment(
        author=user, thread=thread_for_article(article), text="A fair point.", ip="198.51.100.4"
    ).comment
    comment.refresh_from_db()
    assert comment.ip_address == pseudonymise_ip("198.51.100.4")
    user.signup_ip = "198.51.100.4"
    user.save()
    user.refresh_from_db()
    assert is_pseudonym(user.signup_ip)


def test_signing_in_stores_a_pseudonym(pseudonymise: None, make_user: Any) -> None:
    user = make_user("grace@example.org")
    client = Client(REMOTE_ADDR="192.0.2.44")
    client.post("/accounts/login/", {"login": "grace@example.org", "password": "S3cure-pass!"})
    user.refresh_from_db()
    assert user.last_login_ip == pseudonymise_ip("192.0.2.44")


def test_addresses_are_cleared_after_the_retention_period(
    settings: Any, make_user: Any, article: Any, lenient_policy: Any
) -> None:
    from civility.discussion.models import Comment
    from civility.discussion.services import thread_for_article

    settings.CIVILITY_IP_RETENTION_DAYS = 30
    thread = thread_for_article(article)
    author = make_user()
    old = Comment.objects.create(
        thread=thread,
        author=author,
        text="old",
        ip_address="198.51.100.1",
        created_at=timezone.now() - timedelta(days=31),
    )
    recent = Comment.objects.create(
        thread=thread, author=author, text="new", ip_address="198.51.100.2"
    )
    type(author).objects.filter(pk=author.pk).update(
        signup_ip="198.51.100.3",
        date_joined=timezone.now() - timedelta(days=40),
        last_login_ip="198.51.100.4",
        last_login=timezone.now(),
    )
    cleared = purge_ip_addresses()
    assert cleared["discussion.Comment.ip_address"] == 1
    assert cleared["accounts.User.signup_ip"] == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    author.refresh_from_db()
    assert old.ip_address is None and recent.ip_address is not None
    assert author.signup_ip is None and author.last_login_ip is not None
    out = io.StringIO()
    call_command("purge_ip_addresses", stdout=out)
    assert "cleared" in out.getvalue()


def test_the_purge_runs_daily_under_beat(settings: Any) -> None:
    jobs = {job["task"] for job in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "civility.security.purge_ip_addresses" in jobs
    assert "civility.discussion.moderate_stale_pending" in jobs  # the others' jobs are kept


# --- Logs -----------------------------------------------------------------------------------------

SECRET_LINES = {
    "could not e-mail the appeal outcome to alice.smith+news@example.org": "alice.smith",
    "Authorization: Bearer cvt_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA": "cvt_Zm9v",
    "token cvt_abcdefghijklmnop was revoked": "abcdefghijkl",
    "GET /accounts/confirm-email/MTE:1vB3xY:abcdefgh/ 200": "MTE:1vB3xY",
    "GET /accounts/password/reset/key/1z-c3b9f0a1b2c3d4e5/ 200": "c3b9f0a1b2c3",
    "GET /account/restore/eyJ1IjoxfQ:1vB3:sig123/ 200": "eyJ1IjoxfQ",
    "GET /?password=hunter2hunter2&next=/": "hunter2",
    "settings: secret_key='django-insecure-abcdef123456'": "django-insecure",
    "POST /api/auth/token {'email': 'bob@example.org', 'password': 'S3cure-pass!'}": "S3cure",
}


@pytest.mark.parametrize("line", list(SECRET_LINES))
def test_redaction_removes_addresses_and_secrets(line: str) -> None:
    redacted = log_redaction.redact(line)
    assert SECRET_LINES[line] not in redacted
    assert "@example.org" not in redacted
    assert log_redaction.REDACTED in redacted


@pytest.mark.parametrize(
    "line",
    [
        "engine failed on comment 42: status code: 500 in 3.2 s",
        "django.utils.datastructures.MultiValueDictKeyError: 'app_label'",
        "KeyError: 'thread_id'",
        "Unauthorized: /api/auth/token",
    ],
)
def test_redaction_keeps_ordinary_messages(line: str) -> None:
    """Including tracebacks (a *KeyError* names a missing key) and Django's request log."""
    assert log_redaction.redact(line) == line


def test_every_record_is_redacted_whatever_handler_writes_it() -> None:
    assert isinstance(logging.getLogRecordFactory(), log_redaction.RedactingRecordFactory)
    stream = io.StringIO()
    late = logging.StreamHandler(stream)  # added after start-up, without the filter
    logger = logging.getLogger("civility.security.tests.late")
    logger.addHandler(late)
    try:
        logger.error("reset link for %s: /accounts/password/reset/key/1z-abcdef123456/", "x@y.org")
    finally:
        logger.removeHandler(late)
    assert "x@y.org" not in stream.getvalue() and "abcdef123456" not in stream.getvalue()


def test_the_configured_console_handler_redacts() -> None:
    civility_console = logging.getLogger("civility").handlers[0]
    assert isinstance(civility_console, logging.StreamHandler)
    stream = io.StringIO()
    # Not setStream(): it flushes the old stream, which may be the captured stderr of an
    # earlier test that configured logging again, closed by now.
    previous = civility_console.stream
    civility_console.stream = stream
    try:
        logging.getLogger("civility.moderation.services").warning(
            "could not e-mail %s with token %s", "carol@example.org", "cvt_SECRETSECRETSECRET"
        )
        try:
            raise ValueError("no mailbox for dave@example.org")
        except ValueError:
            logging.getLogger("civility.notifications").exception("push failed")
    finally:
        civility_console.stream = previous
    written = stream.getvalue()
    assert "could not e-mail [redacted]" in written and "push failed" in written
    assert "carol@" not in written and "SECRETSECRET" not in written and "dave@" not in written


# --- What moderators see ---------------------------------------------------------------------


@pytest.fixture
def subject(make_user: Any) -> Any:
    user = make_user("erin@example.org", display_name="Erin")
    type(user).objects.filter(pk=user.pk).update(signup_ip=pseudonymise_ip("192.0.2.1"))
    user.refresh_from_db()
    return user


def test_staff_reveal_personal_data_with_a_reason_that_is_logged(
    make_user: Any, subject: Any
) -> None:
    from civility.moderation.models import AuditLog

    twin = make_user("sock@example.org", display_name="Sock")
    type(twin).objects.filter(pk=twin.pk).update(last_login_ip=subject.signup_ip)
    staff = make_user("ops@example.org", staff=True)
    client = Client()
    client.force_login(staff)
    url = f"/moderation/users/{subject.pk}/personal-data/"
    form = client.get(url)
    assert form.status_code == 200 and b"erin@example.org" not in form.content
    assert client.post(url, {"reason": "short"}).status_code == 400
    assert not AuditLog.objects.filter(action="personal_data.revealed").exists()
    shown = client.post(url, {"reason": "Police request 2026/114 about threats"})
    assert shown.status_code == 200
    assert b"erin@example.org" in shown.content
    assert b"Sock" in shown.content  # the other account from the same address
    assert shown["Cache-Control"] == "no-store"
    entry = AuditLog.objects.get(action="personal_data.revealed")
    assert entry.actor == staff and entry.subject_user == subject
    assert entry.data["reason"] == "Police request 2026/114 about threats"


def test_moderators_cannot_reveal(make_user: Any, subject: Any) -> None:
    client = Client()
    client.force_login(make_user(moderator=True))
    url = f"/moderation/users/{subject.pk}/personal-data/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "I am curious about this one"}).status_code == 403


def test_moderator_pages_show_no_email_addresses(
    make_user: Any, subject: Any, article: Any, lenient_policy: Any
) -> None:
    from civility.discussion.models import Comment, CommentStatus
    from civility.discussion.services import thread_for_article

    comment = Comment.objects.create(
        thread=thread_for_article(article),
        author=subject,
        text="Pending.",
        status=CommentStatus.PENDING,
    )
    client = Client()
    client.force_login(make_user(moderator=True))
    for url in (
        "/moderation/queue/all/",
        f"/moderation/comments/{comment.pk}/",
        f"/moderation/users/{subject.pk}/",
    ):
        assert b"erin@example.org" not in client.get(url).content, url
