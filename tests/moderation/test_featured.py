"""Editors' picks: moderators feature published comments, shown above the thread, in the
API, in a moderation queue, and in the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from civility.discussion import services as discussion_services
from civility.discussion.models import Comment, CommentStatus
from civility.discussion.selectors import FEATURED_SHOWN
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation import services
from civility.moderation.models import AuditLog
from civility.moderation.services import ModerationError
from tests.discussion.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

PICK = "The islands' residents deserve a say in the talks; nobody has asked them yet."
OTHER = "The treaty talks have stalled for decades and one more meeting changes little."


def published(author: Any, article: Any, text: str) -> Comment:
    comment = post_comment(author=author, thread=thread_for_article(article), text=text).comment
    assert comment.status == CommentStatus.PUBLISHED
    return comment


def feature(client: Client, comment: Comment, on: bool = True) -> Any:
    return client.post(
        f"/moderation/comments/{comment.pk}/feature/", {"featured": "1" if on else "0"}
    )


def picks_box(page: str) -> str:
    match = re.search(r"<aside class=\"featured-comments\".*?</aside>", page, re.S)
    return match.group(0) if match else ""


def article_page(article: Any) -> str:
    response = Client().get(f"/news/{article.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_feature_shows_at_once_above_the_thread_with_a_badge_and_in_the_api(
    moderator_client: Client, moderator: Any, reader: Any, article: Any
) -> None:
    pick = published(reader, article, PICK)
    published(reader, article, OTHER)
    before = article_page(article)  # an anonymous page, now in the read cache
    assert picks_box(before) == ""
    assert feature(moderator_client, pick).status_code == 302

    page = article_page(article)
    box = picks_box(page)
    assert "Editors' picks" in box
    assert "nobody has asked them yet" in box and "stalled" not in box
    assert f'href="/comments/{pick.pk}/"' in box
    assert page.count('class="comment__badge"') == 1
    items = Client().get(f"/api/articles/{article.slug}/comments").json()["items"]
    assert {item["id"]: item["featured"] for item in items} == {pick.pk: True, pick.pk + 1: False}

    entry = AuditLog.objects.get(action="comment.featured")
    assert entry.actor == moderator
    assert entry.target_id == str(pick.pk)
    pick.refresh_from_db()
    assert pick.featured_by == moderator and pick.featured_at is not None


def test_unfeaturing_takes_it_back_and_repeats_change_nothing(
    moderator_client: Client, reader: Any, article: Any
) -> None:
    pick = published(reader, article, PICK)
    feature(moderator_client, pick)
    feature(moderator_client, pick)  # already a pick: no second audit row
    assert AuditLog.objects.filter(action="comment.featured").count() == 1
    feature(moderator_client, pick, on=False)
    page = article_page(article)
    assert picks_box(page) == "" and "comment__badge" not in page
    assert AuditLog.objects.filter(action="comment.unfeatured").count() == 1
    pick.refresh_from_db()
    assert pick.featured_at is None and pick.featured_by is None


def test_only_a_published_comment_can_be_featured(
    moderator_client: Client, moderator: Any, reader: Any, article: Any
) -> None:
    held = published(reader, article, PICK)
    Comment.objects.filter(pk=held.pk).update(status=CommentStatus.PENDING)
    response = feature(moderator_client, held)
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.featured_at is None
    assert not AuditLog.objects.filter(action="comment.featured").exists()
    with pytest.raises(ModerationError):
        services.set_featured(held, moderator=moderator, featured=True)


def test_a_pick_leaves_the_box_when_it_stops_being_public(
    moderator: Any, reader: Any, other_reader: Any, article: Any
) -> None:
    rejected = published(reader, article, PICK)
    deleted = published(other_reader, article, OTHER)
    hidden_author = make_user("carol@example.org", name="Carol")
    hidden = published(hidden_author, article, "The fishermen of the islands lose most.")
    for comment in (rejected, deleted, hidden):
        services.set_featured(comment, moderator=moderator, featured=True)
    assert len(re.findall(r"data-featured-id", picks_box(article_page(article)))) == 3

    services.reject_comment(rejected, moderator=moderator, rule="trolling")
    discussion_services.delete_own_comment(comment=deleted, author=other_reader)
    services.delete_account(hidden_author, moderator=moderator)
    assert picks_box(article_page(article)) == ""
    rejected.refresh_from_db()
    assert rejected.featured_at is None  # restoring it later does not make it a pick again
    services.approve_comment(rejected, moderator=moderator)
    assert picks_box(article_page(article)) == ""


def test_the_box_shows_the_newest_picks_first(moderator: Any, reader: Any, article: Any) -> None:
    comments = [
        published(reader, article, f"Point number {n} about the treaty talks.") for n in range(7)
    ]
    for comment in comments:
        services.set_featured(comment, moderator=moderator, featured=True)
    shown = [
        int(pk) for pk in re.findall(r'data-featured-id="(\d+)"', picks_box(article_page(article)))
    ]
    assert shown == [c.pk for c in reversed(comments)][:FEATURED_SHOWN]


def test_readers_cannot_feature(reader_client: Client, reader: Any, article: Any) -> None:
    pick = published(reader, article, PICK)
    assert feature(reader_client, pick).status_code == 403
    assert (
        Client().post(f"/moderation/comments/{pick.pk}/feature/", {"featured": "1"}).status_code
        == 302
    )
    pick.refresh_from_db()
    assert pick.featured_at is None


def test_the_featured_queue_lists_picks_with_a_button_to_take_them_back(
    moderator_client: Client, moderator: Any, reader: Any, article: Any
) -> None:
    pick = published(reader, article, PICK)
    plain = published(reader, article, OTHER)
    services.set_featured(pick, moderator=moderator, featured=True)
    page = moderator_client.get("/moderation/queue/featured/").content.decode()
    assert f'id="card-{pick.pk}"' in page and f'id="card-{plain.pk}"' not in page
    assert "Remove from editors' picks" in page
    approved = moderator_client.get("/moderation/queue/approved/").content.decode()
    assert "Feature as an editors' pick" in approved
    dashboard = moderator_client.get("/moderation/").content.decode()
    assert 'href="/moderation/queue/featured/"' in dashboard
