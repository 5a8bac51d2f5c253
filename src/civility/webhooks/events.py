"""The events an endpoint may subscribe to: audit actions that make sense outside Civility.

Never offered: ``reader.*`` (a reader's ignore list is private), ``account.*`` (sign-ups,
deletions: personal data), ``user.note_*`` (moderators' private notes), ``webhook.*`` (changes
to the endpoints themselves, which would otherwise announce themselves) and the bulk
``comments.*`` actions of account deletion. Adding an action here publishes it.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# The synthetic event of the admin's "send a test event" action; no audit row carries it.
PING = "ping"

# action -> what a subscriber is told it means (the admin's checkboxes).
EVENTS: dict[str, str | Promise] = {
    "comment.posted": _("A comment was posted (before any decision)."),
    "comment.engine_decision": _("The engine published, held or removed a comment."),
    "comment.engine_failed": _("The engine could not judge a comment; it is held for review."),
    "comment.approved": _("A moderator published a comment."),
    "comment.rejected": _("A moderator removed a comment."),
    "comment.featured": _("A moderator featured a comment."),
    "comment.unfeatured": _("A moderator stopped featuring a comment."),
    "comment.reported": _("A reader reported a comment."),
    "comment.recommended": _("A reader recommended a comment."),
    "comment.recommendation_withdrawn": _("A reader withdrew a recommendation."),
    "comment.edited": _("An author edited their comment."),
    "comment.edited_by_moderator": _("A moderator edited a comment."),
    "comment.deleted_by_author": _("An author deleted their comment."),
    "comment.review_requested": _("An author asked for a review of their comment's removal."),
    "comment.review_decided": _("A moderator reinstated a comment or upheld its removal."),
    "thread.created": _("A discussion was opened."),
    "thread.updated": _("A discussion was closed, reopened or pre-moderated."),
    "appeal.submitted": _("A blocked reader appealed."),
    "appeal.restored": _("An appeal was granted."),
    "appeal.refused": _("An appeal was refused."),
    "contact.received": _("A message came through the contact form."),
    "user.blocked": _("A reader was blocked."),
    "user.access_restored": _("A blocked reader's access was restored."),
    "user.suspended": _("A reader was suspended."),
    "user.suspension_lifted": _("A reader's suspension was lifted."),
    "policy.saved": _("A site's moderation policy was saved."),
    PING: _("Test event sent from the admin."),
}

# Each checkbox shows the action, as receivers see it, and what it means.
EVENT_CHOICES: list[tuple[str, str | Promise]] = [
    (name, format_lazy("{}: {}", name, meaning)) for name, meaning in EVENTS.items()
]


def is_publishable(action: str) -> bool:
    return action in EVENTS
