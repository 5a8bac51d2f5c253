"""The moderation queues and their filters (reads only)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
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
    "featured": gettext_lazy("Editors' picks"),
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
    if name == "featured":
        return comments.filter(featured_at__isnull=False, status=CommentStatus.PUBLISHED)
    return comments


# Each order is served by an index that starts with (site, status) or (site): see Comment.
_ORDER = {
    "pending": ("created_at", "id"),
    "reported": ("created_at", "id"),
    "rejected": ("-decided_at", "-id"),
    "approved": ("-decided_at", "-id"),
    "featured": ("-featured_at", "-id"),
    "all": ("-created_at", "-id"),
}


# A filtered queue is counted up to this many rows (then "1,000+"): counting a rule that one
# comment in a hundred fired up to the queue cap meant reading a million index entries.
FILTERED_COUNT_CAP = 1_000


def filtered_count_cap() -> int:
    return min(FILTERED_COUNT_CAP, int(settings.CIVILITY_QUEUE_COUNT_CAP))


def order_of(name: str) -> tuple[str, ...]:
    """The order of a queue's cards (the index that serves it is noted at ``_ORDER``)."""
    return _ORDER.get(name, _ORDER["all"])


def queue(name: str, site_id: int | None = None) -> QuerySet[Comment]:
    """The comments of one site's queue, in the order a moderator works through them
    (``site_id`` None: the request's site)."""
    if site_id is None:
        from civility.sites.current import current_site

        site_id = int(current_site().pk)
    return with_card_rows(_statuses(name).filter(site_id=site_id)).order_by(*order_of(name))


def with_card_rows(comments: QuerySet[Comment]) -> QuerySet[Comment]:
    """What a card shows besides the comment: its author, thread, article and parent."""
    return comments.select_related(
        "author", "thread", "thread__article", "parent", "parent__author"
    ).defer(*UNUSED_ON_CARDS)


def capped_count(
    comments: QuerySet[Comment], cap: int | None = None, order: tuple[str, ...] = ()
) -> int:
    """The number of rows, counted up to ``cap`` + 1 (which reads as "more than cap").

    ``order`` (the queue's index order) makes PostgreSQL count along that index, reading the
    index alone, instead of filtering rows found through another index.
    """
    cap = cap if cap is not None else int(settings.CIVILITY_QUEUE_COUNT_CAP)
    return comments.order_by(*order).values("pk")[: cap + 1].count()


def counts_at_once(querysets: Mapping[str, tuple[QuerySet[Any], int | None]]) -> dict[str, int]:
    """Several counts in one statement (one round trip): each ``(queryset, cap)`` counted up
    to ``cap`` + 1 rows (None: every row), as a scalar subquery of one SELECT."""
    if not querysets:
        return {}
    parts: list[str] = []
    params: list[Any] = []
    for n, (rows, cap) in enumerate(querysets.values()):
        ids = rows.order_by().values("pk")
        sql, more = (ids[: cap + 1] if cap is not None else ids).query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) counted_{n})")
        params.extend(more)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {name: int(value) for name, value in zip(querysets, row, strict=True)}


def queue_querysets(site_id: int, cap: int | None = None) -> dict[str, tuple[QuerySet[Any], int]]:
    """Each queue of the site with its cap, ready for :func:`counts_at_once`."""
    cap = cap if cap is not None else int(settings.CIVILITY_QUEUE_COUNT_CAP)
    return {name: (_statuses(name).filter(site_id=site_id), cap) for name in QUEUES}


def queue_counts(site_id: int | None = None, cap: int | None = None) -> dict[str, int]:
    """The size of each of the site's queues, each counted up to ``cap`` + 1 on its own
    index (one bounded subquery per queue, all in one statement; never a scan of every
    comment). Queues found over the cap a moment ago are not counted again."""
    if site_id is None:
        from civility.sites.current import current_site

        site_id = int(current_site().pk)
    wanted, known = queue_count_plan(site_id, cap)
    counts = {**known, **counts_at_once(wanted)}
    remember_counts(site_id, counts, known, cap)
    return {name: counts[name] for name in QUEUES}


# Counting a queue past the cap reads cap + 1 index entries (four queues of a big site: some
# 40k entries, 20-40 ms a page). A queue found over the cap is shown as "cap+" without being
# counted again for this long; its label may say "10,000+" while it holds a few less.
OVER_CAP_SECONDS = 30


def _over_cap_key(site_id: int, cap: int) -> str:
    return f"moderation:queues-over-cap:{site_id}:{cap}"


def queue_count_plan(
    site_id: int, cap: int | None = None
) -> tuple[dict[str, tuple[QuerySet[Any], int]], dict[str, int]]:
    """The site's queues still to count (for :func:`counts_at_once`), and the sizes known
    without counting (cap + 1: over the cap when last counted)."""
    cap = cap if cap is not None else int(settings.CIVILITY_QUEUE_COUNT_CAP)
    try:
        over = cache.get(_over_cap_key(site_id, cap))
    except Exception:  # the cache is down: count everything
        over = None
    known = {name: cap + 1 for name in (over or ()) if name in QUEUES}
    wanted = {n: q for n, q in queue_querysets(site_id, cap).items() if n not in known}
    return wanted, known


