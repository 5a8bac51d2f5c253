"""The "most discussed" listing (product.md §1): articles ranked by the public comments posted
in the last day, week or month."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import thread_for_article
from tests.discussion.conftest import make_article, make_user

pytestmark = pytest.mark.django_db


def add_comments(article: Any, count: int, *, days_ago: float = 0, **fields: Any) -> None:
    thread = thread_for_article(article)
    author = make_user(f"writer{Comment.objects.count()}@example.org")
    moment = timezone.now() - timedelta(days=days_ago)
    for n in range(count):
        Comment.objects.create(
            thread=thread,
            author=author,
            text=f"Comment {n} on {article.slug}",
            status=fields.get("status", CommentStatus.PUBLISHED),
            author_hidden=fields.get("author_hidden", False),
            created_at=moment - timedelta(minutes=n),
        )


def listing(period: str = "") -> str:
    query = {"period": period} if period else {}
    response = Client().get("/most-discussed/", query)
    assert response.status_code == 200
    return response.content.decode()


def order_in(page: str, *slugs: str) -> list[str]:
    return sorted(slugs, key=lambda slug: page.find(f'href="/news/{slug}/"'))


def test_articles_are_ranked_by_this_weeks_public_comments() -> None:
    busy, calm, old_news = (make_article(slug) for slug in ("busy", "calm", "old-news"))
    add_comments(busy, 5)
    add_comments(calm, 2, days_ago=3)
    add_comments(old_news, 9, days_ago=20)  # outside the week
    add_comments(calm, 6, status=CommentStatus.PENDING)  # not public
    add_comments(calm, 6, status=CommentStatus.REJECTED)
    add_comments(calm, 6, author_hidden=True)
    page = listing()
    assert order_in(page, "busy", "calm") == ["busy", "calm"]
    assert 'href="/news/old-news/"' not in page
    assert "5 comments in this period" in page
    assert "2 comments in this period" in page
    month = listing("month")
    assert order_in(month, "old-news", "busy", "calm") == ["old-news", "busy", "calm"]
    today = listing("day")
    assert 'href="/news/busy/"' in today and 'href="/news/calm/"' not in today


def test_unpublished_articles_and_an_unknown_period() -> None:
    scheduled = make_article("scheduled", published_at=timezone.now() + timedelta(days=1))
    add_comments(scheduled, 3)
    page = listing("fortnight")  # falls back to the week
    assert 'aria-current="page">Last 7 days<' in page
    assert 'href="/news/scheduled/"' not in page
    assert "No comments were published in this period." in page


def test_every_page_links_the_listing_and_it_costs_a_few_queries(
    django_assert_max_num_queries: Any,
) -> None:
    for n in range(8):
        add_comments(make_article(f"story-{n}"), n + 1)
    assert 'href="/most-discussed/"' in Client().get("/").content.decode()
    client = Client()
    client.get("/most-discussed/")
    # The ranking is cached; each card counts its article's comments, as on the front page.
    with django_assert_max_num_queries(8 + 3):
        page = client.get("/most-discussed/").content.decode()
    assert order_in(page, *(f"story-{n}" for n in range(8))) == [
        f"story-{n}" for n in reversed(range(8))
    ]
