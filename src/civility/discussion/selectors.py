"""Reads of the discussion app that need care: what the public sees, thread trees, counts."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Model, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from civility.discussion.models import (
    Comment,
    CommentStatus,
    IgnoredAuthor,
    Recommendation,
    ReplyInbox,
    Thread,
)
from civility.ops.cache import forget

# What any reader may see: published, author not hidden (deleted account) and active.
PUBLIC = Q(status=CommentStatus.PUBLISHED, author_hidden=False, author__is_active=True)

# The thread's orders and their labels (translated when shown).
SORTS = {
    "oldest": gettext_lazy("oldest first"),
    "newest": gettext_lazy("newest first"),
    "replies": gettext_lazy("most replies"),
    "recommended": gettext_lazy("most recommended"),
}


def newest_per_author(comments: QuerySet[Comment], limit: int) -> QuerySet[Comment]:
    """Each author's ``limit`` newest of ``comments`` (ties by id), in one query: a window
    function numbers each author's comments, newest first. Filter before calling: the
    numbering sees only the rows ``comments`` already selects."""
    return comments.annotate(
        recency=Window(
            RowNumber(),
            partition_by=[F("author_id")],
            order_by=[F("created_at").desc(), F("id").desc()],
        )
    ).filter(recency__lte=limit)


def _articles() -> Any:
    from civility.news.models import Article

    return Article.objects.published()


def get_published_article_or_404(slug: str, site_id: int | None = None) -> Any:
    """A published article of one site (None: the request's site); another site's article
    of the same slug is not found, so no page or API call reaches across sites."""
    from civility.news.selectors import site_articles

    article = site_articles(site_id).filter(slug=slug).first()
    if article is None:
        raise Http404("No such article.")
    return article


def article_page(page: int, page_size: int) -> tuple[list[Any], int]:
    articles = _articles().order_by("-published_at", "-id")
    count = articles.count()
    start = (page - 1) * page_size
    return list(articles[start : start + page_size]), count


def public_comments() -> QuerySet[Comment]:
    return Comment.objects.filter(PUBLIC)


def reportable_comments() -> QuerySet[Comment]:
    return public_comments()


def published_comment_counts(article_ids: list[int]) -> dict[int, int]:
    """Public comment count per article id, in one query."""
    if not article_ids:
        return {}
    rows = (
        public_comments()
        .filter(thread__article_id__in=article_ids)
        .values("thread__article_id")
        .annotate(total=Count("id"))
    )
    return {row["thread__article_id"]: row["total"] for row in rows}


def published_counts_by_url(canonical_urls: Iterable[str]) -> dict[str, int]:
    """Public comment count per embedded thread, keyed by canonical URL, in one query (the
    unique canonical_url index). URLs with no thread are absent."""
    urls = sorted(set(canonical_urls))
    if not urls:
        return {}
    rows = (
        public_comments()
        .filter(thread__canonical_url__in=urls)
        .values("thread__canonical_url")
        .annotate(total=Count("id"))
    )
    return {str(row["thread__canonical_url"]): row["total"] for row in rows}


def attach_comment_counts(articles: Iterable[Any]) -> None:
    """Set ``public_comment_count`` on each article, one query for a whole listing, so that
    its cards' ``{% comment_count %}`` ask nothing more."""
    listed = list(articles)
    counts = published_comment_counts([article.pk for article in listed])
    for article in listed:
        article.public_comment_count = counts.get(article.pk, 0)


def comment_count(article: Any) -> int:
    """Public comments under ``article``: the listing's count where one was attached."""
    attached = getattr(article, "public_comment_count", None)
    if attached is not None:
        return int(attached)
    return published_comment_counts([article.pk]).get(article.pk, 0)


# The "most discussed" listing's periods: name -> days.
DISCUSSED_PERIODS = {"day": 1, "week": 7, "month": 30}


def most_discussed(period: str, *, limit: int = 20) -> list[tuple[Any, int]]:
    """The current site's published articles with the most public comments posted in the
    last ``period`` (a key of DISCUSSED_PERIODS), with those counts, most first (ties: the
    newer article first). Counted over the period's comments alone (the created_at index),
    and cached for THREAD_CACHE_SECONDS (a minute): a ranking, not a counter."""
    from civility.news.selectors import site_articles
    from civility.sites.current import current_site

    site_id = int(current_site().pk)
    articles = site_articles(site_id)

    def rank() -> list[tuple[int, int]]:
        since = timezone.now() - timedelta(days=DISCUSSED_PERIODS[period])
        rows = (
            public_comments()
            .filter(created_at__gte=since, thread__article__in=articles.values("pk"))
            .values("thread__article_id")
            .annotate(total=Count("id"))
            .order_by("-total", "-thread__article__published_at", "-thread__article_id")[:limit]
        )
        return [(row["thread__article_id"], row["total"]) for row in rows]

    ranked = _cached(f"discussion:most-discussed:{site_id}:{period}:{limit}", list, rank)
    by_id = articles.prefetch_related("tags").in_bulk([pk for pk, _ in ranked])
    return [(by_id[pk], total) for pk, total in ranked if pk in by_id]


def _closing_cutoff(site_id: int | None, now: datetime | None = None) -> datetime | None:
    """Threads opened at or before this moment take no more comments on the site
    (Site.close_comments_after_days); None when the site sets no limit."""
    from civility.sites.current import site_by_id

    days = int(getattr(site_by_id(site_id), "close_comments_after_days", 0) or 0)
    return (now or timezone.now()) - timedelta(days=days) if days > 0 else None


def comments_closed(thread: Thread, *, now: datetime | None = None) -> bool:
    """Whether ``thread`` takes no more comments: closed by a moderator, or older than its
    site's age limit (Site.close_comments_after_days, counted from the article's publication,
    or from an embedded thread's creation). Reads the article only when the site has a
    limit and the thread does not carry it already."""
    if thread.closed:
        return True
    cutoff = _closing_cutoff(thread.site_id, now)
    if cutoff is None:
        return False
    article = thread.article if thread.article_id else None
    opened = article.published_at if article is not None else thread.created_at
    return bool(opened <= cutoff)


def closed_article_ids(articles: list[Any]) -> set[int]:
    """The ids of ``articles`` whose comments are closed (see :func:`comments_closed`)."""
    closed = set(
        Thread.objects.filter(article_id__in=[a.pk for a in articles], closed=True).values_list(
            "article_id", flat=True
        )
    )
    cutoffs = {site_id: _closing_cutoff(site_id) for site_id in {a.site_id for a in articles}}
    return closed | {
        a.pk
        for a in articles
        if (cutoff := cutoffs[a.site_id]) is not None and a.published_at <= cutoff
    }


def thread_of(article: Any) -> Thread | None:
    thread = Thread.objects.filter(article=article).first()
    if thread is not None and isinstance(article, Model):
        # The comment templates read ``comment.thread.article.slug`` (the reply form): with
        # the article known here, that is no query per comment.
        Thread.article.field.set_cached_value(thread, article)
    return thread


def _visibility(viewer_id: int | None = None) -> Q:
    """Rows a thread page needs: public comments, tombstone candidates, the viewer's own."""
    condition = (
        PUBLIC
        | Q(status=CommentStatus.DELETED)
        | Q(author_hidden=True)
        | Q(author__is_active=False)
    )
    if viewer_id is not None:
        condition |= Q(author_id=viewer_id)
    return condition


def _viewer_id(viewer: Any) -> int | None:
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        return int(viewer.pk)
    return None


def _visible_rows(thread: Thread, viewer: Any = None) -> list[Comment]:
    """The whole thread's rows in thread order (small threads, the moderators' views)."""
    return list(
        Comment.objects.filter(thread=thread)
        .filter(_visibility(_viewer_id(viewer)))
        .select_related("author")
        .order_by("created_at", "id")
    )


@dataclass
class Node:
    comment: Comment
    children: list[Node] = field(default_factory=list)
    descendants: int = 0  # visible replies below this node, at any depth
    tombstone: bool = False
    own: bool = False
    # By an author the viewer ignores: a one-line notice in place of the comment.
    ignored: bool = False
    depth: int = 0
    # fragments.node_key's memo for this request: None not computed yet, "" not cacheable.
    fragment_key: str | None = field(default=None, compare=False, repr=False)


def _shown_alone(
    author_id: int, status: str, hidden: bool, purged: bool, active: bool, viewer_id: int | None
) -> bool:
    """Whether a comment is shown for itself, not only as a tombstone: public, or the
    viewer's own unless they deleted it. :func:`_forest` on rows, :func:`_count_replies` on
    an index's values."""
    own = viewer_id is not None and author_id == viewer_id
    public = status == CommentStatus.PUBLISHED and not hidden and not purged and active
    return (public or own) and not (own and status == CommentStatus.DELETED)


def _forest(
    rows: list[Comment], viewer_id: int | None, root_ids: set[int] | None = None
) -> list[Node]:
    """Nodes for ``rows`` (thread order) hung under their parents; a reply whose parent is not
    among the rows is out of view (pending or removed). ``root_ids``: the rows that start the
    forest (default: the top-level ones). Deleted or hidden comments are kept as tombstones
    only when a visible reply hangs below them."""
    nodes = {c.pk: Node(comment=c, own=c.author_id == viewer_id) for c in rows}
    roots: list[Node] = []
    for comment in rows:
        node = nodes[comment.pk]
        if root_ids is not None and comment.pk in root_ids:
            roots.append(node)
            continue
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        if comment.parent_id and parent is None:
            continue
        (parent.children if parent else roots).append(node)

    def prune(node: Node) -> bool:
        node.children = [child for child in node.children if prune(child)]
        node.descendants = sum(1 + child.descendants for child in node.children)
        comment = node.comment
        visible = _shown_alone(
            comment.author_id,
            comment.status,
            comment.author_hidden,
            comment.purged,
            comment.author.is_active,
            viewer_id,
        )
        if not visible:
            node.tombstone = bool(node.children)
            return node.tombstone
        return True

    return [node for node in roots if prune(node)]


def build_tree(thread: Thread, viewer: Any = None, root: Comment | None = None) -> list[Node]:
    """The whole thread as a forest (or the subtree below ``root``). Reads every row of the
    thread: pages use :func:`thread_page` and :func:`subtree`, which read only what they show."""
    roots = _forest(_visible_rows(thread, viewer), _viewer_id(viewer))
    if root is not None:
        found = _find(roots, root.pk)
        return [found] if found else []
    return roots


def _find(nodes: list[Node], pk: int) -> Node | None:
    for node in nodes:
        if node.comment.pk == pk:
            return node
        found = _find(node.children, pk)
        if found:
            return found
    return None


def sort_roots(roots: list[Node], sort: str) -> list[Node]:
    if sort == "newest":
        return sorted(roots, key=lambda n: (n.comment.created_at, n.comment.pk), reverse=True)
    if sort == "replies":
        return sorted(
            roots, key=lambda n: (-n.descendants, -n.comment.created_at.timestamp(), -n.comment.pk)
        )
    return roots


def flatten(nodes: list[Node], depth: int = 0) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        node.depth = depth
        out.append(node)
        out.extend(flatten(node.children, depth + 1))
    return out


# --- Pages of a thread that may hold many thousands of comments ------------------------------
#
# A page reads its top-level comments with LIMIT on the (thread, created_at) order, then their
# replies at any depth with one recursive query (WITH RECURSIVE: SQLite and PostgreSQL), so its
# cost follows the page, not the thread. Only "most replies" needs the whole thread: it counts
# the replies from an index of the replies alone (``comment_thread_replies``), never reading the
# thread's rows.


def _descendants_sql(count: int) -> str:
    table = Comment._meta.db_table
    placeholders = ", ".join(["%s"] * count)
    return (
        f"WITH RECURSIVE below(id) AS ("
        f"SELECT id FROM {table} WHERE parent_id IN ({placeholders}) "
        f"UNION ALL SELECT c.id FROM {table} c JOIN below ON c.parent_id = below.id"
        f") SELECT id FROM below"
    )


def _descendant_ids(root_ids: list[int]) -> list[int]:
    """Ids of every reply below ``root_ids``, at any depth (one recursive query on the
    parent index). Read apart from the rows: joined to them in one statement, the recursive
    part's estimate (thousands of rows) made PostgreSQL hash-join every account of the site
    (a sequential scan of 50k users, 36 ms) to fetch the dozen replies of a page."""
    if not root_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_descendants_sql(len(root_ids)), root_ids)
        return [row[0] for row in cursor.fetchall()]


