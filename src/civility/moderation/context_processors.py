"""Template context for the site header: whether to show the Moderation link, and the size of
the Pending queue. Add "civility.moderation.context_processors.moderation" to TEMPLATES."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from civility.moderation.permissions import is_moderator


def moderation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not is_moderator(user):
        return {"is_moderator": False}
    from civility.discussion.models import Comment, CommentStatus

    return {
        "is_moderator": True,
        "moderation_pending": Comment.objects.filter(status=CommentStatus.PENDING).count(),
    }
