"""Queue pages: "Next" and "Previous" carry a cursor (seek paging) and keep the page numbers,
the filters and every card in order; deciding cards between two pages skips none; a page far
down a queue reads as many queries as the first one."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import thread_for_article
from civility.moderation.queues import Cursor, order_of, seek
from civility.moderation.views import PAGE_SIZE
from tests.discussion.conftest import make_user

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<a href="\?([^"]*)" rel="(next|prev)">')
CARD = re.compile(r'data-comment-id="(\d+)"')


def make_queue(article: Any, count: int, status: str = CommentStatus.PENDING) -> list[Comment]:
    """``count`` comments in ``status``, a second apart (some share a timestamp, so that the
    id breaks ties), oldest first; rejected ones decided in the reverse order."""
    thread = thread_for_article(article)
    author = make_user("author@example.org")
    start = timezone.now() - timedelta(days=1)
    rows = []
    for n in range(count):
        created = start + timedelta(seconds=n // 2)
        rows.append(
            Comment(
                thread=thread,
                site_id=thread.site_id,
                author=author,
                text=f"Remark {n} on the treaty.",
                status=status,
                rule="insult" if n % 3 == 0 else "",
                fired_rules=",insult," if n % 3 == 0 else "",
                created_at=created,
                decided_at=start + timedelta(hours=1, seconds=(count - n) // 2)
                if status != CommentStatus.PENDING
                else None,
            )
        )
    return Comment.objects.bulk_create(rows)


def visit(client: Client, path: str) -> tuple[list[int], dict[str, str], int]:
    """The card ids a page shows, its next/prev links (as paths) and its query count."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    base = path.split("?", 1)[0]
    links = {rel: f"{base}?{html.unescape(query)}" for query, rel in LINK.findall(page)}
    return [int(pk) for pk in CARD.findall(page)], links, len(captured.captured_queries)


def walk(client: Client, path: str) -> list[list[int]]:
    pages = []
    while path:
        ids, links, _ = visit(client, path)
        pages.append(ids)
        path = links.get("next", "")
    return pages


def test_next_links_walk_the_whole_queue_in_order(moderator_client: Client, article: Any) -> None:
    comments = make_queue(article, 2 * PAGE_SIZE + 7)
    pages = walk(moderator_client, "/moderation/queue/pending/")
    assert [len(ids) for ids in pages] == [PAGE_SIZE, PAGE_SIZE, 7]
    assert [pk for ids in pages for pk in ids] == [c.pk for c in comments]


def test_a_descending_queue_pages_by_decision_date(moderator_client: Client, article: Any) -> None:
    comments = make_queue(article, PAGE_SIZE + 9, status=CommentStatus.REJECTED)
    expected = sorted(comments, key=lambda c: (c.decided_at, c.pk), reverse=True)
    pages = walk(moderator_client, "/moderation/queue/rejected/")
    assert [pk for ids in pages for pk in ids] == [c.pk for c in expected]


def test_links_keep_the_page_number_and_the_filters(moderator_client: Client, article: Any) -> None:
    comments = make_queue(article, 3 * PAGE_SIZE * 3)
    insults = [c.pk for c in comments if c.rule == "insult"]
    first, links, _ = visit(moderator_client, "/moderation/queue/pending/?rule=insult")
    assert "rule=insult" in links["next"] and "page=2" in links["next"]
    assert "after=" in links["next"]
    second, links, _ = visit(moderator_client, links["next"])
    assert first + second == insults[: 2 * PAGE_SIZE]
    back, links, _ = visit(moderator_client, links["prev"])
    assert back == first and "prev" not in links


def test_previous_from_a_later_page_shows_the_page_before(
    moderator_client: Client, article: Any
) -> None:
    make_queue(article, 3 * PAGE_SIZE + 1)
    pages = walk(moderator_client, "/moderation/queue/pending/")
    _, links, _ = visit(moderator_client, "/moderation/queue/pending/")
    _, links, _ = visit(moderator_client, links["next"])
    third, links, _ = visit(moderator_client, links["next"])
    assert third == pages[2] and "before=" in links["prev"] and "page=2" in links["prev"]
    second, links, _ = visit(moderator_client, links["prev"])
    assert second == pages[1]
    assert "page" not in links["prev"].split("?", 1)[1]  # the first page needs no cursor


def test_cards_decided_meanwhile_skip_nothing(
    moderator_client: Client, article: Any, moderator: Any
) -> None:
    comments = make_queue(article, 2 * PAGE_SIZE + 3)
    first, links, _ = visit(moderator_client, "/moderation/queue/pending/")
    response = moderator_client.post(
        "/moderation/bulk/", {"ids": first, "action": "approve", "next": links["next"]}
    )
    assert response.status_code == 302 and response["Location"] == links["next"]
    second, _, _ = visit(moderator_client, links["next"])
    # OFFSET would now skip a page: the cursor starts right after the last card seen.
    assert second == [c.pk for c in comments[PAGE_SIZE : 2 * PAGE_SIZE]]


def test_going_back_past_the_start_shows_the_first_page(
    moderator_client: Client, article: Any
) -> None:
    comments = make_queue(article, PAGE_SIZE + 5)
    cursor = Cursor.of(comments[3], order_of("pending"))
    assert cursor is not None
    ids, _, _ = visit(
        moderator_client, f"/moderation/queue/pending/?page=2&before={cursor.encode()}"
    )
    assert ids == [c.pk for c in comments[:PAGE_SIZE]]


@pytest.mark.parametrize("raw", ["", "x", "12-", "-3", "99999999999999999999-1", "1-2-3"])
def test_a_broken_cursor_falls_back_to_the_page_number(
    moderator_client: Client, article: Any, raw: str
) -> None:
    comments = make_queue(article, PAGE_SIZE + 5)
    ids, _, _ = visit(moderator_client, f"/moderation/queue/pending/?page=2&after={raw}")
    assert ids == [c.pk for c in comments[PAGE_SIZE:]]


def test_cursor_round_trip_and_seek_bounds(article: Any) -> None:
    comments = make_queue(article, 6)
    order = order_of("pending")
    cursor = Cursor.of(comments[2], order)
    assert cursor is not None and Cursor.decode(cursor.encode()) == cursor
    rows, scan = seek(Comment.objects.all(), order, cursor)
    assert [c.pk for c in rows.order_by(*scan)] == [c.pk for c in comments[3:]]
    back = Cursor.decode(cursor.encode(), backwards=True)
    assert back is not None
    rows, scan = seek(Comment.objects.all(), order, back)
    assert [c.pk for c in rows.order_by(*scan)] == [c.pk for c in comments[:2]][::-1]


def test_deep_pages_read_as_many_queries_as_the_first(
    moderator_client: Client, article: Any
) -> None:
    make_queue(article, 4 * PAGE_SIZE)
    moderator_client.get("/moderation/")  # the session and the cached list of sites
    _, links, first = visit(moderator_client, "/moderation/queue/pending/")
    _, links, second = visit(moderator_client, links["next"])
    _, links, third = visit(moderator_client, links["next"])
    _, _, by_number = visit(moderator_client, "/moderation/queue/pending/?page=4")
    _, _, filtered = visit(moderator_client, "/moderation/queue/pending/?rule=insult&page=2")
    assert first == second == third == by_number == filtered
