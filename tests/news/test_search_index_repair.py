"""A migration that rebuilds news_article on SQLite drops the FTS triggers; migrate repairs them."""

import pytest
from django.db import connection

from civility.news.apps import ensure_sqlite_search_index
from civility.news.models import Article
from civility.news.search import search_articles

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5 triggers exist only on SQLite")
def test_dropped_triggers_are_reinstalled_and_the_index_rebuilt() -> None:
    with connection.cursor() as cursor:
        for name in ("insert", "delete", "update"):
            cursor.execute(f"DROP TRIGGER news_article_fts_{name}")
    article = Article.objects.create(
        slug="harbour-ferry",
        headline="Harbour ferry timetable doubles",
        lead="More boats.",
        body="<p>Yes.</p>",
    )
    assert article not in search_articles("Harbour ferry timetable")

    ensure_sqlite_search_index()

    assert search_articles("Harbour ferry timetable")[0] == article
