"""The engine's :class:`~civility.standards.types.Context` over the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from civility.standards.types import RecentComment


class DatabaseContext:
    """Recent comments of every status but deleted: flash mobs and floods count what was
    attempted, including what the engine removed. With ``site_id``, only that site's comments
    (a flash mob on the Russian site says nothing about the English one)."""

    def __init__(self, site_id: int | None = None) -> None:
        self.site_id = site_id

    def recent_comments(
        self, *, since: datetime, author_id: str | None = None, limit: int = 500
    ) -> Sequence[RecentComment]:
        from civility.discussion.models import Comment, CommentStatus

        rows = (
            Comment.objects.filter(created_at__gte=since, purged=False)
            .exclude(status=CommentStatus.DELETED)
            .order_by("-created_at", "-id")
        )
        if self.site_id is not None:
            rows = rows.filter(site_id=self.site_id)
        if author_id is not None:
            if not str(author_id).isdigit():
                return []
            rows = rows.filter(author_id=int(author_id))
        # Plain tuples: this runs on every post, and model instances with their thread and
        # article (body included) cost several times more than the detectors themselves.
        fields = (
            "pk",
            "author_id",
            "text",
            "created_at",
            "thread__article__slug",
            "thread__canonical_url",
        )
        return [
            RecentComment(
                id=str(pk),
                author_id=str(author),
                text=text,
                created_at=created_at,
                article_key=thread_key(slug, canonical_url),
            )
            for pk, author, text, created_at, slug, canonical_url in rows.values_list(*fields)[
                :limit
            ]
        ]


def thread_key(article_slug: str | None, canonical_url: str | None) -> str:
    """The engine's per-article key, as ``Thread.key`` builds it, from plain column values."""
    if article_slug is not None:
        return f"article:{article_slug}"
    return f"url:{canonical_url}"