def _forest_below(
    root_ids: list[int], viewer: Any, *, thread: Thread | None = None, roots_visible: bool = False
) -> list[Node]:
    """Trees below the comments ``root_ids`` (kept in the given order): the replies' ids, then
    the roots and the visible replies by primary key, with their authors (two queries).
    ``thread``: theirs, set on every row (the templates read ``comment.thread``: one query per
    comment otherwise). ``roots_visible``: the roots must pass the visibility test too (a
    permalink's root)."""
    if not root_ids:
        return []
    viewer_id = _viewer_id(viewer)
    visible = _visibility(viewer_id)
    reply_ids = _descendant_ids(root_ids)
    roots = Q(pk__in=root_ids) & visible if roots_visible else Q(pk__in=root_ids)
    wanted = roots | (Q(pk__in=reply_ids) & visible) if reply_ids else roots
    rows = list(
        Comment.objects.filter(wanted)
        .select_related("author")
        .defer("verdict")
        .order_by("created_at", "id")
    )
    _load_own_verdicts(rows, viewer_id)
    if thread is not None:
        for row in rows:
            Comment.thread.field.set_cached_value(row, thread)
    order = {pk: index for index, pk in enumerate(root_ids)}
    present = {c.pk for c in rows} & set(root_ids)
    forest = _forest(rows, viewer_id, present)
    return sorted(forest, key=lambda node: order[node.comment.pk])


