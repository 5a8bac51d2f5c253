"""The "most replies" order, counted from the thread's replies alone (selectors._count_replies
and _quiet_root_ids), is the order of the whole thread's tree (build_tree + sort_roots, which
read every row): the same top-level comments, the same counts, for every reader, whatever
the replies' statuses, and the same pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civility.discussion import selectors
from civility.discussion.models import Comment, CommentStatus, Thread
from civility.discussion.services import thread_for_article
from tests.discussion.conftest import make_article, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

PUBLISHED, PENDING, REJECTED, DELETED = (
    CommentStatus.PUBLISHED,
    CommentStatus.PENDING,
    CommentStatus.REJECTED,
    CommentStatus.DELETED,
)


class Seeder:
    """Comments made one by one, a second apart, whatever their status."""

    def __init__(self, thread: Thread) -> None:
        self.thread = thread
        self.start = timezone.now() - timedelta(days=1)
        self.made = 0

    def __call__(
        self, author: Any, parent: Comment | None = None, status: str = PUBLISHED, **fields: Any
    ) -> Comment:
        self.made += 1
        return Comment.objects.create(
            thread=self.thread,
            parent=parent,
            author=author,
            text=f"Comment {self.made} on the treaty talks.",
            depth=0 if parent is None else parent.depth + 1,
            status=status,
            created_at=self.start + timedelta(seconds=self.made),
            **fields,
        )


def reference_order(thread: Thread, viewer: Any) -> list[tuple[int, int]]:
    """(id, replies shown) of every top-level comment shown, from the whole tree."""
    roots = selectors.sort_roots(selectors.build_tree(thread, viewer), "replies")
    return [(node.comment.pk, node.descendants) for node in roots]


def counted_order(thread: Thread, viewer: Any) -> list[tuple[int, int]]:
    viewer_id = selectors._viewer_id(viewer)
    ranked = selectors._count_replies(thread, viewer_id)
    quiet = selectors._quiet_root_ids(
        thread, viewer_id, skip={pk for pk, _ in ranked}, count=10_000
    )
    return [*ranked, *((pk, 0) for pk in quiet)]


@pytest.fixture
def tangled(article: Any, reader: Any, other_reader: Any) -> dict[str, Any]:
    """A thread with every kind of row the order must weigh: held, removed and deleted
    comments at the top and below, tombstones with and without replies shown, a hidden, an
    inactive and a purged author's comments, and a chain deeper than a page shows."""
    thread = thread_for_article(article)
    make = Seeder(thread)
    hidden_author = make_user("gone@example.org")
    inactive_author = make_user("disabled@example.org")
    inactive_author.is_active = False
    inactive_author.save()

    quiet = make(reader)  # no replies
    busy = make(reader)
    for _ in range(3):
        make(other_reader, busy)
    # Held and removed replies do not count, nor what hangs below them.
    held_top = make(other_reader)
    make(reader, held_top, status=PENDING)
    under_held = make(reader, held_top, status=PENDING)
    make(other_reader, under_held)
    make(other_reader, held_top, status=REJECTED)
    # A deleted reply counts as a tombstone only with a reply shown below it.
    tombstones = make(other_reader)
    deleted_reply = make(reader, tombstones, status=DELETED)
    make(other_reader, deleted_reply)
    make(other_reader, tombstones, status=DELETED)  # nothing below: not shown
    # A deleted top-level comment with replies is a tombstone that still ranks.
    deleted_top = make(reader, status=DELETED)
    make(other_reader, deleted_top)
    make(other_reader, deleted_top)
    deleted_alone = make(reader, status=DELETED)  # no replies: not shown
    # A held or removed top-level comment takes its replies out of view.
    pending_top = make(other_reader, status=PENDING)
    for _ in range(5):
        make(reader, pending_top)
    rejected_top = make(other_reader, status=REJECTED)
    make(reader, rejected_top)
    # Hidden, inactive and purged authors' comments: tombstones when replied to.
    hidden_top = make(hidden_author, author_hidden=True)
    make(reader, hidden_top)
    make(hidden_author, hidden_top, author_hidden=True)  # a leaf: not shown
    inactive_top = make(inactive_author)
    make(inactive_author, inactive_top)
    make(reader, inactive_top)
    make(reader, inactive_top, status=PENDING, author_hidden=True)  # in view, not shown
    purged_top = make(other_reader, purged=True)
    make(reader, purged_top, purged=True)
    # The reader's own held comments count for the reader only.
    own_held_top = make(reader, status=PENDING)
    make(other_reader, busy, status=PENDING)
    make(reader, busy, status=PENDING)
    make(reader, own_held_top, status=REJECTED)
    # A chain of replies, each below the previous one.
    chain_top = make(other_reader)
    below = chain_top
    for _ in range(12):
        below = make(reader if below.author_id != reader.pk else other_reader, below)
    make(reader, chain_top, status=DELETED)
    # Ties on replies: newest first.
    for _ in range(2):
        tied = make(other_reader)
        make(reader, tied)
    make(other_reader, status=REJECTED)  # not shown, no replies
    return {
        "thread": thread,
        "quiet": quiet,
        "busy": busy,
        "deleted_alone": deleted_alone,
        "pending_top": pending_top,
        "own_held_top": own_held_top,
        "hidden_author": hidden_author,
    }


