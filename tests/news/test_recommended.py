"""The Recommended listing: the articles the site's editors recommend, newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from civility.news.demo_content import DEMO_RECOMMENDED, load_demo_articles
from civility.news.models import Article
from tests.news.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_recommended_articles_newest_first_and_only_them() -> None:
    now = timezone.now()
    older = ArticleFactory(headline="Older pick", published_at=now - timedelta(days=2))
    newer = ArticleFactory(headline="Newer pick", published_at=now - timedelta(hours=1))
    ArticleFactory(headline="Not a pick", published_at=now - timedelta(hours=2))
    ArticleFactory(headline="Scheduled pick", published_at=now + timedelta(days=1))
    Article.objects.filter(pk__in=[older.pk, newer.pk]).update(recommended=True)
    Article.objects.filter(headline="Scheduled pick").update(recommended=True)
    response = Client().get("/recommended/")
    assert response.status_code == 200
    assert list(response.context["page"]) == [newer, older]
    page = response.content.decode()
    assert "Not a pick" not in page and "Scheduled pick" not in page
    assert 'href="/recommended/"' in Client().get("/").content.decode()  # in the header


def test_an_empty_listing_says_so() -> None:
    ArticleFactory(headline="Plain news")
    page = Client().get("/recommended/").content.decode()
    assert "The editors recommend no article yet." in page


def test_the_demo_recommends_some_articles() -> None:
    load_demo_articles()
    assert set(Article.objects.filter(recommended=True).values_list("slug", flat=True)) == set(
        DEMO_RECOMMENDED
    )


def test_editors_set_it_from_the_admin_list(admin_client: Client) -> None:
    article = ArticleFactory(headline="A story worth reading")
    listing = admin_client.get("/admin/news/article/")
    assert listing.status_code == 200
    assert 'name="form-0-recommended"' in listing.content.decode()
    edit = admin_client.get(f"/admin/news/article/{article.pk}/change/")
    assert 'name="recommended"' in edit.content.decode()