def _load_own_verdicts(rows: list[Comment], viewer_id: int | None) -> None:
    """The engine's verdict (scores of every rule, evidence: about 2 kB of JSON a comment) is
    left out of a page's rows; only the viewer's own held or removed comments show it (their
    evidence highlighted), and theirs are read here in one query, not one query each."""
    if viewer_id is None:
        return
    own = [
        row for row in rows if row.author_id == viewer_id and row.status != CommentStatus.PUBLISHED
    ]
    if not own:
        return
    verdicts = dict(
        Comment.objects.filter(pk__in=[row.pk for row in own]).values_list("pk", "verdict")
    )
    for row in own:
        row.verdict = verdicts.get(row.pk) or {}


@dataclass
class ThreadPage:
    """One page of top-level comments with every reply below them. No page count: knowing
    it would mean counting the whole thread on every request."""

    roots: list[Node]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def page_number(raw: Any) -> int:
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


def thread_page(
    thread: Thread, viewer: Any = None, *, sort: str = "oldest", page: int = 1, page_size: int = 50
) -> ThreadPage:
    """The ``page``-th ``page_size`` top-level comments in ``sort`` order, with their replies
    (in the "most replies" order, fewer when their replies would exceed
    :func:`replies_page_budget`)."""
    start = (page - 1) * page_size
    if sort == "replies":
        ranked = _root_ids_by_replies(thread, viewer)
        start, end = replies_page_bounds(
            [replies for _, replies in ranked], page, page_size, replies_page_budget(page_size)
        )
        ranked_ids = [pk for pk, _ in ranked]
        quiet = _quiet_root_ids(
            thread, _viewer_id(viewer), skip=set(ranked_ids), count=end + 1 - len(ranked)
        )
        order = [*ranked_ids, *quiet]
        roots = _forest_below(order[start:end], viewer, thread=thread)
        return ThreadPage(roots, page, len(order) > end)
    if sort == "recommended":
        ordered = _root_window_recommended(thread, _viewer_id(viewer), stop=start + page_size + 1)
    else:
        ordered = _root_window(
            thread, _viewer_id(viewer), newest=sort == "newest", stop=start + page_size + 1
        )
    page_ids = [pk for pk, _ in ordered[start : start + page_size]]
    roots = _forest_below(page_ids, viewer, thread=thread)
    return ThreadPage(roots, page, len(ordered) > start + page_size)


