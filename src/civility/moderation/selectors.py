"""Reads about moderation state that other modules rely on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from civility.moderation.models import Block, PolicyVersion, Standing, Strike
from civility.standards.policy import Policy, default_policy


def site_default_policy() -> Policy:
    """The shipped policy with the site languages from the settings."""
    return default_policy().with_languages(tuple(settings.SITE_LANGUAGES))


def active_policy_version() -> PolicyVersion | None:
    return PolicyVersion.objects.filter(is_active=True).first()


def active_policy() -> tuple[Policy, PolicyVersion | None]:
    """The policy the engine uses now: the active saved version, or the shipped default."""
    version = active_policy_version()
    if version is None:
        return site_default_policy(), None
    return Policy.from_dict(version.policy, base=site_default_policy()), version


def is_blocked(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Standing.objects.filter(user=user, blocked=True).exists()


def block_count(user: Any) -> int:
    return Block.objects.filter(user=user).count()


def unlock_refusal_reason(user: Any) -> str:
    """Why an unlock request for ``user`` cannot be accepted, or "" when it can."""
    if user is None:
        return ""
    if not Standing.objects.filter(user=user, blocked=True).exists():
        return "This account is not blocked: there is nothing to unlock."
    if Block.objects.filter(user=user, final=True, lifted_at__isnull=True).exists():
        return (
            "This account has been blocked a second time. A second block is final: "
            "access can no longer be restored."
        )
    return ""


def is_premoderated(user: Any) -> bool:
    return Standing.objects.filter(user=user, premoderated=True).exists()


@dataclass(frozen=True)
class AuthorHistory:
    comments: int
    published: int
    rejected: int
    pending: int
    recent_decided: int
    recent_rejected: int
    strikes: int
    blocks: int
    blocked: bool
    premoderated: bool

    @property
    def recent_rejection_rate(self) -> float:
        return self.recent_rejected / self.recent_decided if self.recent_decided else 0.0


def recent_rejection(user_id: int, window: int | None = None) -> tuple[int, int]:
    """(rejected, decided) among the author's last ``window`` decided comments."""
    from civility.discussion.models import Comment, CommentStatus

    window = window or settings.CIVILITY_PREMOD_WINDOW
    statuses = list(
        Comment.objects.filter(
            author_id=user_id, status__in=[CommentStatus.PUBLISHED, CommentStatus.REJECTED]
        )
        .order_by("-created_at", "-id")
        .values_list("status", flat=True)[:window]
    )
    return sum(1 for s in statuses if s == CommentStatus.REJECTED), len(statuses)


def author_history(user: Any) -> AuthorHistory:
    from civility.discussion.models import Comment

    counts = Comment.objects.filter(author=user).aggregate(
        total=Count("id"),
        published=Count("id", filter=Q(status="published")),
        rejected=Count("id", filter=Q(status="rejected")),
        pending=Count("id", filter=Q(status="pending")),
    )
    rejected, decided = recent_rejection(user.pk)
    standing = Standing.objects.filter(user=user).first()
    return AuthorHistory(
        comments=counts["total"],
        published=counts["published"],
        rejected=counts["rejected"],
        pending=counts["pending"],
        recent_decided=decided,
        recent_rejected=rejected,
        strikes=Strike.objects.filter(user=user, revoked_at__isnull=True).count(),
        blocks=Block.objects.filter(user=user).count(),
        blocked=bool(standing and standing.blocked),
        premoderated=bool(standing and standing.premoderated),
    )


def recent_window(days: int = 30) -> Any:
    return timezone.now() - timedelta(days=days)