def test_the_counted_order_is_the_whole_trees_order_for_every_reader(
    tangled: dict[str, Any], reader: Any, other_reader: Any, moderator: Any
) -> None:
    thread = tangled["thread"]
    for viewer in (None, reader, other_reader, moderator):
        assert counted_order(thread, viewer) == reference_order(thread, viewer), viewer
    anonymous = dict(counted_order(thread, None))
    assert tangled["pending_top"].pk not in anonymous
    assert tangled["deleted_alone"].pk not in anonymous
    assert anonymous[tangled["busy"].pk] == 3
    own = dict(counted_order(thread, reader))
    assert own[tangled["busy"].pk] == 4 and tangled["own_held_top"].pk in own


def test_pages_of_the_most_replies_order(
    tangled: dict[str, Any], reader: Any, other_reader: Any
) -> None:
    thread = tangled["thread"]
    for viewer in (None, reader, other_reader):
        expected = [pk for pk, _ in reference_order(thread, viewer)]
        for page_size in (1, 3, 4, 50):
            shown: list[int] = []
            page = 1
            while True:
                cache.clear()
                found = selectors.thread_page(
                    thread, viewer, sort="replies", page=page, page_size=page_size
                )
                shown += [node.comment.pk for node in found.roots]
                weight = len(selectors.flatten(found.roots))
                budget = selectors.replies_page_budget(page_size)
                assert len(found.roots) == 1 or weight <= budget, (page, page_size)
                if not found.has_next:
                    break
                page += 1
            assert shown == expected, (viewer, page_size)


def test_anonymous_order_is_cached_and_dropped_when_a_comment_is_saved(
    tangled: dict[str, Any], other_reader: Any
) -> None:
    thread = tangled["thread"]
    quiet = tangled["quiet"]
    cache.clear()
    selectors.thread_page(thread, None, sort="replies", page=1, page_size=2)
    with CaptureQueriesContext(connection) as cached:
        first = selectors.thread_page(thread, None, sort="replies", page=1, page_size=2)
    assert len(cached.captured_queries) == 2  # the page's replies only: ids, then rows
    for n in range(20):  # the quiet comment becomes the busiest (the chain has 12)
        Comment.objects.create(
            thread=thread,
            parent=quiet,
            author=other_reader,
            text=f"Reply {n} on the treaty.",
            depth=1,
            status=PUBLISHED,
        )
    after = selectors.thread_page(thread, None, sort="replies", page=1, page_size=2)
    assert after.roots[0].comment.pk == quiet.pk != first.roots[0].comment.pk