def replies_page_budget(page_size: int) -> int:
    """Comments, replies included, that a page of the "most replies" order may hold: one and
    a half times ``page_size`` (fewer top-level comments then, never a part of one's replies).
    Its first page gathers the thread's busiest comments by design: 50 of them with every
    reply were 155 comments on the biggest thread of the scale data (61 in the default order),
    and rendering them cost more than the whole page may (benchmarks/SCALE.md). Other orders'
    pages hold ``page_size`` top-level comments."""
    return page_size + page_size // 2


def replies_page_bounds(
    replies: list[int], page: int, page_size: int, budget: int
) -> tuple[int, int]:
    """[start, end) of page ``page`` of the "most replies" order, whose first top-level
    comments have ``replies`` replies shown (the others none): up to ``page_size`` top-level
    comments, fewer when they and their replies would exceed ``budget`` comments, at least
    one. Pages follow each other from the first, so every page of a thread is fixed by the
    counts alone (the numbered links stay stable)."""
    start, number = 0, 1
    while True:
        if start >= len(replies):  # past the counted head: page_size comments a page
            start += (page - number) * page_size
            return start, start + page_size
        end, weight = start, 0
        while end - start < page_size:
            cost = 1 + (replies[end] if end < len(replies) else 0)
            if end > start and weight + cost > budget:
                break
            weight, end = weight + cost, end + 1
        if number == page:
            return start, end
        start, number = end, number + 1


def _root_window(
    thread: Thread, viewer_id: int | None, *, newest: bool, stop: int
) -> list[tuple[int, Any]]:
    """(id, created_at) of the first ``stop`` top-level comments a page may show, in order.

    Published ones come from the (thread, status, created_at) index in order, ``stop`` at
    most, without touching the thread's other rows (a published comment of a deleted or
    disabled account becomes a tombstone later, in :func:`_forest`). The few others a page may
    show (deleted ones kept as tombstones, those of deleted accounts, the viewer's own) are
    read whole, with neither ORDER BY nor LIMIT (both would steer PostgreSQL to the site-wide
    created_at index), and merged in. A removed or held comment's replies leave with it.
    """
    order = ("-created_at", "-id") if newest else ("created_at", "id")
    top = Comment.objects.filter(thread=thread, parent__isnull=True)
    published = list(
        top.filter(status=CommentStatus.PUBLISHED)
        .order_by(*order)
        .values_list("pk", "created_at")[:stop]
    )
    others = list(_unpublished_shown(top, viewer_id).values_list("pk", "created_at"))
    merged = sorted(
        published + others,
        key=lambda row: (row[1], row[0]),
        reverse=newest,
    )
    return merged[:stop]


