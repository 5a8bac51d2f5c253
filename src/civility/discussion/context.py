"""The engine's :class:`~civility.standards.types.Context` over the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from civility.standards.types import RecentComment


class DatabaseContext:
    """Recent comments of every status but deleted: flash mobs and floods count what was
    attempted, including what the engine removed."""

    def recent_comments(
        self, *, since: datetime, author_id: str | None = None, limit: int = 500
    ) -> Sequence[RecentComment]:
        from civility.discussion.models import Comment, CommentStatus

        rows = (
            Comment.objects.filter(created_at__gte=since, purged=False)
            .exclude(status=CommentStatus.DELETED)
            .select_related("thread", "thread__article")
            .order_by("-created_at", "-id")
        )
        if author_id is not None:
            if not str(author_id).isdigit():
                return []
            rows = rows.filter(author_id=int(author_id))
        return [
            RecentComment(
                id=str(row.pk),
                author_id=str(row.author_id),
                text=row.text,
                created_at=row.created_at,
                article_key=row.thread.key,
            )
            for row in rows[:limit]
        ]
