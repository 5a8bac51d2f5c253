"""Suspensions: a moderator bars a reader from posting for a while. It ends by itself, the
reader is told on the thread and by e-mail, and it is not a block (no second-block finality,
nothing to appeal)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civility.discussion.errors import PostingNotAllowed
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation import services
from civility.moderation.models import AuditLog, Block, Standing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

TEXT = "The talks on the peace treaty seem to be making slow but steady progress."


def suspend(client: Client, user: Any, hours: int | str, reason: str = "") -> Any:
    return client.post(
        f"/moderation/users/{user.pk}/suspend/", {"hours": str(hours), "reason": reason}
    )


def section(client: Client, article: Any) -> str:
    return client.get(f"/news/{article.slug}/discussion/").content.decode()


def test_a_suspended_reader_reads_but_cannot_post_until_it_ends(
    moderator_client: Client,
    moderator: Any,
    reader: Any,
    article: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = suspend(moderator_client, reader, 24, "Three insults in one evening.")
    assert response.status_code == 302
    standing = Standing.objects.get(user=reader)
    assert standing.suspended_until is not None
    left = standing.suspended_until - timezone.now()
    assert timedelta(hours=23, minutes=59) < left <= timedelta(hours=24)
    assert not standing.blocked

    reader_client = Client()
    reader_client.force_login(reader)
    page = section(reader_client, article)
    assert "data-suspended" in page and "data-comment-form" not in page
    with pytest.raises(PostingNotAllowed):
        post_comment(author=reader, thread=thread_for_article(article), text=TEXT)
    web = reader_client.post(
        f"/news/{article.slug}/comments/", {"text": TEXT}, HTTP_ACCEPT="application/json"
    )
    assert web.status_code == 403 and "suspended" in web.json()["error"]
    token = Client().post(
        "/api/auth/token",
        json.dumps({"email": reader.email, "password": "correct horse battery"}),
        content_type="application/json",
    )
    api = Client().post(
        f"/api/articles/{article.slug}/comments",
        json.dumps({"text": TEXT}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token.json()['token']}",
    )
    assert api.status_code == 403

    (mail,) = mailoutbox
    assert mail.to == [reader.email]
    assert "suspended" in mail.subject
    assert "Three insults in one evening." in mail.body and "/standards/" in mail.body
    entry = AuditLog.objects.get(action="user.suspended")
    assert entry.actor == moderator and entry.subject_user == reader
    assert entry.data["hours"] == 24

    user_page = moderator_client.get(f"/moderation/users/{reader.pk}/").content.decode()
    assert "data-suspended" in user_page and "Three insults" in user_page

    # Time passes: the suspension is over without anyone doing anything.
    Standing.objects.filter(user=reader).update(
        suspended_until=timezone.now() - timedelta(seconds=1)
    )
    assert "data-comment-form" in section(reader_client, article)
    posted = post_comment(author=reader, thread=thread_for_article(article), text=TEXT)
    assert posted.comment.pk


def test_a_moderator_lifts_a_suspension_and_it_is_not_a_block(
    moderator_client: Client, reader: Any, article: Any
) -> None:
    suspend(moderator_client, reader, 168)
    suspend(moderator_client, reader, 0)
    assert Standing.objects.get(user=reader).suspended_until is None
    assert AuditLog.objects.filter(action="user.suspension_lifted").count() == 1
    suspend(moderator_client, reader, 0)  # nothing to lift: nothing written
    assert AuditLog.objects.filter(action="user.suspension_lifted").count() == 1
    post_comment(author=reader, thread=thread_for_article(article), text=TEXT)

    suspend(moderator_client, reader, 1)
    block = services.block_user(reader, moderator=None)
    assert block.final is False, "a suspension does not count towards the final block"
    assert Block.objects.filter(user=reader).count() == 1


@pytest.mark.parametrize("hours", ["-1", "9999", "x", ""])
def test_a_length_out_of_range_changes_nothing(
    moderator_client: Client, reader: Any, hours: str
) -> None:
    response = suspend(moderator_client, reader, hours)
    assert response.status_code == 302
    page = moderator_client.get(response["Location"]).content.decode()
    assert "A suspension lasts from one hour to one year." in page
    assert not Standing.objects.filter(user=reader, suspended_until__isnull=False).exists()
    assert not AuditLog.objects.filter(action="user.suspended").exists()


def test_readers_cannot_suspend(reader_client: Client, other_reader: Any) -> None:
    response = suspend(reader_client, other_reader, 24)
    assert response.status_code in (302, 403)
    assert not Standing.objects.filter(user=other_reader, suspended_until__isnull=False).exists()


def test_queue_cards_show_a_suspended_author(
    moderator_client: Client, reader: Any, article: Any
) -> None:
    from civility.discussion.models import CommentStatus

    comment = post_comment(author=reader, thread=thread_for_article(article), text=TEXT).comment
    assert comment.status == CommentStatus.PUBLISHED
    card = moderator_client.get("/moderation/queue/approved/").content.decode()
    assert "data-author-suspended" not in card
    suspend(moderator_client, reader, 24)
    card = moderator_client.get("/moderation/queue/approved/").content.decode()
    assert "data-author-suspended" in card
