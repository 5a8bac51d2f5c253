"""Readers recommend comments: a toggle with a count on every comment, a "most recommended"
order, the API, and the reader's data export."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from civility.discussion.models import Comment, CommentStatus, Recommendation
from civility.discussion.services import post_comment, recommend_comment, thread_for_article
from civility.moderation.models import AuditLog
from tests.discussion.conftest import make_user
from tests.discussion.test_api import token_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

JSON = {"HTTP_ACCEPT": "application/json"}


def published(author: Any, article: Any, text: str) -> Comment:
    comment = post_comment(author=author, thread=thread_for_article(article), text=text).comment
    assert comment.status == CommentStatus.PUBLISHED
    return comment


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def recommend(client: Client, comment: Comment, on: bool = True, **headers: Any) -> Any:
    return client.post(
        f"/comments/{comment.pk}/recommend/", {"recommend": "1" if on else "0"}, **(headers or JSON)
    )


def test_a_reader_recommends_once_and_takes_it_back(
    reader: Any, other_reader: Any, article: Any
) -> None:
    comment = published(reader, article, "The talks need the islanders at the table.")
    bob = signed_in(other_reader)
    first = recommend(bob, comment)
    assert first.status_code == 200
    assert first.json() == {"ok": True, "recommended": True, "recommendations": 1}
    assert recommend(bob, comment).json()["recommendations"] == 1  # twice counts once
    carol = make_user("carol@example.org", name="Carol")
    assert recommend(signed_in(carol), comment).json()["recommendations"] == 2
    comment.refresh_from_db()
    assert comment.recommendations == 2 == Recommendation.objects.filter(comment=comment).count()
    assert AuditLog.objects.filter(action="comment.recommended").count() == 2

    assert recommend(bob, comment, on=False).json()["recommendations"] == 1
    assert recommend(bob, comment, on=False).json()["recommendations"] == 1
    assert AuditLog.objects.filter(action="comment.recommendation_withdrawn").count() == 1
    assert not Recommendation.objects.filter(comment=comment, user=other_reader).exists()


def test_who_may_recommend_what(
    reader: Any, other_reader: Any, moderator: Any, article: Any
) -> None:
    comment = published(reader, article, "The talks need the islanders at the table.")
    assert recommend(signed_in(reader), comment).status_code == 400  # one's own comment
    unverified = make_user("uma@example.org", verified=False)
    assert recommend(signed_in(unverified), comment).status_code == 403
    anonymous = Client()
    assert recommend(anonymous, comment).status_code == 403
    plain = recommend(anonymous, comment, HTTP_ACCEPT="text/html")
    assert plain.status_code == 302 and "/accounts/login/" in plain["Location"]

    from civility.moderation.services import block_user

    block_user(other_reader, moderator=moderator, reason="test")
    assert recommend(signed_in(other_reader), comment).status_code == 403
    held = published(moderator, article, "A second view of the same talks and the islands.")
    Comment.objects.filter(pk=held.pk).update(status=CommentStatus.PENDING)
    carol = signed_in(make_user("carol@example.org"))
    assert recommend(carol, held).status_code == 404  # not in public view
    page = recommend(carol, comment, HTTP_ACCEPT="text/html")
    assert page.status_code == 302 and page["Location"].endswith(f"#comment-{comment.pk}")
    assert Recommendation.objects.count() == 1


def test_pages_show_the_count_at_once_and_mark_the_readers_own(
    reader: Any, other_reader: Any, article: Any
) -> None:
    comment = published(reader, article, "The talks need the islanders at the table.")
    other = published(reader, article, "And the fishermen's rights should come first.")
    url = f"/news/{article.slug}/"
    assert "data-recommendations" not in Client().get(url).content.decode()  # none yet
    recommend(signed_in(other_reader), comment)
    anonymous_page = Client().get(url).content.decode()
    assert "1 recommendation<" in anonymous_page
    assert "data-recommend " not in anonymous_page  # no button for the signed-out

    bob_page = signed_in(other_reader).get(url).content.decode()
    assert f'data-recommended="{comment.pk}"' in bob_page
    buttons = re.findall(r'data-url="/comments/(\d+)/recommend/"', bob_page)
    assert sorted(int(pk) for pk in buttons) == sorted([comment.pk, other.pk])
    author_page = signed_in(reader).get(url).content.decode()
    assert "data-recommend " not in author_page  # none on one's own comments
    assert "1 recommendation<" in author_page


def test_the_most_recommended_order(reader: Any, other_reader: Any, article: Any) -> None:
    quiet, popular, liked = (
        published(reader, article, f"Point {n} on the peace treaty talks and the islands.")
        for n in range(3)
    )
    fans = [make_user(f"fan{n}@example.org") for n in range(3)]
    for fan in fans:
        recommend_comment(comment=popular, reader=fan)
    recommend_comment(comment=liked, reader=fans[0])
    page = Client().get(f"/news/{article.slug}/discussion/?sort=recommended").content.decode()
    order = [int(pk) for pk in re.findall(r'<li class="comment[^"]*" id="comment-(\d+)"', page)]
    assert order == [popular.pk, liked.pk, quiet.pk]
    assert '<strong aria-current="true">most recommended</strong>' in page


def test_the_api_lists_counts_and_recommends(
    client: Client, reader: Any, other_reader: Any, article: Any
) -> None:
    comment = published(reader, article, "The talks need the islanders at the table.")
    token = token_for(client, other_reader.email)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    put = client.put(f"/api/comments/{comment.pk}/recommendation", **auth)
    assert put.status_code == 200
    assert put.json() == {"comment_id": comment.pk, "recommended": True, "recommendations": 1}
    listed = client.get(f"/api/articles/{article.slug}/comments").json()["items"]
    assert listed[0]["recommendations"] == 1
    gone = client.delete(f"/api/comments/{comment.pk}/recommendation", **auth)
    assert gone.json()["recommendations"] == 0
    own = client.put(
        f"/api/comments/{comment.pk}/recommendation",
        HTTP_AUTHORIZATION=f"Bearer {token_for(client, reader.email)}",
    )
    assert own.status_code == 400
    assert client.put(f"/api/comments/{comment.pk}/recommendation").status_code == 401


def test_the_readers_export_holds_their_recommendations(
    reader: Any, other_reader: Any, article: Any
) -> None:
    from civility.accounts.services import export_user_data

    comment = published(reader, article, "The talks need the islanders at the table.")
    recommend_comment(comment=comment, reader=other_reader)
    exported = export_user_data(other_reader)
    assert [row["comment"] for row in exported["discussion.recommendation"]] == [comment.pk]


def test_a_purged_account_recommends_nothing_any_more(
    reader: Any, other_reader: Any, moderator: Any, article: Any
) -> None:
    from civility.discussion.services import purge_comments_of

    comment = published(reader, article, "The talks need the islanders at the table.")
    carol = make_user("carol@example.org")
    for fan in (other_reader, carol):
        recommend_comment(comment=comment, reader=fan)
    purge_comments_of(other_reader)
    comment.refresh_from_db()
    assert comment.recommendations == 1
    assert list(Recommendation.objects.values_list("user_id", flat=True)) == [carol.pk]
    entry = AuditLog.objects.get(action="comments.purged")
    assert entry.data["recommendations_withdrawn"] == 1


def test_the_embed_shows_counts_and_a_form_in_place_of_the_script_button(
    reader: Any, other_reader: Any, settings: Any
) -> None:
    from civility.discussion.models import Thread

    settings.CIVILITY_EMBED_ORIGINS = ["https://www.publisher.example"]
    url = "https://www.publisher.example/story"
    Client().get("/embed/thread", {"url": url})
    thread = Thread.objects.get()
    comment = post_comment(author=reader, thread=thread, text="The bridge looks good.").comment
    recommend_comment(comment=comment, reader=other_reader)
    signed_out = Client().get("/embed/thread", {"url": url}).content.decode()
    assert "1 recommendation<" in signed_out and "comment__recommend-form" not in signed_out
    page = signed_in(other_reader).get("/embed/thread", {"url": url}).content.decode()
    assert "data-recommend " not in page, "the frame runs no thread.js"
    form = page.split('class="comment__recommend-form"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="recommend" value="0">' in form
    assert 'aria-pressed="true"' in form and "data-recommend-count>1<" in form


def test_my_comments_shows_how_each_was_received(
    reader: Any, other_reader: Any, moderator: Any, article: Any
) -> None:
    from civility.moderation.services import set_featured

    picked = published(reader, article, "The talks need the islanders at the table.")
    plain = published(reader, article, "And the fishermen's rights should come first.")
    recommend_comment(comment=picked, reader=other_reader)
    set_featured(picked, moderator=moderator, featured=True)
    page = signed_in(reader).get("/my/comments/").content.decode()
    picked_item = page.split(f'id="my-comment-{picked.pk}"', 1)[1].split("</li>", 1)[0]
    plain_item = page.split(f'id="my-comment-{plain.pk}"', 1)[1].split("</li>", 1)[0]
    assert "Editors' pick" in picked_item and "1 recommendation<" in picked_item
    assert "data-reception" not in plain_item
