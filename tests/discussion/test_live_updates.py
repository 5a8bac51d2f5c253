"""Live updates: an open article page asks /news/<slug>/discussion/latest whether comments
newer than the newest it shows were published (the browser test is
tests/browser/test_live_updates.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import post_comment, thread_for_article
from tests.discussion.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

CLEAN = "The talks on the peace treaty seem to be making slow progress."


def latest(article: Any, after: int | str = 0, client: Client | None = None) -> Any:
    return (client or Client()).get(
        f"/news/{article.slug}/discussion/latest", {"after": after} if after != "" else {}
    )


def test_the_page_carries_its_newest_comment_and_the_answer_counts_newer_ones(
    reader: Any, article: Any
) -> None:
    thread = thread_for_article(article)
    first = post_comment(author=reader, thread=thread, text=CLEAN).comment
    page = Client().get(f"/news/{article.slug}/").content.decode()
    assert f'data-newest="{first.pk}"' in page
    assert f'data-live-url="/news/{article.slug}/discussion/latest"' in page
    assert "data-live-button" in page

    answer = latest(article, first.pk)
    assert answer.status_code == 200
    assert answer.json() == {"newest": first.pk, "total": 1, "new": 0}

    other = make_user("olga@example.org", name="Olga")
    second = post_comment(author=other, thread=thread, text=CLEAN + " Indeed.").comment
    reply = post_comment(author=reader, thread=thread, text="Agreed.", parent=second.pk).comment
    held = Comment.objects.create(
        thread=thread, author=other, text="Held for review.", status=CommentStatus.PENDING
    )
    answer = latest(article, first.pk).json()
    assert answer == {"newest": reply.pk, "total": 3, "new": 2}, "held comments are not news"
    assert held.pk > reply.pk
    assert latest(article, reply.pk).json()["new"] == 0


def test_a_new_comment_is_news_at_once_through_the_read_cache(
    reader: Any, article: Any, settings: Any
) -> None:
    from civility.ops import readcache

    settings.CIVILITY_READ_CACHE_SECONDS = 60.0
    readcache._thread_keys.clear()
    thread = thread_for_article(article)
    first = post_comment(author=reader, thread=thread, text=CLEAN).comment
    assert latest(article, first.pk)["X-Civility-Cache"] == "miss"
    assert latest(article, first.pk)["X-Civility-Cache"] == "hit"
    post_comment(author=reader, thread=thread, text=CLEAN + " Again.")
    assert latest(article, first.pk).json()["new"] == 1


def test_bad_requests_and_pages_that_do_not_ask(article: Any, settings: Any) -> None:
    assert latest(article, "x").status_code == 400
    assert latest(article, "").json() == {"newest": 0, "total": 0, "new": 0}
    assert Client().get("/news/no-such-article/discussion/latest").status_code == 404
    assert Client().post(f"/news/{article.slug}/discussion/latest").status_code == 405
    settings.CIVILITY_LIVE_UPDATE_SECONDS = 0
    assert "data-live-url" not in Client().get(f"/news/{article.slug}/").content.decode()
