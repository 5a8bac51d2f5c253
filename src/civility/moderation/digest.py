"""The moderators' daily digest: what waits in each queue they work on, and what happened in
the last 24 hours. Built here from the moderation data; e-mailed by the notifications app to
the moderators who asked for it (``civility beat`` runs it once a day)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus
from civility.moderation.models import (
    Appeal,
    AppealStatus,
    ContactMessage,
    ReviewRequest,
    ReviewStatus,
)
from civility.moderation.permissions import moderation_scope
from civility.moderation.queues import queue
from civility.standards.rules import RULES_BY_SLUG

ENGINE = "engine"
TOP_RULES = 3


@dataclass(frozen=True)
class SiteDigest:
    site_id: int
    site_name: str
    pending: int
    reported: int
    oldest_pending: datetime | None
    posted: int
    published: int
    removed_by_engine: int
    removed_by_moderators: int
    top_rules: list[tuple[str, int]]
    open_reviews: int = 0

    @property
    def waiting(self) -> int:
        return self.pending + self.reported + self.open_reviews


@dataclass(frozen=True)
class ModerationDigest:
    since: datetime
    sites: list[SiteDigest]
    open_appeals: int | None = None  # None: the recipient does not handle appeals
    open_messages: int | None = None

    @property
    def needs_attention(self) -> bool:
        """Anything waiting for a moderator: a digest of nothing is not sent."""
        return any(site.waiting for site in self.sites) or bool(
            self.open_appeals or self.open_messages
        )


def _site_digest(site: Any, since: datetime) -> SiteDigest:
    pending = queue("pending", site.pk).aggregate(total=Count("id"), oldest=Min("created_at"))
    recent = Comment.objects.filter(site_id=site.pk).aggregate(
        posted=Count("id", filter=Q(created_at__gte=since)),
        published=Count("id", filter=Q(decided_at__gte=since, status=CommentStatus.PUBLISHED)),
        by_engine=Count(
            "id",
            filter=Q(decided_at__gte=since, status=CommentStatus.REJECTED, decided_by=ENGINE),
        ),
        by_moderators=Count(
            "id",
            filter=Q(decided_at__gte=since, status=CommentStatus.REJECTED) & ~Q(decided_by=ENGINE),
        ),
    )
    rules: Counter[str] = Counter(
        dict(
            Comment.objects.filter(
                site_id=site.pk, status=CommentStatus.REJECTED, decided_at__gte=since
            )
            .exclude(rule="")
            .order_by()
            .values_list("rule")
            .annotate(total=Count("id"))
            .values_list("rule", "total")
        )
    )
    return SiteDigest(
        site_id=site.pk,
        site_name=str(site.name),
        pending=int(pending["total"]),
        reported=queue("reported", site.pk).count(),
        oldest_pending=pending["oldest"],
        open_reviews=ReviewRequest.objects.filter(
            site_id=site.pk, status=ReviewStatus.OPEN
        ).count(),
        posted=int(recent["posted"]),
        published=int(recent["published"]),
        removed_by_engine=int(recent["by_engine"]),
        removed_by_moderators=int(recent["by_moderators"]),
        top_rules=[
            (
                f"{RULES_BY_SLUG[slug].number}. {RULES_BY_SLUG[slug].title}"
                if slug in RULES_BY_SLUG
                else slug,
                total,
            )
            for slug, total in rules.most_common(TOP_RULES)
        ],
    )


def digest_for(user: Any, *, now: datetime | None = None) -> ModerationDigest | None:
    """The digest of the sites ``user`` moderates, or None for a user who moderates nothing."""
    from civility.sites.models import Site

    scope = moderation_scope(user)
    if not (scope.all_sites or scope.site_ids):
        return None
    since = (now or timezone.now()) - timedelta(hours=24)
    sites = Site.objects.order_by("name", "pk")
    if not scope.all_sites:
        sites = sites.filter(pk__in=scope.site_ids)
    site_digests = [_site_digest(site, since) for site in sites]
    if not scope.all_sites:
        return ModerationDigest(since=since, sites=site_digests)
    # Appeals and messages are account-wide: for moderators of every site.
    return ModerationDigest(
        since=since,
        sites=site_digests,
        open_appeals=Appeal.objects.filter(status=AppealStatus.OPEN).count(),
        open_messages=ContactMessage.objects.filter(handled_at__isnull=True).count(),
    )
