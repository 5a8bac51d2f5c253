"""The moderation queues and their filters (reads only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from civility.discussion.models import Comment, CommentStatus, Report

QUEUES: dict[str, Promise] = {
    "pending": gettext_lazy("Pending"),
    "reported": gettext_lazy("Reported"),
    "rejected": gettext_lazy("Rejected"),
    "approved": gettext_lazy("Approved"),
    "all": gettext_lazy("All"),
}
# The article's text is never shown on a card: do not read it for every comment of a page.
UNUSED_ON_CARDS = ("thread__article__body", "thread__article__body_text", "parent__verdict")


def _open_report_comment_ids() -> QuerySet[Report, Any]:
    # Few comments have open reports: start from those (a partial index) rather than probe
    # every comment of the site for a report.
    return Report.objects.filter(resolved_at__isnull=True).values("comment_id")


def _statuses(name: str) -> QuerySet[Comment]:
    """The comments of one queue, unordered and without related rows."""
    comments = Comment.objects.all()
    if name == "pending":
        return comments.filter(status=CommentStatus.PENDING)
    if name == "reported":
        return comments.filter(pk__in=_open_report_comment_ids()).exclude(
            status=CommentStatus.DELETED
        )
    if name == "rejected":
        return comments.filter(status=CommentStatus.REJECTED)
    if name == "approved":
        return comments.filter(status=CommentStatus.PUBLISHED)
    return comments


# Each order is served by an index that starts with (site, status) or (site): see Comment.
_ORDER = {
    "pending": ("created_at", "id"),
    "reported": ("created_at", "id"),
    "rejected": ("-decided_at", "-id"),
    "approved": ("-decided_at", "-id"),
    "all": ("-created_at", "-id"),
}


def queue(name: str, site_id: int | None = None) -> QuerySet[Comment]:
    """The comments of one site's queue, in the order a moderator works through them
    (``site_id`` None: the request's site)."""
    if site_id is None:
        from civility.sites.current import current_site

        site_id = int(current_site().pk)
    return (
        _statuses(name)
        .filter(site_id=site_id)
        .select_related("author", "thread", "thread__article", "parent", "parent__author")
        .defer(*UNUSED_ON_CARDS)
        .order_by(*_ORDER.get(name, _ORDER["all"]))
    )


def capped_count(
    comments: QuerySet[Comment], cap: int | None = None, order: tuple[str, ...] = ()
) -> int:
    """The number of rows, counted up to ``cap`` + 1 (which reads as "more than cap").

    ``order`` (the queue's index order) makes PostgreSQL count along that index, reading the
    index alone, instead of filtering rows found through another index.
    """
    cap = cap if cap is not None else int(settings.CIVILITY_QUEUE_COUNT_CAP)
    return comments.order_by(*order).values("pk")[: cap + 1].count()


def queue_counts(site_id: int | None = None, cap: int | None = None) -> dict[str, int]:
    """The size of each of the site's queues, each counted up to ``cap`` + 1 on its own
    index (one bounded query per queue, never a scan of every comment)."""
    if site_id is None:
        from civility.sites.current import current_site

        site_id = int(current_site().pk)
    return {name: capped_count(_statuses(name).filter(site_id=site_id), cap) for name in QUEUES}


def exact_queue_counts(site_id: int) -> dict[str, int]:
    """Exact sizes (the dashboard): one grouped count over the site's comments."""
    by_status = dict(
        Comment.objects.filter(site_id=site_id)
        .order_by()
        .values_list("status")
        .annotate(total=Count("id"))
        .values_list("status", "total")
    )
    return {
        "pending": by_status.get(CommentStatus.PENDING, 0),
        "reported": _statuses("reported").filter(site_id=site_id).count(),
        "rejected": by_status.get(CommentStatus.REJECTED, 0),
        "approved": by_status.get(CommentStatus.PUBLISHED, 0),
        "all": sum(by_status.values()),
    }


def count_label(count: int, cap: int | None = None) -> str:
    cap = cap if cap is not None else int(settings.CIVILITY_QUEUE_COUNT_CAP)
    return f"{formats.number_format(cap, force_grouping=True)}+" if count > cap else str(count)


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
            # IN over the (few) reports naming the rule: PostgreSQL hashes it once, where a
            # correlated EXISTS ran once per comment of the queue.
            reported = Report.objects.filter(rule=self.rule).values("comment_id")
            comments = comments.filter(
                Q(rule=self.rule) | Q(fired_rules__contains=f",{self.rule},") | Q(pk__in=reported)
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
