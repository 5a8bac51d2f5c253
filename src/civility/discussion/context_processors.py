"""Template context for the site header: how many replies to the reader's comments are unread.
Add "civility.discussion.context_processors.replies" to TEMPLATES."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def replies(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}

    def count() -> int:
        from civility.discussion.selectors import unread_reply_count

        return unread_reply_count(user)

    # Counted only when a template shows it (the header), from a per-reader cache.
    return {"unread_replies": SimpleLazyObject(count)}
