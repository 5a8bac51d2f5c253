"""Reads about moderation state that other modules rely on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.translation import gettext as _

from civility.moderation.models import (
    Block,
    EmailDomainRule,
    ModeratorNote,
    PolicyVersion,
    Standing,
    Strike,
)
from civility.ops.prepared import PreparedQuery
from civility.standards.policy import Policy, default_policy

if TYPE_CHECKING:
    from civility.discussion.models import Comment
    from civility.sites.models import Site


def policy_site(site: Site | int | None = None) -> Site:
    """A site given as an instance, an id, or None (the request's site, else the default)."""
    from civility.sites.current import current_site, site_by_id
    from civility.sites.models import Site

    if isinstance(site, Site):
        return site
    if site is None:
        return current_site()
    return site_by_id(int(site))


def site_default_policy(site: Site | int | None = None) -> Policy:
    """The shipped policy with the site's majority languages (by default the
    CIVILITY_SITE_LANGUAGES setting)."""
    return default_policy().with_languages(policy_site(site).language_codes)


def _active_version_query(site_id: int) -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(site_id=site_id, is_active=True).order_by(
        "-created_at", "-id"
    )[:1]


# Read on every post (the policy in force): compiled once per process (ops.prepared).
_ACTIVE_VERSION = PreparedQuery(
    "active_policy_version", PolicyVersion, _active_version_query, {"site_id": "int"}
)


def active_policy_version(site: Site | int | None = None) -> PolicyVersion | None:
    found = _ACTIVE_VERSION.fetch(site_id=int(policy_site(site).pk))
    return found[0] if found else None


def active_policy(site: Site | int | None = None) -> tuple[Policy, PolicyVersion | None]:
    """The policy a site's engine uses now: its active saved version, or the shipped default;
    either way with the site's majority languages (rule 20)."""
    site = policy_site(site)
    base = site_default_policy(site)
    version = active_policy_version(site)
    if version is None:
        return base, None
    return Policy.from_dict(version.policy, base=base).with_languages(site.language_codes), version


def blocking_standings(user_id: Any) -> QuerySet[Standing]:
    """The standing that bars the user from posting, if there is one (``user_id`` may be an
    expression)."""
    return Standing.objects.filter(user_id=user_id, blocked=True)


def suspending_standings(user_id: Any) -> QuerySet[Standing]:
    """The standing that suspends the user now, if there is one (``user_id`` may be an
    expression). The clock is the database's, so a compiled query stays right."""
    return Standing.objects.filter(user_id=user_id, suspended_until__gt=Now())


@dataclass(frozen=True)
class PostingStanding:
    """What the comment form needs to know of a reader's standing, in one query."""

    blocked: bool = False
    suspended_until: datetime | None = None
    suspension_reason: str = ""


def posting_standing(user: Any) -> PostingStanding:
    if not getattr(user, "is_authenticated", False):
        return PostingStanding()
    row = (
        Standing.objects.filter(user_id=user.pk)
        .values("blocked", "suspended_until", "suspension_reason")
        .first()
    )
    if row is None:
        return PostingStanding()
    until = row["suspended_until"]
    current = until is not None and until > timezone.now()
    return PostingStanding(
        blocked=bool(row["blocked"]),
        suspended_until=until if current else None,
        suspension_reason=row["suspension_reason"] if current else "",
    )


def is_blocked(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return blocking_standings(user.pk).exists()


def block_count(user: Any) -> int:
    return Block.objects.filter(user=user).count()


def unlock_refusal_reason(user: Any) -> str:
    """Why an unlock request for ``user`` cannot be accepted, or "" when it can."""
    if user is None:
        return ""
    if not blocking_standings(user.pk).exists():
        return _("This account is not blocked: there is nothing to unlock.")
    if Block.objects.filter(user=user, final=True, lifted_at__isnull=True).exists():
        return _(
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
    suspended: bool = False
    notes: int = 0

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
    return author_histories([user.pk])[user.pk]


def _count_of(model: Any, user_field: str, **conditions: Any) -> Coalesce:
    """The number of ``model`` rows of the outer query's user (a correlated subquery)."""
    rows = (
        model.objects.filter(**{user_field: OuterRef("pk")}, **conditions)
        .order_by()
        .values(user_field)
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(rows[:1]), 0)


def author_histories(user_ids: Iterable[int]) -> dict[int, AuthorHistory]:
    """The history of several authors in two queries, whatever their number (a queue page
    shows 25 cards; one set of queries per card made it slow)."""
    from civility.discussion.models import Comment, CommentStatus

    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = (
        get_user_model()
        .objects.filter(pk__in=ids)
        .annotate(
            h_total=_count_of(Comment, "author_id"),
            h_published=_count_of(Comment, "author_id", status=CommentStatus.PUBLISHED),
            h_rejected=_count_of(Comment, "author_id", status=CommentStatus.REJECTED),
            h_pending=_count_of(Comment, "author_id", status=CommentStatus.PENDING),
            h_strikes=_count_of(Strike, "user_id", revoked_at__isnull=True),
            h_blocks=_count_of(Block, "user_id"),
            h_blocked=Exists(blocking_standings(OuterRef("pk"))),
            h_suspended=Exists(suspending_standings(OuterRef("pk"))),
            h_notes=_count_of(ModeratorNote, "user_id"),
            h_premoderated=Exists(
                Standing.objects.filter(user_id=OuterRef("pk"), premoderated=True)
            ),
        )
        .values_list(
            "pk",
            "h_total",
            "h_published",
            "h_rejected",
            "h_pending",
            "h_strikes",
            "h_blocks",
            "h_blocked",
            "h_premoderated",
            "h_suspended",
            "h_notes",
        )
    )
    recent = recent_rejections(ids)
    histories = {}
    for (
        pk,
        total,
        published,
        rejected,
        pending,
        strikes,
        blocks,
        blocked,
        premod,
        suspended,
        notes,
    ) in rows:
        recent_rejected, recent_decided = recent.get(pk, (0, 0))
        histories[pk] = AuthorHistory(
            comments=total,
            published=published,
            rejected=rejected,
            pending=pending,
            recent_decided=recent_decided,
            recent_rejected=recent_rejected,
            strikes=strikes,
            blocks=blocks,
            blocked=bool(blocked),
            premoderated=bool(premod),
            suspended=bool(suspended),
            notes=int(notes),
        )
    return histories


def recent_rejections(user_ids: list[int], window: int | None = None) -> dict[int, tuple[int, int]]:
    """Per author, (rejected, decided) among their last ``window`` decided comments, in one
    query (a window function numbers each author's comments, newest first)."""
    from civility.discussion.models import Comment, CommentStatus
    from civility.discussion.selectors import newest_per_author

    window = window or settings.CIVILITY_PREMOD_WINDOW
    decided_comments = Comment.objects.filter(
        author_id__in=user_ids, status__in=[CommentStatus.PUBLISHED, CommentStatus.REJECTED]
    )
    rows = newest_per_author(decided_comments, window).values_list("author_id", "status")
    out: dict[int, tuple[int, int]] = {}
    for author_id, status in rows:
        rejected, decided = out.get(author_id, (0, 0))
        out[author_id] = (rejected + (status == CommentStatus.REJECTED), decided + 1)
    return out


def recent_window(days: int = 30) -> Any:
    return timezone.now() - timedelta(days=days)


def email_domain_of(email: str) -> str:
    """The domain of an e-mail address, lower-case and in its ASCII (IDNA) form."""
    domain = (email or "").rpartition("@")[2].strip().rstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def email_domain_rule_for(email: str) -> EmailDomainRule | None:
    """The rule for ``email``'s domain or its nearest parent domain that has one (a rule
    for example.com covers mail.example.com), in one query."""
    labels = email_domain_of(email).split(".")
    candidates = [".".join(labels[start:]) for start in range(len(labels) - 1)]
    if not candidates:
        return None
    rules = {rule.domain: rule for rule in EmailDomainRule.objects.filter(domain__in=candidates)}
    return next((rules[domain] for domain in candidates if domain in rules), None)


def accounts_at_domain(domain: str) -> int:
    """Existing accounts whose address is at ``domain`` or a subdomain of it."""
    from django.db.models import Q

    return (
        get_user_model()
        .objects.filter(Q(email__iendswith=f"@{domain}") | Q(email__iendswith=f".{domain}"))
        .count()
    )


def review_window_open(comment: Comment) -> bool:
    """Is the removal of ``comment`` recent enough for its author to ask for a review?"""
    removed_at = comment.decided_at or comment.created_at
    window = timedelta(days=int(settings.CIVILITY_REVIEW_REQUEST_DAYS))
    return bool(timezone.now() - removed_at <= window)
