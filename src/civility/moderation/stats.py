"""Figures for the moderation dashboard."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus
from civility.moderation.models import Appeal, AuditLog
from civility.moderation.queues import exact_queue_counts
from civility.standards.rules import RULES_BY_SLUG


def comments_per_day(site_id: int, days: int = 30) -> list[tuple[date, int]]:
    since = timezone.now() - timedelta(days=days - 1)
    rows = (
        Comment.objects.filter(site_id=site_id, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(total=Count("id"))
    )
    by_day = {row["day"]: row["total"] for row in rows}
    today = timezone.localdate()
    return [
        (day, by_day.get(day, 0))
        for day in (today - timedelta(days=n) for n in range(days - 1, -1, -1))
    ]


def decisions_by_rule(site_id: int, days: int = 30) -> list[tuple[str, int, int]]:
    """(rule label, removed by the engine, removed by moderators), most frequent first."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Comment.objects.filter(
            site_id=site_id, status=CommentStatus.REJECTED, decided_at__gte=since
        )
        .values("rule", "decided_by")
        .annotate(total=Count("id"))
    )
    engine: Counter[str] = Counter()
    human: Counter[str] = Counter()
    for row in rows:
        (engine if row["decided_by"] == "engine" else human)[row["rule"] or "?"] += row["total"]
    rules = sorted(set(engine) | set(human), key=lambda r: -(engine[r] + human[r]))
    return [
        (
            f"{RULES_BY_SLUG[r].number}. {RULES_BY_SLUG[r].title}" if r in RULES_BY_SLUG else r,
            engine[r],
            human[r],
        )
        for r in rules
    ]


def median_decision_seconds(site_id: int, days: int = 30) -> dict[str, float | None]:
    """Median time from posting to the decision, for the engine and for moderators."""
    since = timezone.now() - timedelta(days=days)
    out: dict[str, float | None] = {}
    for who in ("engine", "moderator"):
        pairs = (
            Comment.objects.filter(
                site_id=site_id,
                decided_by=who,
                decided_at__isnull=False,
                created_at__gte=since,
            )
            .order_by("-created_at")
            .values_list("created_at", "decided_at")[:5000]
        )
        waits = [
            max(0.0, (decided - created).total_seconds()) for created, decided in pairs if decided
        ]
        out[who] = statistics.median(waits) if waits else None
    return out


def median_decision_by_day(site_id: int, days: int = 30) -> list[tuple[date, float, float]]:
    """Per day of posting: median minutes to a decision by the engine and by moderators."""
    since = timezone.now() - timedelta(days=days - 1)
    rows = (
        Comment.objects.filter(site_id=site_id, decided_at__isnull=False, created_at__gte=since)
        .order_by("-created_at")
        .values_list("created_at", "decided_at", "decided_by")[:20000]
    )
    waits: dict[tuple[date, str], list[float]] = {}
    for created, decided, who in rows:
        if decided is None:
            continue
        day = timezone.localtime(created).date()
        waits.setdefault((day, who), []).append(max(0.0, (decided - created).total_seconds()) / 60)
    today = timezone.localdate()
    out = []
    for n in range(days - 1, -1, -1):
        day = today - timedelta(days=n)
        engine = waits.get((day, "engine"), [])
        human = waits.get((day, "moderator"), [])
        out.append(
            (
                day,
                statistics.median(engine) if engine else 0.0,
                statistics.median(human) if human else 0.0,
            )
        )
    return out


def appeal_outcomes() -> dict[str, int]:
    rows = Appeal.objects.values("status").annotate(total=Count("id"))
    counts = {"open": 0, "restored": 0, "refused": 0}
    counts.update({row["status"]: row["total"] for row in rows})
    return counts


# What each moderator did, as the audit log names it: column -> actions.
MODERATOR_ACTIONS = {
    "approved": ("comment.approved",),
    "removed": ("comment.rejected",),
    "edited": ("comment.edited_by_moderator",),
    "featured": ("comment.featured",),
}
TOP_MODERATORS = 10


def decisions_by_moderator(site_id: int, days: int = 30) -> list[tuple[str, dict[str, int]]]:
    """(moderator's name, {column: count}) of the site's moderators over the last ``days``,
    busiest first, at most TOP_MODERATORS: one grouped query over the audit log (its
    site-and-time index), one for the names."""
    from django.contrib.auth import get_user_model

    since = timezone.now() - timedelta(days=days)
    column_of = {
        action: column for column, actions in MODERATOR_ACTIONS.items() for action in actions
    }
    rows = (
        AuditLog.objects.filter(
            site_id=site_id,
            created_at__gte=since,
            action__in=list(column_of),
            actor__isnull=False,
        )
        .order_by()
        .values_list("actor_id", "action")
        .annotate(total=Count("id"))
    )
    counts: dict[int, Counter[str]] = {}
    for actor_id, action, total in rows:
        counts.setdefault(actor_id, Counter())[column_of[action]] += total
    busiest = sorted(counts, key=lambda actor: (-sum(counts[actor].values()), actor))
    busiest = busiest[:TOP_MODERATORS]
    names = {
        user.pk: str(user.public_name()) for user in get_user_model().objects.filter(pk__in=busiest)
    }
    return [
        (
            names.get(actor, str(actor)),
            {column: counts[actor][column] for column in MODERATOR_ACTIONS},
        )
        for actor in busiest
    ]


def dashboard(site_id: int) -> dict[str, Any]:
    """The figures of one site (unlock requests are about shared accounts: every site)."""
    return {
        "per_day": comments_per_day(site_id),
        "by_rule": decisions_by_rule(site_id),
        "queues": exact_queue_counts(site_id),
        "median": median_decision_seconds(site_id),
        "median_by_day": median_decision_by_day(site_id),
        "appeals": appeal_outcomes(),
        "by_moderator": decisions_by_moderator(site_id),
    }