def test_most_replies_page_queries_do_not_grow_with_the_thread(
    reader: Any, other_reader: Any, settings: Any
) -> None:
    settings.CIVILITY_COMMENTS_PER_PAGE = 3

    def seeded(slug: str, tops: int) -> Any:
        article = make_article(slug, headline=slug)
        make = Seeder(thread_for_article(article))
        for n in range(tops):
            top = make(reader)
            for _ in range(n % 4):
                make(other_reader, top)
        return article

    small, big = seeded("small-debate", 6), seeded("big-debate", 80)

    def queries(article: Any, client: Client) -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/news/{article.slug}/discussion/?sort=replies")
        assert response.status_code == 200
        return len(captured.captured_queries)

    signed_in = Client()  # a reader with no comment of their own on the pages
    signed_in.force_login(make_user("third@example.org"))
    for client in (Client(), signed_in):
        assert queries(big, client) == queries(small, client)


def test_a_most_replies_page_stops_before_its_replies_exceed_the_budget() -> None:
    bounds = selectors.replies_page_bounds
    # page_size 3, budget 6: a comment with 10 replies fills a page alone; then 3 replies
    # (4 comments), none (1), and a comment without replies past the counted head (1).
    assert [bounds([10, 3, 0], page, 3, 6) for page in (1, 2, 3, 4)] == [
        (0, 1),
        (1, 4),
        (4, 7),
        (7, 10),
    ]
    assert bounds([], 5, 50, 100) == (200, 250)  # no replies anywhere: plain pages
    assert bounds([1] * 10, 1, 50, 100) == (0, 50)  # 60 comments: within the budget
    assert bounds([5] * 20, 1, 50, 100) == (0, 16)  # 6 comments each: 16 fit in 100


def test_the_api_listing_follows_the_thread_through_its_cached_outline(
    article: Any, reader: Any, other_reader: Any
) -> None:
    make = Seeder(thread_for_article(article))
    first = make(reader)
    url = f"/api/articles/{article.slug}/comments?page_size=10"

    def listed() -> list[int]:
        body = Client().get(url).json()
        return [item["id"] for item in body["items"]]

    assert listed() == [first.pk]
    reply = make(other_reader, first)  # a saved comment drops the thread's cached outline
    assert listed() == [first.pk, reply.pk]
    reply.status = REJECTED
    reply.save()
    assert listed() == [first.pk]


def test_a_reader_with_only_public_comments_reads_the_anonymous_order_from_the_cache(
    tangled: dict[str, Any], reader: Any, moderator: Any
) -> None:
    """Only a reader's own comments out of public view make their order differ from an
    anonymous reader's: the others read the cached anonymous order (one query to tell)."""
    thread = tangled["thread"]
    public_only = make_user("public-only@example.org")
    Seeder(thread)(public_only, tangled["quiet"])  # a published reply: public, like anyone's
    cache.clear()
    selectors.thread_page(thread, None, sort="replies", page=1, page_size=50)  # cached

    def counts_replies(queries: CaptureQueriesContext) -> bool:
        # _count_replies reads the replies (parent_id IS NOT NULL); a page's other queries
        # read the top-level comments or the page's replies below given ids.
        return any('"parent_id" IS NOT NULL' in q["sql"] for q in queries.captured_queries)

    for viewer in (moderator, public_only):
        with CaptureQueriesContext(connection) as signed_in:
            page = selectors.thread_page(thread, viewer, sort="replies", page=1, page_size=50)
        assert not counts_replies(signed_in), viewer
        assert [n.comment.pk for n in page.roots] == [
            pk for pk, _ in reference_order(thread, viewer)
        ], viewer
    # The reader has held comments on the thread: their own order, counted for them.
    with CaptureQueriesContext(connection) as own_queries:
        own = selectors.thread_page(thread, reader, sort="replies", page=1, page_size=50)
    assert counts_replies(own_queries)
    assert [n.comment.pk for n in own.roots] == [pk for pk, _ in reference_order(thread, reader)]
    assert dict(counted_order(thread, reader))[tangled["busy"].pk] == 4
