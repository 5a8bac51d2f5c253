"""The dashboard's "Decisions by moderator": what each moderator of the site approved,
removed, edited and featured in the last 30 days, from the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus, HoldReason
from civility.discussion.services import thread_for_article
from civility.moderation import services
from civility.moderation.models import AuditLog
from civility.moderation.stats import decisions_by_moderator
from tests.discussion.conftest import make_user

pytestmark = pytest.mark.django_db


def _held(thread: Any, author: Any, text: str) -> Comment:
    return Comment.objects.create(
        thread=thread,
        author=author,
        text=text,
        status=CommentStatus.PENDING,
        hold_reason=HoldReason.ENGINE,
    )


def test_each_moderators_decisions_are_counted(moderator: Any, reader: Any, article: Any) -> None:
    thread = thread_for_article(article)
    second = make_user("max@example.org", name="Max", moderator=True)
    services.approve_comment(_held(thread, reader, "one"), moderator=moderator)
    services.approve_comment(_held(thread, reader, "two"), moderator=moderator)
    removed = _held(thread, reader, "three")
    services.reject_comment(removed, moderator=second, rule="insult")
    published = _held(thread, reader, "four")
    services.approve_comment(published, moderator=second)
    services.set_featured(published, moderator=second, featured=True)
    old = _held(thread, reader, "five")
    services.approve_comment(old, moderator=second)
    AuditLog.objects.filter(action="comment.approved", target_id=str(old.pk)).update(
        created_at=timezone.now() - timedelta(days=31)
    )

    rows = decisions_by_moderator(thread.site_id)
    assert rows == [
        ("Max", {"approved": 1, "removed": 1, "edited": 0, "featured": 1}),
        ("Mona", {"approved": 2, "removed": 0, "edited": 0, "featured": 0}),
    ]
    assert decisions_by_moderator(thread.site_id + 1000) == []

    client = Client()
    client.force_login(moderator)
    page = client.get("/moderation/").content.decode()
    assert "data-moderator-activity" in page and "Decisions by moderator" in page
    assert "<td>Max</td><td>1</td><td>1</td><td>0</td><td>1</td>" in page
