"""The engine's :class:`~civility.standards.types.Context` over the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from civility.standards.types import RecentComment

if TYPE_CHECKING:
    from django.db.models import QuerySet


class DatabaseContext:
    """Recent comments of every status but deleted: flash mobs and floods count what was
    attempted, including what the engine removed. With ``site_id``, only that site's comments
    (a flash mob on the Russian site says nothing about the English one)."""

    def __init__(self, site_id: int | None = None) -> None:
        self.site_id = site_id

    def recent_comments(
        self, *, since: datetime, author_id: str | None = None, limit: int = 500
    ) -> Sequence[RecentComment]:
        rows = self._since(since).order_by("-created_at", "-id")
        if author_id is not None:
            if not str(author_id).isdigit():
                return []
            rows = rows.filter(author_id=int(author_id))
        return [_recent(row) for row in rows.values_list(*_RECENT_FIELDS)[:limit]]

    def recent_comments_by_author(
        self, author_ids: Sequence[str], since: datetime, limit: int
    ) -> dict[str, Sequence[RecentComment]]:
        """For each author (numeric ids), what ``recent_comments(since=since,
        author_id=author, limit=limit)`` answers, in one query (a window function numbers
        each author's comments, newest first)."""
        from civility.discussion.selectors import newest_per_author

        rows = newest_per_author(
            # The site's condition comes before the numbering (in _since).
            self._since(since).filter(author_id__in=[int(a) for a in author_ids]),
            limit,
        ).order_by("-created_at", "-id")
        found: dict[str, list[RecentComment]] = {}
        for row in rows.values_list(*_RECENT_FIELDS):
            comment = _recent(row)
            found.setdefault(comment.author_id or "", []).append(comment)
        return dict(found)

    def _since(self, since: datetime) -> QuerySet[Any]:
        """This site's comments since ``since``, of every status but deleted."""
        from civility.discussion.models import Comment, CommentStatus

        rows = Comment.objects.filter(created_at__gte=since, purged=False).exclude(
            status=CommentStatus.DELETED
        )
        if self.site_id is not None:
            rows = rows.filter(site_id=self.site_id)
        return rows


# Plain tuples: this runs on every post, and model instances with their thread and article
# (body included) cost several times more than the detectors themselves.
_RECENT_FIELDS = (
    "pk",
    "author_id",
    "text",
    "created_at",
    "thread__article__slug",
    "thread__canonical_url",
)


def _recent(row: tuple[Any, ...]) -> RecentComment:
    """A :class:`RecentComment` from a row of ``_RECENT_FIELDS``."""
    pk, author, text, created_at, slug, canonical_url = row
    return RecentComment(
        id=str(pk),
        author_id=str(author),
        text=text,
        created_at=created_at,
        article_key=thread_key(slug, canonical_url),
    )


def thread_key(article_slug: str | None, canonical_url: str | None) -> str:
    """The engine's per-article key, as ``Thread.key`` builds it, from plain column values."""
    if article_slug is not None:
        return f"article:{article_slug}"
    return f"url:{canonical_url}"
