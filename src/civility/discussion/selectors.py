"""Reads of the discussion app that need care: what the public sees, thread trees, counts."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from civility.discussion.models import Comment, CommentStatus, Thread

# What any reader may see: published, author not hidden (deleted account) and active.
PUBLIC = Q(status=CommentStatus.PUBLISHED, author_hidden=False, author__is_active=True)

SORTS = {"oldest": "oldest first", "newest": "newest first", "replies": "most replies"}


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


def comment_count(article: Any) -> int:
    return published_comment_counts([article.pk]).get(article.pk, 0)


def closed_article_ids(article_ids: list[int]) -> set[int]:
    return set(
        Thread.objects.filter(article_id__in=article_ids, closed=True).values_list(
            "article_id", flat=True
        )
    )


def thread_of(article: Any) -> Thread | None:
    return Thread.objects.filter(article=article).first()


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
    depth: int = 0


def _is_public(comment: Comment) -> bool:
    return (
        comment.status == CommentStatus.PUBLISHED
        and not comment.author_hidden
        and not comment.purged
        and comment.author.is_active
    )


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
        visible = _is_public(node.comment) or node.own
        if node.own and node.comment.status == CommentStatus.DELETED:
            visible = False
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
# cost follows the page, not the thread. Only "most replies" needs every row of the thread,
# and reads them as plain tuples.


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


def _forest_below(root_ids: list[int], viewer: Any, *, roots_visible: bool = False) -> list[Node]:
    """Trees below the comments ``root_ids`` (kept in the given order): the replies' ids, then
    the roots and the visible replies by primary key, with their authors (two queries).
    ``roots_visible``: the roots must pass the visibility test too (a permalink's root)."""
    if not root_ids:
        return []
    viewer_id = _viewer_id(viewer)
    visible = _visibility(viewer_id)
    reply_ids = _descendant_ids(root_ids)
    roots = Q(pk__in=root_ids) & visible if roots_visible else Q(pk__in=root_ids)
    wanted = roots | (Q(pk__in=reply_ids) & visible) if reply_ids else roots
    rows = list(
        Comment.objects.filter(wanted).select_related("author").order_by("created_at", "id")
    )
    order = {pk: index for index, pk in enumerate(root_ids)}
    present = {c.pk for c in rows} & set(root_ids)
    forest = _forest(rows, viewer_id, present)
    return sorted(forest, key=lambda node: order[node.comment.pk])


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
    """The ``page``-th ``page_size`` top-level comments in ``sort`` order, with their replies."""
    start = (page - 1) * page_size
    if sort == "replies":
        root_ids = _root_ids_by_replies(thread, viewer)
        window = root_ids[start : start + page_size + 1]
        return ThreadPage(_forest_below(window[:page_size], viewer), page, len(window) > page_size)
    newest = sort == "newest"
    ordered = _root_window(thread, _viewer_id(viewer), newest=newest, stop=start + page_size + 1)
    page_ids = [pk for pk, _ in ordered[start : start + page_size]]
    return ThreadPage(_forest_below(page_ids, viewer), page, len(ordered) > start + page_size)


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
    shown_anyway = Q(status=CommentStatus.DELETED) | Q(author_hidden=True)
    if viewer_id is not None:
        shown_anyway |= Q(author_id=viewer_id)
    # Named statuses, not "not published": an index condition on (thread, status) then
    # reaches the thread's few unpublished rows instead of all of them.
    unpublished = [CommentStatus.DELETED, CommentStatus.PENDING, CommentStatus.REJECTED]
    others = list(
        top.filter(status__in=unpublished)
        .filter(shown_anyway)
        .order_by()
        .values_list("pk", "created_at")
    )
    merged = sorted(
        published + others,
        key=lambda row: (row[1], row[0]),
        reverse=newest,
    )
    return merged[:stop]


def _root_ids_by_replies(thread: Thread, viewer: Any) -> list[int]:
    """Top-level comment ids, most visible replies first. Reads every row of the thread (as
    tuples), so the anonymous order is cached like the total, and dropped with it."""
    viewer_id = _viewer_id(viewer)
    if viewer_id is None:
        cached = _cache_get(replies_order_cache_key(thread.pk))
        if isinstance(cached, list):
            return cached
        order = _count_replies(thread, None)
        _cache_set(replies_order_cache_key(thread.pk), order)
        return order
    return _count_replies(thread, viewer_id)


def _count_replies(thread: Thread, viewer_id: int | None) -> list[int]:
    rows = list(
        Comment.objects.filter(thread=thread)
        .filter(_visibility(viewer_id))
        .order_by("created_at", "id")
        .values_list(
            "pk",
            "parent_id",
            "author_id",
            "status",
            "author_hidden",
            "purged",
            "author__is_active",
            "created_at",
        )
    )
    children: dict[int, list[int]] = {}
    for pk, parent_id, *_ in rows:
        if parent_id is not None:
            children.setdefault(parent_id, []).append(pk)
    shown: dict[int, bool] = {}
    below: dict[int, int] = {}
    info = {row[0]: row for row in rows}

    def visit(pk: int) -> bool:
        _, _, author_id, status, hidden, purged, active, _ = info[pk]
        count = 0
        for child in children.get(pk, []):
            if visit(child):
                count += 1 + below[child]
        below[pk] = count
        own = viewer_id is not None and author_id == viewer_id
        public = status == CommentStatus.PUBLISHED and not hidden and not purged and active
        visible = (public or own) and not (own and status == CommentStatus.DELETED)
        shown[pk] = visible or count > 0
        return shown[pk]

    roots = [row for row in rows if row[1] is None and visit(row[0])]
    roots.sort(key=lambda row: (-below[row[0]], -row[7].timestamp(), -row[0]))
    return [row[0] for row in roots]


def subtree(comment: Comment, viewer: Any = None) -> list[Node]:
    """``comment`` and every reply below it (the permalink page), or [] when it is not shown."""
    return _forest_below([comment.pk], viewer, roots_visible=True)


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
    outline = thread_outline(thread)
    start = (page - 1) * page_size
    window = outline[start : start + page_size]
    by_id = {c.pk: c for c in Comment.objects.filter(pk__in=window).select_related("author")}
    return [by_id[pk] for pk in window], len(outline)


def my_comments(user: Any) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(author=user)
        .exclude(purged=True)
        .select_related("thread", "thread__article")
        .order_by("-created_at", "-id")
    )


