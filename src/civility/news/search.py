"""Ranked full-text search over articles, one interface for both database engines.

SQLite uses the FTS5 table that migration 0002 keeps in step with ``news_article``;
PostgreSQL uses a GIN-indexed weighted tsvector. Headline words weigh most, then the lead,
then the body. Readers' queries are never passed through as query syntax: on SQLite every
word is quoted, on PostgreSQL ``websearch_to_tsquery`` parses text that has had its
operators removed. Control characters (NUL included) are dropped and the query is
truncated, so no input can raise.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import connection
from django.db.models import Q

from civility.news.models import Article
from civility.news.selectors import site_articles

MAX_QUERY_CHARS = 200
MAX_TERMS = 16
WORD = re.compile(r"\w+")
# What PostgreSQL's websearch syntax treats as operators ("quotes", -negation): spaces instead.
NOT_TEXT = re.compile(r"[^\w.,']+")

SQLITE_SEARCH = """
    SELECT rowid FROM news_article_fts
    WHERE news_article_fts MATCH %s
    ORDER BY bm25(news_article_fts, 10.0, 4.0, 1.0)
    LIMIT %s
"""
POSTGRES_VECTOR = """(
    setweight(to_tsvector('english'::regconfig, coalesce(headline, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(lead, '')), 'B')
    || setweight(to_tsvector('english'::regconfig, coalesce(body_text, '')), 'C'))"""
POSTGRES_SEARCH = f"""
    SELECT id FROM news_article, websearch_to_tsquery('english'::regconfig, %s) AS query
    WHERE {POSTGRES_VECTOR} @@ query
    ORDER BY ts_rank_cd({POSTGRES_VECTOR}, query) DESC, published_at DESC
    LIMIT %s
"""


def normalise_query(raw: str) -> str:
    """The query as it will be searched: printable characters only, at most MAX_QUERY_CHARS."""
    printable = "".join(
        char if unicodedata.category(char)[0] != "C" else " " for char in raw[: MAX_QUERY_CHARS * 4]
    )
    return " ".join(printable.split())[:MAX_QUERY_CHARS]


def query_terms(raw: str) -> list[str]:
    return WORD.findall(normalise_query(raw))[:MAX_TERMS]


def _sqlite_ids(terms: list[str], limit: int) -> list[int]:
    # Terms are runs of \w characters, so quoting them makes each a literal FTS5 string.
    quoted = [f'"{term}"' for term in terms]
    expressions = [" ".join(quoted)]
    if len(quoted) > 1:
        expressions.append(" OR ".join(quoted))  # fall back to any word when no article has all
    with connection.cursor() as cursor:
        for expression in expressions:
            cursor.execute(SQLITE_SEARCH, [expression, limit])
            ids = [row[0] for row in cursor.fetchall()]
            if ids:
                return ids
    return []


def _postgres_ids(text: str, terms: list[str], limit: int) -> list[int]:
    words = NOT_TEXT.sub(" ", text).split()[:MAX_TERMS]
    queries = [" ".join(words)]
    if len(words) > 1:
        queries.append(" or ".join(words))
    with connection.cursor() as cursor:
        for query in queries:
            cursor.execute(POSTGRES_SEARCH, [query, limit])
            ids = [row[0] for row in cursor.fetchall()]
            if ids:
                return ids
    return []


def _portable_ids(terms: list[str], limit: int) -> list[int]:
    """Unranked substring search, for database engines without a full-text index here."""
    condition = Q()
    for term in terms:
        condition &= (
            Q(headline__icontains=term) | Q(lead__icontains=term) | Q(body_text__icontains=term)
        )
    return list(Article.objects.filter(condition).values_list("id", flat=True)[:limit])


def search_articles(raw_query: str, *, limit: int = 100) -> list[Article]:
    """Published articles matching ``raw_query``, best match first. Never raises on input."""
    text = normalise_query(raw_query)
    terms = query_terms(text)
    if not terms:
        return []
    if connection.vendor == "sqlite":
        ids = _sqlite_ids(terms, limit)
    elif connection.vendor == "postgresql":
        ids = _postgres_ids(text, terms, limit)
    else:
        ids = _portable_ids(terms, limit)
    if not ids:
        return []
    found = site_articles().filter(id__in=ids).prefetch_related("tags").in_bulk()
    return [found[article_id] for article_id in ids if article_id in found]