def _unpublished_shown(top: QuerySet[Comment], viewer_id: int | None) -> QuerySet[Comment]:
    """The few unpublished top-level comments a page shows anyway (deleted ones as
    tombstones, those of deleted accounts, the viewer's own), read whole and unordered."""
    shown_anyway = Q(status=CommentStatus.DELETED) | Q(author_hidden=True)
    if viewer_id is not None:
        shown_anyway |= Q(author_id=viewer_id)
    # Named statuses, not "not published": an index condition on (thread, status) then
    # reaches the thread's few unpublished rows instead of all of them.
    unpublished = [CommentStatus.DELETED, CommentStatus.PENDING, CommentStatus.REJECTED]
    return top.filter(status__in=unpublished).filter(shown_anyway).order_by()


def _root_window_recommended(
    thread: Thread, viewer_id: int | None, *, stop: int
) -> list[tuple[int, Any]]:
    """:func:`_root_window` in the "most recommended" order: most recommendations first,
    then oldest first (the comment_thread_recommended index)."""
    top = Comment.objects.filter(thread=thread, parent__isnull=True)
    published = list(
        top.filter(status=CommentStatus.PUBLISHED)
        .order_by("-recommendations", "created_at", "id")
        .values_list("pk", "created_at", "recommendations")[:stop]
    )
    others = list(
        _unpublished_shown(top, viewer_id).values_list("pk", "created_at", "recommendations")
    )
    merged = sorted(published + others, key=lambda row: (-row[2], row[1], row[0]))
    return [(pk, created_at) for pk, created_at, _count in merged[:stop]]


def _root_ids_by_replies(thread: Thread, viewer: Any) -> list[tuple[int, int]]:
    """(id, replies shown below it) of the top-level comments that have replies shown, most
    replies first: the head of the "most replies" order (the others follow, newest first, see
    :func:`_quiet_root_ids`). The anonymous order is cached like the total, and dropped with it;
    it is also the order of every signed-in reader without a comment out of public view on
    the thread (most of them), who reads it from the cache too."""
    viewer_id = _viewer_id(viewer)
    if viewer_id is None or not _has_comments_out_of_public_view(thread, viewer):
        ranked = _cached(
            replies_order_cache_key(thread.pk), list, lambda: _count_replies(thread, None)
        )
        return [(int(pk), int(replies)) for pk, replies in ranked]
    return _count_replies(thread, viewer_id)


def _has_comments_out_of_public_view(thread: Thread, viewer: Any) -> bool:
    """Whether the viewer wrote a comment on ``thread`` that the public does not see (held,
    removed, deleted, hidden or purged), or is an inactive account. Only such rows make a
    reader's "most replies" order differ from an anonymous reader's: :func:`_in_view` and
    :func:`_shown_alone` treat the viewer's own rows apart only when they are not public. One
    query on the viewer's comments, instead of counting the thread's replies (80 ms of the
    biggest thread's most-replies page, benchmarks/SCALE.md)."""
    if not getattr(viewer, "is_active", True):
        return True
    return (
        Comment.objects.filter(thread=thread, author_id=_viewer_id(viewer))
        .exclude(status=CommentStatus.PUBLISHED, author_hidden=False, purged=False)
        .exists()
    )


def _author_active() -> Subquery:
    """The author's ``is_active`` as a correlated subquery: one primary-key probe per row.
    Joined instead, PostgreSQL hash-joins every account of the site (a sequential scan of
    50k users, 15 ms) to read the authors of a thread's replies."""
    from django.contrib.auth import get_user_model

    return Subquery(get_user_model().objects.filter(pk=OuterRef("author_id")).values("is_active"))


def _in_view(
    author_id: int, status: str, hidden: bool, active: bool, viewer_id: int | None
) -> bool:
    """:func:`_visibility` on a row's values: public, a tombstone candidate, or the viewer's."""
    public = status == CommentStatus.PUBLISHED and not hidden and active
    return (
        public
        or status == CommentStatus.DELETED
        or hidden
        or not active
        or (viewer_id is not None and author_id == viewer_id)
    )


