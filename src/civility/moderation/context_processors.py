"""Template context for the site header: whether to show the Moderation link, and the size of
the site's Pending queue. Add "civility.moderation.context_processors.moderation" to TEMPLATES."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from civility.moderation.permissions import is_moderator, request_site_id


def moderation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    site_id = request_site_id(request)
    if not is_moderator(user, site_id):
        return {"is_moderator": False}
    from civility.moderation.queues import count_label, pending_count

    # The moderation pages have counted it already.
    pending = getattr(request, "civility_pending_count", None)
    if pending is None:
        pending = pending_count(site_id)
    return {"is_moderator": True, "moderation_pending": count_label(pending) if pending else 0}
