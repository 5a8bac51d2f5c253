"""Search behaves the same on SQLite (FTS5) and PostgreSQL (tsvector + GIN)."""

from __future__ import annotations

import pytest
from django.db import connection

from civility.news.models import Article
from civility.news.search import MAX_QUERY_CHARS, normalise_query, search_articles
from tests.news.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_finds_an_article_by_its_full_headline() -> None:
    target = ArticleFactory(
        headline="Neighbouring states agree to resume peace-treaty talks after a decade"
    )
    ArticleFactory(headline="Council reviews parking charges", body="<p>Nothing about talks.</p>")
    assert search_articles(target.headline)[0] == target


def test_headline_matches_rank_above_body_matches() -> None:
    in_body = ArticleFactory(
        headline="Weekly round-up", body="<p>The glacier retreated again this year.</p>"
    )
    in_headline = ArticleFactory(
        headline="Glacier retreat speeds up", body="<p>Scientists measured it.</p>"
    )
    results = search_articles("glacier")
    assert results[:2] == [in_headline, in_body]


def test_stemmed_forms_match() -> None:
    article = ArticleFactory(
        headline="Ministers negotiate tariffs", body="<p>Farmers protested.</p>"
    )
    assert article in search_articles("negotiating tariff")


def test_any_word_is_the_fallback_when_no_article_has_all() -> None:
    article = ArticleFactory(headline="Library festival announced")
    assert search_articles("library zeppelin") == [article]


def test_index_follows_edits_and_deletions() -> None:
    article = ArticleFactory(headline="Old headline about trams")
    assert search_articles("trams") == [article]
    article.headline = "New headline about ferries"
    article.save()
    assert search_articles("trams") == []
    assert search_articles("ferries") == [article]
    Article.objects.filter(pk=article.pk).update(headline="Queryset update about bicycles")
    assert search_articles("bicycles") == [article]
    article.delete()
    assert search_articles("ferries") == []
    assert search_articles("bicycles") == []


def test_scheduled_articles_are_not_found() -> None:
    from datetime import timedelta

    from django.utils import timezone

    ArticleFactory(
        headline="Embargoed budget story", published_at=timezone.now() + timedelta(hours=2)
    )
    assert search_articles("embargoed budget") == []


@pytest.mark.parametrize(
    "query",
    [
        "x" * 5000,
        "\x00\x01\x02 binary \xff\xfe",
        '"unbalanced quote',
        "NEAR(a b) OR AND NOT * ^col:",
        "headline: body_text : {lead}",
        "-minus !bang & | ( ) <-> :*",
        "',--; DROP TABLE news_article; --",
        "\ud800 lone surrogate",
        "",
        "   ",
    ],
)
def test_hostile_queries_never_raise(query: str) -> None:
    ArticleFactory(headline="Binary bridge opens")
    search_articles(query)
    assert Article.objects.count() == 1


def test_query_is_normalised() -> None:
    assert normalise_query("a\x00b\n c") == "a b c"
    assert len(normalise_query("word " * 2000)) <= MAX_QUERY_CHARS


def test_uses_the_engine_specific_index() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'news_article_fts%%'")
            names = {row[0] for row in cursor.fetchall()}
            assert {
                "news_article_fts",
                "news_article_fts_insert",
                "news_article_fts_update",
            } <= names
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'news_article_search_gin'"
            )
            (definition,) = cursor.fetchone()
            assert "gin" in definition.lower()