def _count_replies(thread: Thread, viewer_id: int | None) -> list[tuple[int, int]]:
    """Count the replies shown below each top-level comment from the thread's replies alone:
    an index-only scan of ``comment_thread_replies`` (ids, parents, authors, statuses), then
    the top-level comments that have replies from ``comment_thread_top``, also without
    table rows. No row's text is read.

    The replies shown are the nodes :func:`_forest` would hang below the comment: replies in
    view (:func:`_visibility`) under a parent in view, a hidden or deleted one counting as a
    tombstone only when a reply shown hangs below it."""
    replies = list(
        Comment.objects.filter(thread=thread, parent__isnull=False)
        .annotate(author_active=_author_active())
        .order_by()
        .values_list(
            "pk", "parent_id", "author_id", "status", "author_hidden", "purged", "author_active"
        )
    )
    if not replies:
        return []
    reply_ids = {row[0] for row in replies}
    children: dict[int, list[int]] = {}
    alone: dict[int, bool] = {}
    for pk, parent_id, author_id, status, hidden, purged, active in replies:
        active = bool(active)
        if _in_view(author_id, status, hidden, active, viewer_id):
            children.setdefault(parent_id, []).append(pk)
            alone[pk] = _shown_alone(author_id, status, hidden, purged, active, viewer_id)
    below = _replies_below(children, alone, [p for p in children if p not in reply_ids])
    # The top-level comments with replies: from ``comment_thread_top`` alone (id, status,
    # date), joined to the replies' parents in SQL (no list of ids to send and plan).
    parents = Comment.objects.filter(thread=thread, parent__isnull=False).values("parent_id")
    roots = [
        (pk, status, created_at)
        for pk, status, created_at in Comment.objects.filter(
            thread=thread, parent__isnull=True, pk__in=parents
        )
        .order_by()
        .values_list("pk", "status", "created_at")
        if below.get(pk, 0) > 0
    ]
    # A published or deleted comment is in view whoever wrote it; a held or removed one only
    # for an author who is the viewer, hidden or inactive (rare: read those few rows).
    doubtful = [pk for pk, status, _ in roots if status not in _ALWAYS_IN_VIEW]
    out_of_view = _out_of_view(doubtful, viewer_id)
    ranked = [(pk, below[pk], created_at) for pk, _, created_at in roots if pk not in out_of_view]
    ranked.sort(key=lambda row: (-row[1], -row[2].timestamp(), -row[0]))
    return [(pk, replies) for pk, replies, _ in ranked]


_ALWAYS_IN_VIEW = (CommentStatus.PUBLISHED, CommentStatus.DELETED)


def _out_of_view(comment_ids: list[int], viewer_id: int | None) -> set[int]:
    """Those of ``comment_ids`` the viewer does not see (no query for an empty list)."""
    if not comment_ids:
        return set()
    rows = (
        Comment.objects.filter(pk__in=comment_ids)
        .annotate(author_active=_author_active())
        .values_list("pk", "author_id", "status", "author_hidden", "author_active")
    )
    return {
        pk
        for pk, author_id, status, hidden, active in rows
        if not _in_view(author_id, status, hidden, bool(active), viewer_id)
    }


def _replies_below(
    children: dict[int, list[int]], alone: dict[int, bool], top_ids: list[int]
) -> dict[int, int]:
    """Replies shown below each of ``top_ids`` (and each reply on the way): a child counts,
    with the replies shown below it, when it is shown alone or has replies shown. Without
    recursion: a chain of replies may be deeper than Python's stack."""
    below: dict[int, int] = {}
    for top in top_ids:
        stack: list[tuple[int, bool]] = [(top, False)]
        while stack:
            pk, expanded = stack.pop()
            if not expanded:
                stack.append((pk, True))
                stack.extend((child, False) for child in children.get(pk, ()))
                continue
            below[pk] = sum(
                1 + below[child]
                for child in children.get(pk, ())
                if alone[child] or below[child] > 0
            )
    return below


def _quiet_root_ids(
    thread: Thread, viewer_id: int | None, *, skip: set[int], count: int
) -> list[int]:
    """The first ``count`` top-level comments shown without replies shown below them, newest
    first (the tail of the "most replies" order), leaving out ``skip`` (the head). Public ones
    come from ``comment_thread_top`` backwards, ``count`` + ``len(skip)`` at most; the
    viewer's own (pending ones too) are merged in."""
    if count <= 0:
        return []
    top = Comment.objects.filter(thread=thread, parent__isnull=True)
    rows = list(
        top.filter(PUBLIC, purged=False)
        .order_by("-created_at", "-id")
        .values_list("pk", "created_at")[: count + len(skip)]
    )
    if viewer_id is not None:
        rows += (
            top.filter(author_id=viewer_id)
            .exclude(status=CommentStatus.DELETED)
            .values_list("pk", "created_at")
        )
    quiet = {pk: created_at for pk, created_at in rows if pk not in skip}
    return sorted(quiet, key=lambda pk: (quiet[pk], pk), reverse=True)[:count]


def subtree(comment: Comment, viewer: Any = None) -> list[Node]:
    """``comment`` and every reply below it (the permalink page), or [] when it is not shown."""
    thread = comment.thread if Comment.thread.is_cached(comment) else None
    return _forest_below([comment.pk], viewer, thread=thread, roots_visible=True)


