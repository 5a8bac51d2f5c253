"""Article listings show each card's public comment count, read in one query for the page."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civility.discussion.models import CommentStatus
from tests.discussion.conftest import make_article
from tests.discussion.test_most_discussed import add_comments

pytestmark = pytest.mark.django_db

LISTINGS = ("/", "/most-discussed/", "/search?q=treaty", "/tags/diplomacy/")


def card_counts(page: str) -> dict[str, int]:
    """slug -> the number the card's comment link shows."""
    pattern = r'href="/news/([\w-]+)/#comments">(\d+) comments?</a>'
    return {slug: int(count) for slug, count in re.findall(pattern, page)}


def listing_queries(path: str) -> tuple[int, str]:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(path)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def make_discussed(slug: str, published: int) -> None:
    from civility.news.models import Tag

    article = make_article(slug, headline=f"Treaty talks, part {slug}")
    article.tags.add(Tag.objects.get_or_create(slug="diplomacy", defaults={"name": "Diplomacy"})[0])
    add_comments(article, published)
    add_comments(article, 2, status=CommentStatus.PENDING)
    add_comments(article, 1, author_hidden=True)


@pytest.mark.parametrize("path", LISTINGS)
def test_cards_count_public_comments_with_queries_independent_of_the_page(path: str) -> None:
    make_discussed("first", 3)
    make_discussed("second", 1)
    few, page = listing_queries(path)
    assert card_counts(page) == {"first": 3, "second": 1}
    for n in range(5):
        make_discussed(f"more-{n}", n + 2)
    many, page = listing_queries(path)
    assert card_counts(page)["more-4"] == 6
    assert len(card_counts(page)) == 7
    assert many == few
