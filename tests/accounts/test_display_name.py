"""Readers change the name shown next to their comments, at most once in
CIVILITY_DISPLAY_NAME_CHANGE_DAYS; the audit log keeps the old name for the moderators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civility.accounts.models import User
from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import thread_for_article
from civility.moderation.models import AuditLog
from tests.discussion.conftest import make_article, make_user

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_reader_changes_their_name_and_the_thread_shows_it(settings: Any) -> None:
    reader = make_user("ann@example.org", name="Ann")
    thread = thread_for_article(make_article())
    Comment.objects.create(
        thread=thread, author=reader, text="A calm remark.", status=CommentStatus.PUBLISHED
    )
    client = _client(reader)
    home = client.get("/account/").content.decode()
    assert "data-display-name" in home and "/account/display-name/" in home
    page = client.get("/account/display-name/")
    assert page.status_code == 200 and 'value="Ann"' in page.content.decode()

    response = client.post("/account/display-name/", {"display_name": "  Ann   Lee "})
    assert response.status_code == 302 and response["Location"] == "/account/"
    reader.refresh_from_db()
    assert reader.display_name == "Ann Lee" and reader.display_name_changed_at is not None
    entry = AuditLog.objects.get(action="account.display_name_changed")
    assert entry.before == {"display_name": "Ann"} and entry.after == {"display_name": "Ann Lee"}
    assert entry.subject_user == reader

    thread_page = Client().get(f"/news/{thread.article.slug}/").content.decode()
    assert "Ann Lee" in thread_page


def test_a_second_change_waits_and_bad_names_are_refused(settings: Any) -> None:
    settings.CIVILITY_DISPLAY_NAME_CHANGE_DAYS = 14
    reader = make_user("bo@example.org", name="Bo")
    client = _client(reader)
    for bad, message in [
        ("M0derat0r", "are reserved"),
        ("p\u0430ypal", "one alphabet"),
        ("\u200b\u200b", "letters or digits"),
        ("Bo", "your display name already"),
        ("x" * 81, "at most 80 characters"),
    ]:
        refused = client.post("/account/display-name/", {"display_name": bad})
        assert refused.status_code == 400, bad
        assert message in refused.content.decode(), (bad, message)
    reader.refresh_from_db()
    assert reader.display_name == "Bo" and reader.display_name_changed_at is None

    assert client.post("/account/display-name/", {"display_name": "Bo Ray"}).status_code == 302
    again = client.post("/account/display-name/", {"display_name": "Bo Ray Two"})
    assert again.status_code == 400
    assert "you can change it again on" in again.content.decode()
    assert "data-next-change" in client.get("/account/display-name/").content.decode()

    User.objects.filter(pk=reader.pk).update(
        display_name_changed_at=timezone.now() - timedelta(days=15)
    )
    assert client.post("/account/display-name/", {"display_name": "Bo Ray Two"}).status_code == 302
    assert AuditLog.objects.filter(action="account.display_name_changed").count() == 2


def test_signed_out_readers_are_sent_to_sign_in() -> None:
    response = Client().get("/account/display-name/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_purge_erases_the_old_names_from_the_audit_log() -> None:
    from civility.accounts import services

    reader = make_user("cy@example.org", name="Cyrilla Old")
    services.change_display_name(reader, "Cyrilla New")
    services.delete_account(reader)
    services.purge_account(reader)
    entry = AuditLog.objects.get(action="account.display_name_changed")
    assert "Cyrilla" not in str(entry.before) + str(entry.after)