def thread_outline(thread: Thread) -> list[int]:
    """Ids of the publicly shown comments (tombstones included) in thread order, from
    plain tuples: the API pages through it without loading the thread's rows."""
    rows = list(
        Comment.objects.filter(thread=thread)
        .filter(_visibility(None))
        .order_by("created_at", "id")
        .values_list("pk", "parent_id", "status", "author_hidden", "purged", "author__is_active")
    )
    children: dict[int | None, list[int]] = {}
    public: dict[int, bool] = {}
    for pk, parent_id, status, hidden, purged, active in rows:
        children.setdefault(parent_id, []).append(pk)
        public[pk] = status == CommentStatus.PUBLISHED and not hidden and not purged and active

    def shown(pk: int) -> list[int]:
        below = [item for child in children.get(pk, []) for item in shown(child)]
        return [pk, *below] if public[pk] or below else []

    return [item for root in children.get(None, []) for item in shown(root)]


def public_comment_page(article: Any, page: int, page_size: int) -> tuple[list[Comment], int]:
    """The API's listing: the thread flattened in order (tombstones included), paginated."""
    thread = thread_of(article)
    if thread is None:
        return [], 0
    # Cached like the total, and dropped with it: the outline reads every row of the thread
    # (8,702 on the biggest of the scale data, about 45 ms of SQL), the page 50 of them.
    outline = _cached(outline_cache_key(thread.pk), list, lambda: thread_outline(thread))
    start = (page - 1) * page_size
    window = outline[start : start + page_size]
    # The rows pass the visibility test again: one that left public view since the outline
    # was cached (removed by a change that saves no comment) is left out of the page.
    rows = (
        Comment.objects.filter(pk__in=window)
        .filter(_visibility(None))
        .select_related("author")
        .defer("verdict")  # the listing shows no scores; about 2 kB of JSON a comment
    )
    by_id = {c.pk: c for c in rows}
    return [by_id[pk] for pk in window if pk in by_id], len(outline)


def my_comments(user: Any) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(author=user)
        .exclude(purged=True)
        .select_related("thread", "thread__article", "review_request")
        .order_by("-created_at", "-id")
    )


def total_cache_key(thread_id: int) -> str:
    return f"discussion:thread-total:{thread_id}"


def replies_order_cache_key(thread_id: int) -> str:
    # v2: [(id, replies)] of the top-level comments with replies (v1 held every id).
    return f"discussion:thread-replies-order:v2:{thread_id}"


def outline_cache_key(thread_id: int) -> str:
    return f"discussion:thread-outline:{thread_id}"


def featured_cache_key(thread_id: int) -> str:
    return f"discussion:thread-featured:{thread_id}"


def thread_cache_keys(thread_id: int) -> list[str]:
    """What a saved comment makes stale (ops.readcache.note_comment_saved drops them)."""
    return [
        total_cache_key(thread_id),
        replies_order_cache_key(thread_id),
        outline_cache_key(thread_id),
        featured_cache_key(thread_id),
    ]


# Bulk updates (an account hidden) send no signal, so cached figures also expire after this.
THREAD_CACHE_SECONDS = 60


def _cache_get(key: str) -> Any:
    from django.core.cache import cache

    try:
        return cache.get(key)
    except Exception:  # the cache is down: compute
        return None


def _cache_set(key: str, value: Any, timeout: int = THREAD_CACHE_SECONDS) -> None:
    from django.core.cache import cache

    with contextlib.suppress(Exception):  # the cache is down: the next view computes again
        cache.set(key, value, timeout=timeout)


def _cached[T](
    key: str, kind: type[T], compute: Callable[[], T], timeout: int = THREAD_CACHE_SECONDS
) -> T:
    """The value cached under ``key`` when it is a ``kind``; else ``compute()``, cached for
    ``timeout`` seconds (THREAD_CACHE_SECONDS by default; what a saved comment makes stale is
    in :func:`thread_cache_keys`)."""
    found = _cache_get(key)
    if isinstance(found, kind):
        return found
    value = compute()
    _cache_set(key, value, timeout)
    return value


def recommended_by(viewer: Any, nodes: list[Node]) -> list[int]:
    """The ids of the shown comments (``nodes``: every one, as :func:`flatten` lists them)
    that ``viewer`` recommends, in one query (the page's script marks their buttons; the
    comments' cached markup is the same for every reader)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return []
    shown = [n.comment.pk for n in nodes if n.comment.recommendations and not n.tombstone]
    if not shown:
        return []
    return sorted(
        Recommendation.objects.filter(user=viewer, comment_id__in=shown).values_list(
            "comment_id", flat=True
        )
    )


# A reader's ignore list changes rarely and is read on every page they view; the services drop
# the key on each change, so this bound only matters if that drop was lost.
IGNORED_CACHE_SECONDS = 3600


def _ignored_cache_key(user_id: int) -> str:
    return f"discussion:ignored-authors:{user_id}"


def ignored_author_ids(viewer: Any) -> frozenset[int]:
    """The ids of the authors ``viewer`` ignores (cached per reader)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return frozenset()
    return _cached(
        _ignored_cache_key(viewer.pk),
        frozenset,
        lambda: frozenset(
            IgnoredAuthor.objects.filter(user=viewer).values_list("ignored_id", flat=True)
        ),
        IGNORED_CACHE_SECONDS,
    )


