"""The "Staff" badge: comments of the newsroom's own people (User.staff_badge, set in the
admin) carry it on the thread, in the embed and in the API; nobody else's do."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civility.discussion.models import CommentStatus
from civility.discussion.services import delete_own_comment, post_comment, thread_for_article
from tests.discussion.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]


def make_journalist() -> Any:
    journalist = make_user("desk@example.org", name="Anna Sato")
    journalist.staff_badge = True
    journalist.save(update_fields=["staff_badge"])
    return journalist


def test_a_journalists_comments_carry_the_staff_badge(article: Any, reader: Any) -> None:
    journalist = make_journalist()
    thread = thread_for_article(article)
    question = post_comment(
        author=reader, thread=thread, text="When is the next round of the treaty talks?"
    ).comment
    answer = post_comment(
        author=journalist,
        thread=thread,
        text="Both delegations confirmed the date to us; we will publish the agenda.",
        parent=question,
    ).comment
    assert answer.status == CommentStatus.PUBLISHED

    page = Client().get(f"/news/{article.slug}/").content.decode()
    answer_item = page.split(f'id="comment-{answer.pk}"', 1)[1].split("</header>", 1)[0]
    question_item = page.split(f'id="comment-{question.pk}"', 1)[1].split("</header>", 1)[0]
    assert "data-staff" in answer_item and ">Staff</span>" in answer_item
    assert "data-staff" not in question_item

    items = Client().get(f"/api/articles/{article.slug}/comments").json()["items"]
    assert {item["id"]: item["author_staff"] for item in items} == {
        question.pk: False,
        answer.pk: True,
    }
    schema = Client().get("/api/openapi.json").json()
    assert "author_staff" in schema["components"]["schemas"]["CommentOut"]["properties"]


def test_a_deleted_staff_comment_shows_no_badge(article: Any, reader: Any) -> None:
    journalist = make_journalist()
    thread = thread_for_article(article)
    root = post_comment(
        author=journalist, thread=thread, text="Our correspondent will report from the talks."
    ).comment
    post_comment(
        author=reader, thread=thread, text="Thank you, looking forward to it.", parent=root
    )
    delete_own_comment(comment=root, author=journalist)

    page = Client().get(f"/news/{article.slug}/").content.decode()
    assert "This comment was deleted by its author." in page and "data-staff" not in page
    items = Client().get(f"/api/articles/{article.slug}/comments").json()["items"]
    assert [item["author_staff"] for item in items] == [False, False]


def test_staff_can_grant_the_badge_in_the_admin(reader: Any) -> None:
    staff = make_user("admin@example.org", name="Admin")
    staff.is_staff = True
    staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    client = Client()
    client.force_login(staff)
    listing = client.get("/admin/accounts/user/", {"staff_badge__exact": "1"})
    assert listing.status_code == 200
    form = client.get(f"/admin/accounts/user/{reader.pk}/change/").content.decode()
    assert 'name="staff_badge"' in form


def test_a_journalists_editors_pick_shows_the_badge_in_the_box(
    article: Any, moderator: Any
) -> None:
    from civility.moderation.services import set_featured

    journalist = make_journalist()
    pick = post_comment(
        author=journalist,
        thread=thread_for_article(article),
        text="Our correspondent will report from the next round of the talks.",
    ).comment
    set_featured(pick, moderator=moderator, featured=True)
    page = Client().get(f"/news/{article.slug}/").content.decode()
    box = page.split("data-featured-comments", 1)[1].split("</aside>", 1)[0]
    assert "data-staff" in box
