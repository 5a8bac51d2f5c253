from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from civility.news.models import Article
from civility.news.views import ARTICLES_PER_PAGE
from tests.news.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_front_page_lists_newest_first_and_paginates(client: Client) -> None:
    articles = [
        ArticleFactory(published_at=timezone.now() - timedelta(hours=hours))
        for hours in range(1, 13)
    ]
    response = client.get("/")
    assert response.status_code == 200
    listed = list(response.context["page"])
    assert listed == articles[:ARTICLES_PER_PAGE]
    assert 'rel="next"' in response.text
    second = client.get("/?page=2")
    assert list(second.context["page"]) == articles[ARTICLES_PER_PAGE:]
    assert client.get("/?page=banana").status_code == 200
    assert client.get("/?page=99999").status_code == 200


def test_front_page_hides_scheduled_articles(client: Client) -> None:
    ArticleFactory(headline="Tomorrow's story", published_at=timezone.now() + timedelta(days=1))
    assert "Tomorrow" not in client.get("/").text


def test_article_page_shows_everything_the_reader_needs(client: Client) -> None:
    older = ArticleFactory(tags=["Climate"], headline="Older climate story")
    article = ArticleFactory(
        tags=["Climate", "City"],
        headline="Flood barrier plan unveiled",
        dateline="Harbourton",
        lead="Gates and marshes would protect homes.",
        image_credit="Jane Doe",
    )
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    text = response.text
    assert "Flood barrier plan unveiled" in text
    assert "Harbourton" in text
    assert "Gates and marshes would protect homes." in text
    assert f"http://testserver/s/{article.short_code}" in text
    assert 'href="/tags/climate/"' in text and 'href="/tags/city/"' in text
    assert 'id="comments"' in text  # the discussion app's section is included
    assert response.context["related"][0] == older
    assert 'rel="canonical"' in text


def test_related_articles_prefer_shared_tags_then_recency(client: Client) -> None:
    article = ArticleFactory(tags=["Energy", "Climate", "Economy"])
    one_shared = ArticleFactory(tags=["Energy"], published_at=timezone.now() - timedelta(minutes=5))
    two_shared = ArticleFactory(
        tags=["Energy", "Climate"], published_at=timezone.now() - timedelta(days=30)
    )
    unrelated_recent = ArticleFactory(
        tags=["Sport"], published_at=timezone.now() - timedelta(minutes=1)
    )
    related = client.get(article.get_absolute_url()).context["related"]
    assert related[:3] == [two_shared, one_shared, unrelated_recent]


def test_short_url_redirects_permanently_to_the_article(client: Client) -> None:
    article = ArticleFactory()
    response = client.get(f"/s/{article.short_code}")
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()
    assert client.get(f"/s/{article.short_code.upper()}").status_code == 301
    assert client.get("/s/zzzzzz").status_code == 404


def test_tag_page_lists_its_articles(client: Client) -> None:
    tagged = ArticleFactory(tags=["Science"], headline="Exoplanet water found")
    ArticleFactory(tags=["Sport"], headline="League title decided")
    response = client.get("/tags/science/")
    assert response.status_code == 200
    assert list(response.context["page"]) == [tagged]
    assert "League title decided" not in response.text


@pytest.mark.parametrize(
    "url", ["/news/no-such-article/", "/tags/no-such-tag/", "/s/nothing", "/nowhere/"]
)
def test_unknown_addresses_get_the_404_page(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_search_page_finds_a_headline(client: Client) -> None:
    article = ArticleFactory(
        headline="Wind and solar overtake coal in the national grid for the first time"
    )
    ArticleFactory(headline="Something else entirely")
    response = client.get("/search", {"q": article.headline})
    assert response.status_code == 200
    assert next(iter(response.context["page"])) == article
    assert article.get_absolute_url() in response.text


@pytest.mark.parametrize(
    "raw_query",
    ["x" * 5000, "%00%01%02%ff%fe%80", "%22NEAR(%22", "%E2%80%AE%F0%9F%92%A5" * 300, "a%00b"],
)
def test_search_survives_hostile_queries(client: Client, raw_query: str) -> None:
    ArticleFactory(headline="Harbour news")
    response = client.get(f"/search?q={raw_query if '%' in raw_query else quote(raw_query)}")
    assert response.status_code == 200


def test_search_without_query_shows_the_form(client: Client) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    assert 'name="q"' in response.text


def test_feed_lists_latest_articles(client: Client) -> None:
    article = ArticleFactory(headline="Feed headline", tags=["Culture"])
    response = client.get("/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "Feed headline" in response.text
    assert article.get_absolute_url() in response.text


def test_share_counter_counts_posts_only(client: Client) -> None:
    article = ArticleFactory()
    url = f"{article.get_absolute_url()}share"
    assert client.get(url).status_code == 405
    assert client.post(url).json() == {"shares": 1}
    assert client.post(url).json() == {"shares": 2}
    assert Article.objects.get(pk=article.pk).share_count == 2


def test_an_anonymous_article_page_sets_no_cookie_and_its_share_counter_needs_none() -> None:
    article = ArticleFactory()
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(article.get_absolute_url())
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers and not page.cookies  # a cache may keep it
    # The counter is exempt: no token cookie to post with, and a forged post adds one share.
    assert strict.post(f"{article.get_absolute_url()}share").json() == {"shares": 1}


def test_a_signed_in_reader_gets_the_csrf_cookie_with_the_article_page() -> None:
    from tests.discussion.conftest import make_user

    article = ArticleFactory()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("alice@example.org"))
    strict.get(article.get_absolute_url())
    assert strict.cookies["csrftoken"].value


def test_the_share_counter_is_rate_limited_per_address(client: Client, settings: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.CIVILITY_RATE_SHARE = "2/60"
    article = ArticleFactory()
    url = f"{article.get_absolute_url()}share"
    assert [client.post(url).status_code for _ in range(3)] == [200, 200, 429]
    assert int(client.post(url)["Retry-After"]) >= 1
    assert Article.objects.get(pk=article.pk).share_count == 2
    cache.clear()


def test_base_template_offers_sign_in_and_registration(client: Client) -> None:
    text = client.get("/").text
    assert 'href="/accounts/login/"' in text
    assert 'href="/accounts/signup/"' in text
    assert "<script>" not in text  # no inline scripts: a strict CSP must be possible


def test_signed_in_reader_sees_sign_out(client: Client, reader: object) -> None:
    client.force_login(reader)  # type: ignore[arg-type]
    assert 'href="/accounts/logout/"' in client.get("/").text


def test_static_files_are_served(client: Client) -> None:
    response = client.get("/static/civility/css/site.css")
    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)  # type: ignore[attr-defined]
