"""ops.prepared: a queryset compiled once gives, with new values, what the ORM gives."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civility.news.models import Article
from civility.news.selectors import site_articles
from civility.ops.prepared import PreparedQuery
from civility.sites.models import default_site_pk

pytestmark = pytest.mark.django_db


def published_on(slug: str, site_id: int, now: datetime.datetime) -> QuerySet[Article]:
    return site_articles(site_id, now).filter(slug=slug).order_by("pk")


PUBLISHED = PreparedQuery(
    "test_published_on",
    Article,
    published_on,
    {"slug": "str", "site_id": "int", "now": "datetime"},
)


def make_article(slug: str, published_at: datetime.datetime) -> Article:
    return Article.objects.create(
        slug=slug, headline=f"Headline {slug}", lead="Lead.", published_at=published_at
    )


def test_the_same_rows_as_the_orm_for_every_value() -> None:
    now = timezone.now()
    site = int(default_site_pk())
    past = make_article("past", now - datetime.timedelta(days=1))
    make_article("future", now + datetime.timedelta(days=1))
    for slug, moment in [
        ("past", now),
        ("future", now),
        ("future", now + datetime.timedelta(days=2)),  # its time has come by then
        ("none-such", now),
        ("past", now - datetime.timedelta(days=2)),  # not yet published then
    ]:
        expected = list(published_on(slug, site, moment))
        got = PUBLISHED.fetch(slug=slug, site_id=site, now=moment)
        assert [a.pk for a in got] == [a.pk for a in expected], (slug, moment)
    (found,) = PUBLISHED.fetch(slug="past", site_id=site, now=now)
    assert found == past
    assert found.headline == "Headline past"
    assert found.published_at == past.published_at  # converters applied (aware datetime)
    assert PUBLISHED.fetch(slug="past", site_id=site + 1000, now=now) == []


def test_one_query_and_a_value_is_never_spliced_into_the_sql() -> None:
    now = timezone.now()
    make_article("quoted", now - datetime.timedelta(hours=1))
    hostile = "quoted' OR '1'='1"
    with CaptureQueriesContext(connection) as queries:
        assert PUBLISHED.fetch(slug=hostile, site_id=int(default_site_pk()), now=now) == []
    assert len(queries.captured_queries) == 1
    (plan,) = [p for p in PUBLISHED._plans.values() if p is not None]
    assert "quoted" not in plan.sql and "prepared-slot" not in plan.sql


def test_select_related_and_annotations_come_back() -> None:
    from django.db.models import Exists, OuterRef

    from civility.discussion.models import Thread
    from civility.discussion.services import thread_for_article

    now = timezone.now()
    article = make_article("threaded", now - datetime.timedelta(hours=1))
    thread = thread_for_article(article)

    def threads(slug: str) -> QuerySet[Thread]:
        return (
            Thread.objects.select_related("article")
            .filter(article__slug=slug)
            .annotate(
                has_article=Exists(Article.objects.filter(pk=OuterRef("article_id"), slug=slug))
            )
        )

    prepared = PreparedQuery("test_threads", Thread, threads, {"slug": "str"})
    (found,) = prepared.fetch(slug="threaded")
    assert found.pk == thread.pk
    assert found.has_article is True  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as queries:
        assert found.article.headline == "Headline threaded"
    assert queries.captured_queries == []  # the article came with the thread


def test_a_value_read_from_elsewhere_leaves_the_query_unprepared(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A builder that reads the clock itself would freeze it into a prepared query: the
    second compile sees another value there, so the query runs unprepared, and right."""
    now = timezone.now()
    make_article("clocked", now - datetime.timedelta(seconds=5))

    def by_clock(slug: str) -> QuerySet[Article]:
        return Article.objects.published().filter(slug=slug)  # reads timezone.now()

    prepared = PreparedQuery("test_by_clock", Article, by_clock, {"slug": "str"})
    assert [a.slug for a in prepared.fetch(slug="clocked")] == ["clocked"]
    assert list(prepared._plans.values()) == [None]
    assert "depends on more than its slots" in caplog.text


def test_a_shape_that_depends_on_a_value_is_refused() -> None:
    def maybe(slug: str) -> QuerySet[Article]:
        if slug.startswith("\x1fprepared-slot-2"):
            return Article.objects.filter(slug=slug, lead="")
        return Article.objects.filter(slug=slug)

    prepared = PreparedQuery("test_shape", Article, maybe, {"slug": "str"})
    assert prepared.fetch(slug="x") == []
    assert list(prepared._plans.values()) == [None]


def test_wrong_values_and_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown slot kind"):
        PreparedQuery("bad", Article, published_on, {"slug": "text"})
    with pytest.raises(TypeError, match="values for"):
        PUBLISHED.fetch(slug="x")


@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_on_its_own_connection() -> None:
    now = timezone.now()
    make_article("threads", now - datetime.timedelta(hours=1))
    site = int(default_site_pk())
    results: list[Any] = []

    def worker() -> None:
        from django.db import connections

        try:
            results.append([a.slug for a in PUBLISHED.fetch(slug="threads", site_id=site, now=now)])
        finally:
            connections.close_all()

    PUBLISHED.fetch(slug="threads", site_id=site, now=now)  # prepared on this thread
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert results == [["threads"]]
