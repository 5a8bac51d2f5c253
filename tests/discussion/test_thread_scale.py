"""Thread pages stay proportional to the page, not to the thread: the same number of queries
for a thread of 12 comments as for one of 240, pages of top-level comments with every reply
below them, and a comment section fragment that anonymous readers share through the cache."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus, Thread
from civility.discussion.services import thread_for_article

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]


def seed_thread(
    thread: Thread, author: Any, roots: int, replies_per_root: int
) -> list[list[Comment]]:
    """``roots`` published top-level comments, each with a chain of ``replies_per_root``
    replies (a reply to the previous one), oldest first. Returns each top-level comment's
    family: the comment, then its replies."""
    start = timezone.now() - timedelta(days=1)

    def made(parent: Comment | None, n: int, depth: int) -> Comment:
        return Comment(
            thread=thread,
            parent=parent,
            author=author,
            text=f"Comment {n} on the treaty talks, depth {depth}.",
            depth=depth,
            status=CommentStatus.PUBLISHED,
            created_at=start + timedelta(seconds=n),
        )

    level = Comment.objects.bulk_create([made(None, i * 100, 0) for i in range(roots)])
    families = [[root] for root in level]
    for depth in range(1, replies_per_root + 1):
        level = Comment.objects.bulk_create(
            [made(parent, i * 100 + depth, depth) for i, parent in enumerate(level)]
        )
        for family, reply in zip(families, level, strict=True):
            family.append(reply)
    return families


def queries_for(url: str) -> int:
    cache.clear()  # the thread's total is cached: count the queries of a cold page
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_the_thread(article: Any, reader: Any, settings: Any) -> None:
    from tests.discussion.conftest import make_article

    settings.CIVILITY_COMMENTS_PER_PAGE = 3
    small, big = article, make_article("budget-debate", headline="The budget debate")
    seed_thread(thread_for_article(small), reader, roots=4, replies_per_root=2)
    seed_thread(thread_for_article(big), reader, roots=60, replies_per_root=3)
    for path in ("/news/{}/discussion/", "/news/{}/", "/api/articles/{}/comments?page_size=5"):
        small_queries = queries_for(path.format(small.slug))
        assert queries_for(path.format(big.slug)) == small_queries, path
    assert queries_for(f"/news/{big.slug}/discussion/?cpage=7") == queries_for(
        f"/news/{small.slug}/discussion/"
    )
    # Cold (cache cleared): 9, one of them the editors' picks, cached like the total.
    assert queries_for(f"/news/{big.slug}/discussion/") <= 9


def test_a_page_holds_its_top_level_comments_and_every_reply_below_them(
    article: Any, reader: Any, settings: Any
) -> None:
    settings.CIVILITY_COMMENTS_PER_PAGE = 2
    settings.CIVILITY_THREAD_MAX_DEPTH = 10
    thread = thread_for_article(article)
    families = [{c.pk for c in f} for f in seed_thread(thread, reader, 5, replies_per_root=3)]

    def shown(query: str) -> set[int]:
        html = Client().get(f"/news/{article.slug}/discussion/{query}").content.decode()
        return {pk for family in families for pk in family if f'id="comment-{pk}"' in html}

    assert shown("") == families[0] | families[1]
    assert shown("?cpage=2") == families[2] | families[3]
    assert shown("?cpage=3") == families[4]
    assert shown("?sort=newest") == families[4] | families[3]
    page = Client().get(f"/news/{article.slug}/discussion/?cpage=2").content.decode()
    assert "cpage=1" in page and "cpage=3" in page  # previous and next, no page count


def test_most_replies_orders_every_top_level_comment_across_pages(
    article: Any, reader: Any, other_reader: Any, settings: Any
) -> None:
    settings.CIVILITY_COMMENTS_PER_PAGE = 1
    thread = thread_for_article(article)
    (quiet,), (busy,) = seed_thread(thread, reader, roots=2, replies_per_root=0)
    for n in range(3):
        Comment.objects.create(
            thread=thread,
            parent=busy,
            author=other_reader,
            text=f"Reply {n} on the budget.",
            depth=1,
            status=CommentStatus.PUBLISHED,
        )
    first = Client().get(f"/news/{article.slug}/discussion/?sort=replies").content.decode()
    second = Client().get(f"/news/{article.slug}/discussion/?sort=replies&cpage=2")
    assert f'id="comment-{busy.pk}"' in first and f'id="comment-{quiet.pk}"' not in first
    assert f'id="comment-{quiet.pk}"' in second.content.decode()


def test_anonymous_section_holds_nothing_personal_and_sets_no_cookie(
    article: Any, reader: Any, reader_client: Client
) -> None:
    seed_thread(thread_for_article(article), reader, roots=2, replies_per_root=1)
    anonymous = Client().get(f"/news/{article.slug}/discussion/")
    body = anonymous.content.decode()
    assert anonymous.status_code == 200 and not anonymous.cookies
    assert "csrfmiddlewaretoken" not in body and "Sign in to comment" in body
    signed_in = reader_client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "csrfmiddlewaretoken" in signed_in  # the form, for the signed-in reader only
    assert Client().get("/news/no-such-article/discussion/").status_code == 404