def forget_ignored_authors(user_id: int) -> None:
    """Drop the cached ignore list of ``user_id`` (the services call it when it changes)."""
    forget(_ignored_cache_key(user_id))


def mark_ignored(nodes: list[Node], ignored: frozenset[int]) -> None:
    """Mark the shown comments (``nodes``, as :func:`flatten` lists them) by the authors
    ``ignored`` (:func:`ignored_author_ids` of the viewer)."""
    for node in nodes:
        node.ignored = not node.tombstone and not node.own and node.comment.author_id in ignored


# Editors' picks shown above a thread, newest pick first.
FEATURED_SHOWN = 5


def featured_comments(thread: Thread) -> list[Comment]:
    """The thread's public editors' picks (newest pick first, FEATURED_SHOWN at most) with
    their authors, cached like the thread's other figures (one partial index read)."""
    return _cached(
        featured_cache_key(thread.pk),
        list,
        lambda: list(
            public_comments()
            .filter(thread=thread, featured_at__isnull=False)
            .select_related("author")
            .defer("verdict")
            .order_by("-featured_at", "-id")[:FEATURED_SHOWN]
        ),
    )


def public_tally(thread: Thread) -> tuple[int, int]:
    """The thread's public comment count and its newest public comment's id (0: none), in
    one query, cached: counting a thread of thousands of comments on every page view is what
    a busy thread cannot afford."""

    def tally() -> tuple[int, int]:
        row = public_comments().filter(thread=thread).aggregate(total=Count("id"), newest=Max("id"))
        return int(row["total"]), int(row["newest"] or 0)

    total, newest = _cached(total_cache_key(thread.pk), tuple, tally)
    return int(total), int(newest)


def public_total(thread: Thread) -> int:
    return public_tally(thread)[0]


def public_comments_after(thread: Thread, comment_id: int) -> int:
    """How many of the thread's public comments are newer than ``comment_id`` (live updates:
    the reader's page showed the thread up to that comment)."""
    newest = public_tally(thread)[1]
    if newest <= comment_id:
        return 0
    return public_comments().filter(thread=thread, id__gt=comment_id).count()


# The header's count of unread replies is kept this long (one query a minute per reader at
# most); reading My replies drops it at once.
UNREAD_REPLIES_CACHE_SECONDS = 60
UNREAD_REPLIES_SHOWN_MAX = 99


def unread_replies_cache_key(user_id: int) -> str:
    return f"discussion:unread-replies:{user_id}"


def replies_to(user: Any) -> QuerySet[Comment]:
    """Public replies by others to ``user``'s comments, newest first, without the authors the
    reader ignores."""
    replies = public_comments().filter(parent__author=user).exclude(author=user)
    ignored = ignored_author_ids(user)
    if ignored:
        replies = replies.exclude(author_id__in=ignored)
    return replies.select_related("author", "thread", "thread__article", "parent").order_by(
        "-created_at", "-id"
    )


def replies_seen_at(user: Any) -> datetime | None:
    return ReplyInbox.objects.filter(user=user).values_list("seen_at", flat=True).first()


def _published_since(seen: datetime | None) -> Q:
    # A reply held for review and published later counts from its publication.
    return Q() if seen is None else Q(created_at__gt=seen) | Q(decided_at__gt=seen)


def unread_reply_count(user: Any) -> int:
    """Replies published since the reader last opened My replies (at most
    UNREAD_REPLIES_SHOWN_MAX + 1), cached for UNREAD_REPLIES_CACHE_SECONDS."""

    def count() -> int:
        unread = replies_to(user).filter(_published_since(replies_seen_at(user)))
        return unread.order_by()[: UNREAD_REPLIES_SHOWN_MAX + 1].count()

    return _cached(
        unread_replies_cache_key(user.pk), int, count, timeout=UNREAD_REPLIES_CACHE_SECONDS
    )


def forget_unread_replies(user_id: int) -> None:
    forget(unread_replies_cache_key(user_id))


def is_unread(reply: Comment, seen: datetime | None) -> bool:
    if seen is None:
        return True
    return reply.created_at > seen or bool(reply.decided_at and reply.decided_at > seen)
