"""The moderators' daily digest: sent by beat to the moderators who asked for it, once a day,
only when something waits, scoped to the sites each one moderates, through real SMTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import thread_for_article
from civility.moderation.models import Appeal
from civility.notifications import services
from civility.notifications.models import DigestDelivery
from civility.standards.rules import RULES_BY_SLUG
from tests.discussion.conftest import make_article, make_user
from tests.notifications.test_email_smtp import Inbox, parts, smtp_inbox  # noqa: F401

pytestmark = pytest.mark.django_db


def _wants_digest(user: Any) -> Any:
    services.update_settings(user, email_moderation_digest=True)
    return user


def _comment(thread: Any, author: Any, status: str, **fields: Any) -> Comment:
    return Comment.objects.create(
        thread=thread, author=author, text="A remark.", status=status, **fields
    )


@pytest.fixture
def busy_site(reader: Any) -> Any:
    thread = thread_for_article(make_article())
    _comment(thread, reader, CommentStatus.PENDING)
    _comment(thread, reader, CommentStatus.PENDING)
    now = timezone.now()
    for decided_by in ("engine", "engine", "moderator"):
        _comment(
            thread,
            reader,
            CommentStatus.REJECTED,
            rule="insult",
            decided_by=decided_by,
            decided_at=now,
        )
    _comment(thread, reader, CommentStatus.PUBLISHED, decided_by="engine", decided_at=now)
    Appeal.objects.create(
        user=reader, claimed_user_id=str(reader.pk), email=reader.email, explanation="Sorry."
    )
    return thread


def test_a_moderator_who_asked_gets_one_digest_a_day(
    request: pytest.FixtureRequest, busy_site: Any, moderator: Any
) -> None:
    inbox: Inbox = request.getfixturevalue("smtp_inbox")
    _wants_digest(moderator)
    other = make_user("quiet@example.org", name="Quiet", moderator=True)  # did not ask
    assert services.send_moderation_digests() == 1
    (mail,) = inbox.to(moderator.email)
    assert not inbox.to(other.email)
    text, html = parts(mail)
    assert "Moderation digest for" in str(mail["Subject"])
    assert "Pending: 2 · Reported: 0" in text and "Pending: 2 · Reported: 0" in html
    assert "6 posted, 1 published, 2 removed by the engine, 1 removed by moderators" in text
    insult = RULES_BY_SLUG["insult"]
    assert f"Rules broken most: {insult.number}. {insult.title} (3)" in text
    assert "Open unlock requests: 1 · Unhandled messages: 0" in text
    assert "/moderation/" in text and "/notifications/" in html

    assert services.send_moderation_digests() == 0, "once a day, even if beat runs twice"
    assert DigestDelivery.objects.filter(user=moderator).count() == 1
    tomorrow = timezone.now() + timedelta(days=1)
    assert services.send_moderation_digests(now=tomorrow) == 1


def test_nothing_waiting_means_no_digest(moderator: Any, reader: Any, mailoutbox: Any) -> None:
    _wants_digest(moderator)
    thread = thread_for_article(make_article())
    _comment(thread, reader, CommentStatus.PUBLISHED)
    assert services.send_moderation_digests() == 0
    assert not mailoutbox
    assert not DigestDelivery.objects.exists()


def test_readers_cannot_ask_and_site_moderators_see_only_their_sites(
    busy_site: Any, reader: Any, mailoutbox: Any
) -> None:
    from civility.sites.models import ModeratorGrant, Site

    page = Client()
    page.force_login(reader)
    assert "email_moderation_digest" not in page.get("/notifications/").content.decode()
    _wants_digest(reader)  # even set behind the form's back, a reader gets nothing
    assert services.send_moderation_digests() == 0

    other_site = Site.objects.create(name="Second edition", domain="second.example")
    local = _wants_digest(make_user("local@example.org", name="Local"))
    ModeratorGrant.objects.create(user=local, site=other_site)
    assert services.send_moderation_digests() == 0, "nothing waits on the second site"
    ModeratorGrant.objects.create(user=local, site=busy_site.site)
    assert services.send_moderation_digests() == 1
    body = mailoutbox[-1].body
    assert "Second edition" in body and "Pending: 2" in body
    assert "unlock requests" not in body, "appeals are for moderators of every site"


def test_moderators_opt_in_on_the_settings_page(moderator: Any) -> None:
    moderator_client = Client()
    moderator_client.force_login(moderator)
    page = moderator_client.get("/notifications/").content.decode()
    assert 'name="email_moderation_digest"' in page
    moderator_client.post(
        "/notifications/",
        {"push_replies": "on", "email_moderation_digest": "on"},
    )
    assert services.settings_for(moderator).email_moderation_digest


def test_beat_schedules_the_digest(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["civility-moderation-digest"]
    assert entry["task"] == "civility.notifications.send_moderation_digests"
    assert "civility-purge-deleted-accounts" in settings.CELERY_BEAT_SCHEDULE
