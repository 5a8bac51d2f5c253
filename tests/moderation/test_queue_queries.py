"""The queue page reads a fixed number of queries, however many cards it shows: reports are
prefetched, the authors' histories read at once for the whole page, and every count the page
shows (the queues, a filtered queue, unlock requests and messages) in one statement."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civility.discussion.models import Comment, CommentStatus, Report
from civility.discussion.services import thread_for_article
from tests.discussion.conftest import make_user

pytestmark = pytest.mark.django_db

# The session, the user and their moderator group; every count, the page's rows, their
# reports, the authors' recent decisions and their histories.
MAX_QUERIES = 8


def held_comments(article: Any, count: int, batch: str = "a") -> list[Comment]:
    """``count`` pending comments, each by its own author who also has a reported comment."""
    thread = thread_for_article(article)
    reporter = make_user(f"reporter-{batch}@example.org")
    comments = []
    for n in range(count):
        author = make_user(f"author{n}-{batch}@example.org")
        published = Comment.objects.create(
            thread=thread, author=author, text=f"Earlier remark {n}", status="published"
        )
        Report.objects.create(comment=published, reporter=reporter, rule="insult")
        comments.append(
            Comment.objects.create(
                thread=thread, author=author, text=f"Held remark {n}", status="pending"
            )
        )
    return comments


def queries_for(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("queue", ["pending", "reported", "all"])
def test_queue_page_queries_do_not_grow_with_the_page(
    moderator_client: Client, article: Any, queue: str, django_assert_max_num_queries: Any
) -> None:
    held_comments(article, 2)
    moderator_client.get("/moderation/")  # the session and the cached list of sites
    few = queries_for(moderator_client, f"/moderation/queue/{queue}/")
    held_comments(article, 30, batch="b")  # more than a page of cards, authors and reports
    many = queries_for(moderator_client, f"/moderation/queue/{queue}/")
    assert many == few
    with django_assert_max_num_queries(MAX_QUERIES):
        moderator_client.get(f"/moderation/queue/{queue}/?page=2")


def test_queue_page_shows_history_and_reports_of_each_card(
    moderator_client: Client, article: Any
) -> None:
    comments = held_comments(article, 3)
    reported = Comment.objects.filter(status=CommentStatus.PUBLISHED).first()
    assert reported is not None
    page = moderator_client.get("/moderation/queue/pending/").content.decode()
    for comment in comments:
        assert f'data-comment-id="{comment.pk}"' in page
    assert "0 strikes · 0/1 recent comments rejected" in page
    reported_page = moderator_client.get("/moderation/queue/reported/").content.decode()
    assert f'data-comment-id="{reported.pk}"' in reported_page
    assert "insult" in reported_page


def test_large_queues_are_counted_up_to_the_cap(
    moderator_client: Client, article: Any, settings: Any
) -> None:
    settings.CIVILITY_QUEUE_COUNT_CAP = 2
    held_comments(article, 3)
    page = moderator_client.get("/moderation/queue/pending/").content.decode()
    assert 'data-count="pending">2+<' in page
    assert "data-queue-total>2+<" in page


def test_a_filtered_queue_is_counted_up_to_its_own_cap(
    moderator_client: Client, article: Any, settings: Any
) -> None:
    settings.CIVILITY_QUEUE_COUNT_CAP = 2
    held_comments(article, 3)
    Comment.objects.filter(status="pending").update(rule="insult")
    page = moderator_client.get("/moderation/queue/pending/?rule=insult").content.decode()
    assert "data-queue-total>2+<" in page
    page = moderator_client.get("/moderation/queue/pending/?rule=threat").content.decode()
    assert "data-queue-total>0<" in page and "data-queue-empty" in page


@pytest.mark.parametrize(
    "path",
    [
        "/moderation/queue/pending/",
        "/moderation/queue/pending/?page=3",
        "/moderation/queue/rejected/?rule=insult&author=author1",
        "/moderation/queue/all/?article=treaty&from=2020-01-01&to=2100-01-01",
    ],
)
def test_every_count_of_the_page_is_one_query(
    moderator_client: Client, article: Any, path: str
) -> None:
    held_comments(article, 30)
    moderator_client.get("/moderation/")  # the session and the cached list of sites
    with CaptureQueriesContext(connection) as captured:
        response = moderator_client.get(path)
    assert response.status_code == 200
    statements = [q["sql"].upper() for q in captured.captured_queries]
    assert sum(sql.startswith("SELECT (SELECT COUNT(") for sql in statements) == 1
    assert not [sql for sql in statements if sql.startswith("SELECT COUNT(")]
    assert len(captured.captured_queries) <= MAX_QUERIES


def test_card_links_are_the_routes_of_the_comment_and_its_author(article: Any) -> None:
    from django.urls import reverse

    from civility.moderation.views import CardLinks

    (comment, *_) = held_comments(article, 1)
    links = CardLinks().of(comment)
    for name in CardLinks.BY_COMMENT:
        assert links[name] == reverse(f"moderation:{name}", args=[comment.pk])
    for name in CardLinks.BY_AUTHOR:
        assert links[name] == reverse(f"moderation:{name}", args=[comment.author_id])


def test_queues_over_the_cap_are_not_counted_again_at_once(
    moderator_client: Client, article: Any, settings: Any
) -> None:
    settings.CIVILITY_QUEUE_COUNT_CAP = 2
    held_comments(article, 3)  # 3 pending, 3 published (reported): "all" holds 6

    def count_statement() -> str:
        with CaptureQueriesContext(connection) as captured:
            page = moderator_client.get("/moderation/queue/reported/").content.decode()
        assert 'data-count="pending">2+<' in page and 'data-count="all">2+<' in page
        statements = [q["sql"] for q in captured.captured_queries]
        return next(sql for sql in statements if sql.upper().startswith("SELECT (SELECT COUNT("))

    first, second = count_statement(), count_statement()
    assert first.count("COUNT(*)") > second.count("COUNT(*)") >= 2  # rejected, reported
    assert "'pending'" in first and "'pending'" not in second


def test_the_pending_count_of_the_header_uses_what_the_queue_page_found(
    article: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    from civility.moderation.queues import pending_count

    settings.CIVILITY_QUEUE_COUNT_CAP = 2
    held_comments(article, 3)
    site_id = Comment.objects.get(text="Held remark 0").site_id
    with django_assert_num_queries(1):
        assert pending_count(site_id) == 3
    with django_assert_num_queries(0):
        assert pending_count(site_id) == 3  # over the cap: not counted again at once
    settings.CIVILITY_QUEUE_COUNT_CAP = 10
    with django_assert_num_queries(1):
        assert pending_count(site_id) == 3
