"""Ignoring a commenter: the reader's pages show that author's comments as a one-line notice
(replies stay), their replies notify nobody, nobody else sees the choice, and it can be undone."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from civility.discussion.errors import InvalidComment
from civility.discussion.models import Comment, CommentStatus, IgnoredAuthor
from civility.discussion.services import ignore_author, post_comment, thread_for_article
from civility.moderation.models import AuditLog
from tests.discussion.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

LOUD = "The treaty talks are a waste of time and everyone who follows them is naive."
CALM = "Both delegations confirmed the next round; that is more than last year."
REPLY = "Naive or not, a date for the next round is real progress."


def published(author: Any, article: Any, text: str, parent: Comment | None = None) -> Comment:
    comment = post_comment(
        author=author, thread=thread_for_article(article), text=text, parent=parent
    ).comment
    assert comment.status == CommentStatus.PUBLISHED
    return comment


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def item(page: str, comment: Comment) -> str:
    """The comment's own article element (without its replies)."""
    return page.split(f'id="comment-{comment.pk}"', 1)[1].split("</article>", 1)[0]


def test_a_reader_ignores_an_author_and_sees_a_notice_in_place_of_their_comments(
    article: Any, reader: Any, other_reader: Any, django_capture_on_commit_callbacks: Any
) -> None:
    carol = make_user("carol@example.org", name="Carol")
    loud = published(other_reader, article, LOUD)
    reply = published(carol, article, REPLY, parent=loud)
    calm = published(carol, article, CALM)
    client = signed_in(reader)
    page = client.get(f"/news/{article.slug}/").content.decode()
    assert f'href="/comments/{loud.pk}/ignore-author/"' in item(page, loud)

    confirm = client.get(f"/comments/{loud.pk}/ignore-author/")
    assert confirm.status_code == 200 and "Ignore Bob?" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/comments/{loud.pk}/ignore-author/")
    assert done.status_code == 302 and done["Location"].endswith(f"#comment-{loud.pk}")

    page = client.get(f"/news/{article.slug}/").content.decode()
    assert LOUD not in page
    assert "A comment by Bob, whom you ignore." in item(page, loud)
    assert REPLY in item(page, reply) and CALM in item(page, calm), "the others stay"
    assert "You no longer see comments by Bob." in page
    # Nobody else is affected: anonymous readers, other readers, Bob himself.
    for other in (Client(), signed_in(carol), signed_in(other_reader)):
        assert LOUD in other.get(f"/news/{article.slug}/").content.decode()
    # The permalink and the embed's frame read the same choice.
    assert LOUD not in client.get(f"/comments/{loud.pk}/").content.decode()

    entry = AuditLog.objects.get(action="reader.ignored")
    assert entry.actor == reader and entry.target_id == str(other_reader.pk)

    listing = client.get("/my/ignored/").content.decode()
    assert "Bob" in listing and f'action="/my/ignored/{other_reader.pk}/remove/"' in listing
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/my/ignored/{other_reader.pk}/remove/")
    assert LOUD in client.get(f"/news/{article.slug}/").content.decode()
    assert "You ignore nobody." in client.get("/my/ignored/").content.decode()
    assert AuditLog.objects.filter(action="reader.unignored").count() == 1


def test_nobody_ignores_themselves_or_the_newsroom(
    article: Any, reader: Any, other_reader: Any
) -> None:
    own = published(reader, article, CALM)
    with pytest.raises(InvalidComment):
        ignore_author(reader=reader, author=reader)
    refused = signed_in(reader).post(f"/comments/{own.pk}/ignore-author/")
    assert refused.status_code == 400
    assert "You cannot ignore yourself." in refused.content.decode()

    other_reader.staff_badge = True
    other_reader.save(update_fields=["staff_badge"])
    journalist_comment = published(other_reader, article, LOUD)
    page = signed_in(reader).get(f"/news/{article.slug}/").content.decode()
    assert "ignore-author" not in item(page, journalist_comment)
    with pytest.raises(InvalidComment):
        ignore_author(reader=reader, author=other_reader)
    assert not IgnoredAuthor.objects.exists()