def total_cache_key(thread_id: int) -> str:
    return f"discussion:thread-total:{thread_id}"


def replies_order_cache_key(thread_id: int) -> str:
    return f"discussion:thread-replies-order:{thread_id}"


def thread_cache_keys(thread_id: int) -> list[str]:
    """What a saved comment makes stale (ops.readcache.note_comment_saved drops them)."""
    return [total_cache_key(thread_id), replies_order_cache_key(thread_id)]


# Bulk updates (an account hidden) send no signal, so cached figures also expire after this.
THREAD_CACHE_SECONDS = 60


def _cache_get(key: str) -> Any:
    from django.core.cache import cache

    try:
        return cache.get(key)
    except Exception:  # the cache is down: compute
        return None


def _cache_set(key: str, value: Any) -> None:
    from django.core.cache import cache

    with contextlib.suppress(Exception):  # the cache is down: the next view computes again
        cache.set(key, value, timeout=THREAD_CACHE_SECONDS)


def public_total(thread: Thread) -> int:
    """The thread's public comment count, cached: counting a thread of thousands of comments
    on every page view is what a busy thread cannot afford."""
    cached = _cache_get(total_cache_key(thread.pk))
    if isinstance(cached, int):
        return cached
    total = public_comments().filter(thread=thread).count()
    _cache_set(total_cache_key(thread.pk), total)
    return total
