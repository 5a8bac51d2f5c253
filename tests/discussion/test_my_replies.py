"""My replies: the replies others publish to a reader's comments, with an unread count in the
header that opening the page clears."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import ignore_author, post_comment, thread_for_article
from tests.discussion.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _badge(client: Client) -> str:
    page = client.get("/").content.decode()
    if "data-unread-replies" not in page:
        return ""
    return page.split("data-unread-replies", 1)[1].split(">", 1)[1].split("<", 1)[0]


def test_replies_are_listed_counted_and_read(
    reader: Any, article: Any, django_capture_on_commit_callbacks: Any
) -> None:
    thread = thread_for_article(article)
    mine = post_comment(author=reader, thread=thread, text="The treaty talks need time.").comment
    other = make_user("olga@example.org", name="Olga")
    troll = make_user("troll@example.org", name="Troll")
    client = _signed_in(reader)
    assert "data-replies-link" in client.get("/").content.decode()
    assert _badge(client) == ""

    first = post_comment(author=other, thread=thread, text="Agreed, decades.", parent=mine.pk)
    post_comment(author=reader, thread=thread, text="My own follow-up.", parent=mine.pk)
    Comment.objects.create(
        thread=thread, author=other, parent=mine, text="Held.", status=CommentStatus.PENDING
    )
    with django_capture_on_commit_callbacks(execute=True):  # the ignore list's cache drops
        ignore_author(reader=reader, author=troll, ignore=True)
    post_comment(author=troll, thread=thread, text="Whatever.", parent=mine.pk)
    from civility.discussion.selectors import forget_unread_replies

    forget_unread_replies(reader.pk)  # the count is otherwise kept for a minute
    assert _badge(client) == "1"

    page = client.get("/my/replies/").content.decode()
    assert f'data-reply-id="{first.comment.pk}"' in page and "data-unread" in page
    assert "Agreed, decades." in page and "The treaty talks need time." in page
    for hidden in ("My own follow-up.", "Held.", "Whatever."):
        assert hidden not in page
    assert _badge(client) == "", "opening the page reads them"
    assert "data-unread" not in client.get("/my/replies/").content.decode()

    second = post_comment(author=other, thread=thread, text="And patience.", parent=mine.pk)
    forget_unread_replies(reader.pk)
    assert _badge(client) == "1"
    # A held reply approved later counts from its publication.
    held = Comment.objects.get(text="Held.")
    Comment.objects.filter(pk=held.pk).update(
        status=CommentStatus.PUBLISHED, decided_at=timezone.now()
    )
    forget_unread_replies(reader.pk)
    assert _badge(client) == "2"
    page = client.get("/my/replies/").content.decode()
    assert f'id="reply-{second.comment.pk}"' in page and f'id="reply-{held.pk}"' in page


def test_readers_only_see_replies_to_their_own_comments(reader: Any, article: Any) -> None:
    thread = thread_for_article(article)
    other = make_user("olga@example.org", name="Olga")
    theirs = post_comment(author=other, thread=thread, text="Their comment.").comment
    post_comment(
        author=make_user("p@example.org"), thread=thread, text="A reply.", parent=theirs.pk
    )
    page = _signed_in(reader).get("/my/replies/").content.decode()
    assert "A reply." not in page and "No replies to your comments yet." in page
    assert Client().get("/my/replies/").status_code == 302


def test_the_api_lists_replies_and_marks_them_read(reader: Any, article: Any) -> None:
    from civility.discussion.services import issue_api_token

    thread = thread_for_article(article)
    mine = post_comment(author=reader, thread=thread, text="The treaty talks need time.").comment
    other = make_user("olga@example.org", name="Olga")
    reply = post_comment(author=other, thread=thread, text="Agreed.", parent=mine.pk).comment
    headers = {"Authorization": f"Bearer {issue_api_token(reader, name='app')[0]}"}
    listing = Client().get("/api/me/replies", headers=headers)
    assert listing.status_code == 200
    body = listing.json()
    assert (body["count"], body["unread"], body["page"]) == (1, 1, 1)
    (item,) = body["items"]
    assert (item["id"], item["parent_id"], item["author"], item["unread"]) == (
        reply.pk,
        mine.pk,
        "Olga",
        True,
    )
    assert item["url"].endswith(reply.get_absolute_url())
    assert item["article_title"] == str(article.headline)
    read = Client().post("/api/me/replies/read", headers=headers)
    assert read.status_code == 200 and read.json() == {"unread": 0}
    again = Client().get("/api/me/replies", headers=headers).json()
    assert again["unread"] == 0 and again["items"][0]["unread"] is False
    assert Client().get("/api/me/replies").status_code == 401
    assert Client().get("/api/me/replies?page=0", headers=headers).status_code == 400
