"""Reads of the discussion app that need care: what the public sees, thread trees, counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from civility.discussion.models import Comment, CommentStatus, Thread

# What any reader may see: published, author not hidden (deleted account) and active.
PUBLIC = Q(status=CommentStatus.PUBLISHED, author_hidden=False, author__is_active=True)

SORTS = {"oldest": "oldest first", "newest": "newest first", "replies": "most replies"}


def _articles() -> Any:
    from civility.news.models import Article

    return Article.objects.published()


def get_published_article_or_404(slug: str) -> Any:
    article = _articles().filter(slug=slug).first()
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


def _visible_rows(thread: Thread, viewer: Any = None) -> list[Comment]:
    """Public comments, tombstone candidates, and the viewer's own comments, thread order."""
    condition = (
        PUBLIC
        | Q(status=CommentStatus.DELETED)
        | Q(author_hidden=True)
        | Q(author__is_active=False)
    )
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        condition |= Q(author_id=viewer.pk)
    return list(
        Comment.objects.filter(thread=thread)
        .filter(condition)
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


def build_tree(thread: Thread, viewer: Any = None, root: Comment | None = None) -> list[Node]:
    """The thread as a forest (or the subtree below ``root``). Deleted or hidden comments
    are kept as tombstones only when a visible reply hangs below them."""
    rows = _visible_rows(thread, viewer)
    viewer_id = (
        viewer.pk if viewer is not None and getattr(viewer, "is_authenticated", False) else None
    )
    nodes = {c.pk: Node(comment=c, own=c.author_id == viewer_id) for c in rows}
    roots: list[Node] = []
    for comment in rows:
        node = nodes[comment.pk]
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        if comment.parent_id and parent is None:
            continue  # its parent is out of view (pending or removed): so is the reply
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

    roots = [node for node in roots if prune(node)]
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


def public_comment_page(article: Any, page: int, page_size: int) -> tuple[list[Comment], int]:
    """The API's listing: the thread flattened in order (tombstones included), paginated."""
    thread = thread_of(article)
    if thread is None:
        return [], 0
    flat = flatten(build_tree(thread))
    start = (page - 1) * page_size
    return [node.comment for node in flat[start : start + page_size]], len(flat)


def my_comments(user: Any) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(author=user)
        .exclude(purged=True)
        .select_related("thread", "thread__article")
        .order_by("-created_at", "-id")
    )