def pending_count(site_id: int, cap: int | None = None) -> int:
    """The site's Pending queue counted up to ``cap`` + 1, or cap + 1 without a query when
    it was over the cap a moment ago (the header of every page a moderator reads)."""
    cap = cap if cap is not None else int(settings.CIVILITY_QUEUE_COUNT_CAP)
    wanted, known = queue_count_plan(site_id, cap)
    if "pending" in known:
        return known["pending"]
    count = capped_count(wanted["pending"][0], cap)
    remember_counts(site_id, {"pending": count}, known, cap)
    return count


def remember_counts(
    site_id: int, counts: Mapping[str, int], known: Mapping[str, int], cap: int | None = None
) -> None:
    """Keep the names of the queues found over the cap (when none were known already: the
    entry then expires after OVER_CAP_SECONDS and every queue is counted again)."""
    if known:
        return
    cap = cap if cap is not None else int(settings.CIVILITY_QUEUE_COUNT_CAP)
    over = sorted(name for name in QUEUES if counts.get(name, 0) > cap)
    if over:
        with contextlib.suppress(Exception):  # the cache is down: count again next time
            cache.set(_over_cap_key(site_id, cap), over, OVER_CAP_SECONDS)


# --- Seek (keyset) paging --------------------------------------------------------------------
#
# A deep page read with OFFSET walks every row before it; a cursor names the last (or first)
# card shown, by the queue's order value and id, so the next page starts right there on the
# queue's index. Page numbers stay in the links for the reader; the cursor is what is read.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"^(\d{1,20})-(\d{1,20})$")


@dataclass(frozen=True)
class Cursor:
    """A card's place in its queue: its order value (a date) and its id. ``backwards``: the
    page ends before this card (the "Previous" link) instead of starting after it."""

    value: datetime
    pk: int
    backwards: bool = False

    def encode(self) -> str:
        micros = (self.value - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.pk}"

    @classmethod
    def decode(cls, raw: str, *, backwards: bool = False) -> Cursor | None:
        match = _CURSOR.match(raw or "")
        if match is None:
            return None
        try:
            value = _EPOCH + timedelta(microseconds=int(match[1]))
        except OverflowError:
            return None
        return cls(value, int(match[2]), backwards)

    @classmethod
    def of(cls, comment: Comment, order: tuple[str, ...]) -> Cursor | None:
        """The cursor of a card shown in ``order``; None when its order value is empty (a
        queue ordered by decision date holding an undecided row): that page keeps OFFSET."""
        value = getattr(comment, order[0].lstrip("-"))
        return cls(value, int(comment.pk)) if isinstance(value, datetime) else None


def seek(
    comments: QuerySet[Comment], order: tuple[str, ...], cursor: Cursor
) -> tuple[QuerySet[Comment], tuple[str, ...]]:
    """The rows after ``cursor`` in ``order`` (before it, nearest first, when the cursor
    goes backwards), and the order to read them in. The inclusive bound on the order value
    is what lets the index range start at the cursor; the OR then drops the ties before it."""
    field = order[0].lstrip("-")
    descending = order[0].startswith("-")
    op = "gt" if descending == cursor.backwards else "lt"
    rows = comments.filter(**{f"{field}__{op}e": cursor.value}).filter(
        Q(**{f"{field}__{op}": cursor.value}) | Q(**{f"pk__{op}": cursor.pk})
    )
    if cursor.backwards:
        order = tuple(term[1:] if term.startswith("-") else f"-{term}" for term in order)
    return rows, order


def page_rows(
    comments: QuerySet[Comment], order: tuple[str, ...], start: int, stop: int
) -> QuerySet[Comment]:
    """Rows ``start``..``stop`` of ``comments`` in ``order`` with what their cards show.

    The ids are chosen first, in a subquery that reads the queue's index alone (the queue
    indexes include ``rule`` and ``fired_rules`` on PostgreSQL, so a rule filter needs no
    table row either); the page's rows and their joins are then read by primary key. Read in
    one query with the joins, a deep or filtered page fetched and joined every row it passed.
    """
    ids = comments.order_by(*order).values("pk")[start:stop]
    return with_card_rows(Comment.objects.filter(pk__in=ids)).order_by(*order)


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
        "featured": _statuses("featured").filter(site_id=site_id).count(),
        "all": sum(by_status.values()),
    }


def count_label(count: int, cap: int | None = None) -> str:
    """``count`` as shown: "N", or "cap+" past the cap."""
    cap = cap if cap is not None else int(settings.CIVILITY_QUEUE_COUNT_CAP)
    return f"{formats.number_format(cap, force_grouping=True)}+" if count > cap else str(count)


MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class Filters:
    rule: str = ""
    article: str = ""
    author: str = ""
    date_from: date | None = None
    date_to: date | None = None
    # Words the comment's text contains, all of them, in any case (a moderator looking for
    # every comment about one person or one rumour).
    words: tuple[str, ...] = ()

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
            words=tuple(query.get("q", "")[:MAX_SEARCH_LENGTH].split()[:MAX_SEARCH_WORDS]),
        )

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def active(self) -> bool:
        return bool(
            self.rule or self.article or self.author or self.date_from or self.date_to or self.words
        )

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
        for word in self.words:
            comments = comments.filter(text__icontains=word)
        tz = timezone.get_current_timezone()
        if self.date_from:
            comments = comments.filter(
                created_at__gte=datetime.combine(self.date_from, time.min, tz)
            )
        if self.date_to:
            comments = comments.filter(created_at__lte=datetime.combine(self.date_to, time.max, tz))
        return comments
