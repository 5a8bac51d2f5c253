"""The moderation queues and their filters (reads only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus, Report

QUEUES: dict[str, str] = {
    "pending": "Pending",
    "reported": "Reported",
    "rejected": "Rejected",
    "approved": "Approved",
    "all": "All",
}


def _open_reports() -> Exists:
    return Exists(Report.objects.filter(comment=OuterRef("pk"), resolved_at__isnull=True))


def queue(name: str) -> QuerySet[Comment]:
    """The comments of one queue, in the order a moderator works through them."""
    comments = Comment.objects.select_related(
        "author", "thread", "thread__article", "parent", "parent__author"
    )
    if name == "pending":
        return comments.filter(status=CommentStatus.PENDING).order_by("created_at", "id")
    if name == "reported":
        return (
            comments.filter(_open_reports())
            .exclude(status=CommentStatus.DELETED)
            .order_by("created_at", "id")
        )
    if name == "rejected":
        return comments.filter(status=CommentStatus.REJECTED).order_by("-decided_at", "-id")
    if name == "approved":
        return comments.filter(status=CommentStatus.PUBLISHED).order_by("-decided_at", "-id")
    return comments.order_by("-created_at", "-id")


def queue_counts() -> dict[str, int]:
    counts = Comment.objects.aggregate(
        pending=Count("id", filter=Q(status=CommentStatus.PENDING)),
        rejected=Count("id", filter=Q(status=CommentStatus.REJECTED)),
        approved=Count("id", filter=Q(status=CommentStatus.PUBLISHED)),
        all=Count("id"),
    )
    counts["reported"] = (
        Comment.objects.filter(_open_reports()).exclude(status=CommentStatus.DELETED).count()
    )
    return counts


@dataclass(frozen=True)
class Filters:
    rule: str = ""
    article: str = ""
    author: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        def parse_date(value: str) -> date | None:
            try:
                return date.fromisoformat(value) if value else None
            except ValueError:
                return None

        return cls(
            rule=query.get("rule", "").strip(),
            article=query.get("article", "").strip(),
            author=query.get("author", "").strip(),
            date_from=parse_date(query.get("from", "").strip()),
            date_to=parse_date(query.get("to", "").strip()),
        )

    @property
    def active(self) -> bool:
        return bool(self.rule or self.article or self.author or self.date_from or self.date_to)

    def apply(self, comments: QuerySet[Comment]) -> QuerySet[Comment]:
        if self.rule:
            reported = Report.objects.filter(comment=OuterRef("pk"), rule=self.rule)
            comments = comments.filter(
                Q(rule=self.rule) | Q(fired_rules__contains=f",{self.rule},") | Exists(reported)
            )
        if self.article:
            comments = comments.filter(
                Q(thread__article__slug=self.article)
                | Q(thread__article__headline__icontains=self.article)
                | Q(thread__title__icontains=self.article)
            )
        if self.author:
            condition = Q(author__email__iexact=self.author) | Q(
                author__display_name__icontains=self.author
            )
            if self.author.isdigit():
                condition |= Q(author_id=int(self.author))
            comments = comments.filter(condition)
        tz = timezone.get_current_timezone()
        if self.date_from:
            comments = comments.filter(
                created_at__gte=datetime.combine(self.date_from, time.min, tz)
            )
        if self.date_to:
            comments = comments.filter(created_at__lte=datetime.combine(self.date_to, time.max, tz))
        return comments