def test_doing_it_twice_changes_nothing_and_the_cached_list_follows(
    article: Any, reader: Any, other_reader: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from civility.discussion.selectors import ignored_author_ids

    assert ignored_author_ids(reader) == frozenset()  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        assert ignore_author(reader=reader, author=other_reader) is True
        assert ignore_author(reader=reader, author=other_reader) is False
    assert ignored_author_ids(reader) == frozenset({other_reader.pk})
    assert AuditLog.objects.filter(action="reader.ignored").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert ignore_author(reader=reader, author=other_reader, ignore=False) is True
    assert ignored_author_ids(reader) == frozenset()
    cache.clear()


def test_replies_from_an_ignored_author_notify_nobody(
    article: Any,
    reader: Any,
    other_reader: Any,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: Any,
) -> None:
    from civility.notifications.services import update_settings

    update_settings(reader, email_replies=True)
    question = published(reader, article, CALM)
    with django_capture_on_commit_callbacks(execute=True):
        published(other_reader, article, REPLY, parent=question)
    assert len(mailoutbox) == 1, "a reply notifies its parent's author"
    with django_capture_on_commit_callbacks(execute=True):
        ignore_author(reader=reader, author=other_reader)
        published(other_reader, article, "And another reply to you.", parent=question)
    assert len(mailoutbox) == 1, "not from an author the reader ignores"


def test_the_choice_is_the_readers_data_not_the_ignored_authors(
    reader: Any, other_reader: Any
) -> None:
    from civility.accounts.services import export_user_data

    ignore_author(reader=reader, author=other_reader)
    mine = export_user_data(reader)["discussion.ignoredauthor"]
    assert [row["ignored"] for row in mine] == [other_reader.pk]
    assert "discussion.ignoredauthor" not in export_user_data(other_reader)


def test_a_purge_forgets_both_sides_of_the_choice(reader: Any, other_reader: Any) -> None:
    from civility.discussion.services import purge_comments_of

    carol = make_user("carol@example.org", name="Carol")
    ignore_author(reader=reader, author=other_reader)
    ignore_author(reader=other_reader, author=carol)
    ignore_author(reader=carol, author=reader)
    purge_comments_of(other_reader)
    assert list(IgnoredAuthor.objects.values_list("user_id", "ignored_id")) == [
        (carol.pk, reader.pk)
    ]


def test_an_ignored_authors_editors_pick_leaves_the_readers_box(
    article: Any,
    reader: Any,
    other_reader: Any,
    moderator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from civility.moderation.services import set_featured

    pick = published(other_reader, article, CALM)
    set_featured(pick, moderator=moderator, featured=True)
    client = signed_in(reader)
    assert "featured-comments" in client.get(f"/news/{article.slug}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ignore_author(reader=reader, author=other_reader)
    page = client.get(f"/news/{article.slug}/").content.decode()
    assert "featured-comments" not in page
    assert "featured-comments" in Client().get(f"/news/{article.slug}/").content.decode()


def test_the_api_ignores_lists_and_reads_again(
    article: Any, reader: Any, other_reader: Any
) -> None:
    import json

    from civility.discussion.services import issue_api_token

    loud = published(other_reader, article, LOUD)
    own = published(reader, article, CALM)
    headers = {"Authorization": f"Bearer {issue_api_token(reader, name='app')[0]}"}
    client = Client()

    def call(method: str, path: str) -> Any:
        return client.generic(method, path, "", content_type="application/json", headers=headers)

    ignored = call("PUT", f"/api/comments/{loud.pk}/ignore-author")
    assert ignored.status_code == 200
    body = ignored.json()
    assert (body["user_id"], body["name"], body["ignored"]) == (other_reader.pk, "Bob", True)
    assert body["since"] is not None
    listing = call("GET", "/api/me/ignored").json()
    assert [(row["user_id"], row["name"]) for row in listing] == [(other_reader.pk, "Bob")]

    refused = call("PUT", f"/api/comments/{own.pk}/ignore-author")
    assert refused.status_code == 400
    assert refused.json()["message"] == "You cannot ignore yourself."
    assert call("PUT", "/api/comments/999999/ignore-author").status_code == 404

    again = call("DELETE", f"/api/me/ignored/{other_reader.pk}")
    assert again.status_code == 200 and again.json()["ignored"] is False
    assert call("GET", "/api/me/ignored").json() == []
    assert call("DELETE", f"/api/me/ignored/{other_reader.pk}").status_code == 404
    # Found by the fuzz test: an id no database can hold is not found, not a server error.
    assert call("DELETE", f"/api/me/ignored/{2**64}").status_code == 404
    assert call("DELETE", "/api/me/ignored/-1").status_code == 404
    assert call("DELETE", f"/api/comments/{loud.pk}/ignore-author").status_code == 200

    anonymous = Client().generic("PUT", f"/api/comments/{loud.pk}/ignore-author", json.dumps({}))
    assert anonymous.status_code == 401
    schema = Client().get("/api/openapi.json").json()
    assert "/api/me/ignored" in schema["paths"]
