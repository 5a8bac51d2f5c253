"""Prometheus metrics: what the web and the workers record, and what /metrics computes.

Counters and histograms live in each process. Under gunicorn (several processes) set
PROMETHEUS_MULTIPROC_DIR to an empty directory shared by the web workers (deploy/gunicorn.conf.py
does), and /metrics adds them up. Celery workers record the engine's latency and the decisions;
on the same host they share that directory, elsewhere ``civility worker --metrics-port`` serves
their own /metrics.

Gauges that describe the database (pending comments, how old the oldest waiting comment is) and
the broker (queue length) are computed when /metrics is read, so every process reports the same
figure and nothing has to keep them up to date.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

logger = logging.getLogger(__name__)

try:
    import prometheus_client
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from prometheus_client.core import GaugeMetricFamily, Metric
    from prometheus_client.registry import Collector
except ImportError:  # metrics are optional: the site works without the package
    prometheus_client = None  # type: ignore[assignment]

AVAILABLE = prometheus_client is not None
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


if AVAILABLE and multiprocess_dir():
    # prometheus_client writes one file per process there and fails if it is missing.
    os.makedirs(multiprocess_dir(), exist_ok=True)

if AVAILABLE:
    # Web requests. ``route`` is the URL pattern (api/articles/<slug>/comments), never the raw
    # path, so the number of series stays small.
    HTTP_REQUESTS = Counter(
        "civility_http_requests",
        "HTTP requests answered, by method, route and status code.",
        ["method", "route", "status"],
    )
    HTTP_LATENCY = Histogram(
        "civility_http_request_duration_seconds",
        "Time to answer an HTTP request, by method and route.",
        ["method", "route"],
        buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    )
    READ_CACHE = Counter(
        "civility_read_cache_lookups",
        "Anonymous thread reads looked up in the read cache, by result (hit or miss).",
        ["result"],
    )
    DATABASE_UNAVAILABLE = Counter(
        "civility_database_unavailable_responses",
        "Requests answered 503 because the database could not be reached.",
    )
    # Moderation, recorded from the audit log (every decision writes one row).
    COMMENTS_POSTED = Counter("civility_comments_posted", "Comments accepted (saved as pending).")
    DECISIONS = Counter(
        "civility_moderation_decisions",
        "Decisions on comments, by who decided (engine or moderator), the decision "
        "(publish, queue, reject, error) and rule (each rule the engine fired; 'none' if none).",
        ["decided_by", "decision", "rule"],
    )
    DECISION_LAG = Histogram(
        "civility_moderation_decision_lag_seconds",
        "Time from posting a comment to the engine's decision (queue wait included).",
        buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0),
    )
    # Readers' and editors' signals on comments (from the audit log too).
    ENGAGEMENT = Counter(
        "civility_comment_engagement",
        "Recommendations given and withdrawn by readers, and comments featured and unfeatured "
        "as editors' picks by moderators, by action.",
        ["action"],
    )
    ENGINE_LATENCY = Histogram(
        "civility_engine_check_seconds",
        "Time the moderation engine takes to check one comment, by stage (screen: cheap "
        "rules run inline; full: every detector, in the worker or inline).",
        ["stage"],
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    )


# --- Recording -------------------------------------------------------------------------------


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    if not AVAILABLE:
        return
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


def count_read_cache(hit: bool) -> None:
    if AVAILABLE:
        READ_CACHE.labels("hit" if hit else "miss").inc()


def count_database_unavailable() -> None:
    if AVAILABLE:
        DATABASE_UNAVAILABLE.inc()


def observe_engine(stage: str, seconds: float) -> None:
    if AVAILABLE:
        ENGINE_LATENCY.labels(stage).observe(seconds)


def record_audit_entry(action: str, rule: str, data: dict[str, Any], target_id: str) -> None:
    """Turn one audit-log row into metrics (called on every new AuditLog row)."""
    if not AVAILABLE:
        return
    if action == "comment.posted":
        COMMENTS_POSTED.inc()
    elif action == "comment.engine_decision":
        _count_engine_decision(data)
        _observe_decision_lag(target_id)
    elif action == "comment.engine_failed":
        DECISIONS.labels("engine", "error", "none").inc()
        _observe_decision_lag(target_id)
    elif action == "comment.approved":
        DECISIONS.labels("moderator", "publish", rule or "none").inc()
    elif action == "comment.rejected":
        DECISIONS.labels("moderator", "reject", rule or "none").inc()
    elif action in ENGAGEMENT_ACTIONS:
        ENGAGEMENT.labels(ENGAGEMENT_ACTIONS[action]).inc()


# Audit actions counted by civility_comment_engagement, and their label.
ENGAGEMENT_ACTIONS = {
    "comment.recommended": "recommended",
    "comment.recommendation_withdrawn": "recommendation_withdrawn",
    "comment.featured": "featured",
    "comment.unfeatured": "unfeatured",
}


def record_engine_decision(data: dict[str, Any], comment_created_at: datetime) -> None:
    """What ``record_audit_entry`` counts for an engine decision, for rows written in bulk
    (which send no post_save); the caller has the comment's creation time at hand."""
    if not AVAILABLE:
        return
    _count_engine_decision(data)
    _observe_lag_since(comment_created_at)


def _count_engine_decision(data: dict[str, Any]) -> None:
    decision = str(data.get("decision") or "unknown")
    for fired in list(data.get("rules") or []) or ["none"]:
        DECISIONS.labels("engine", decision, str(fired)).inc()


def _observe_decision_lag(comment_id: str) -> None:
    from civility.discussion.models import Comment

    created = (
        Comment.objects.filter(pk=int(comment_id)).values_list("created_at", flat=True).first()
        if comment_id.isdigit()
        else None
    )
    if created is not None:
        _observe_lag_since(created)


def _observe_lag_since(created: datetime) -> None:
    from django.utils import timezone

    DECISION_LAG.observe(max(0.0, (timezone.now() - created).total_seconds()))


# --- Scrape-time gauges -------------------------------------------------------------------------


def broker_queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue, when the broker is Redis ({} otherwise)."""
    from django.conf import settings

    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return {}
    import redis

    queues = {str(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "") or "celery")}
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        # Celery on Redis keeps a queue as a list named after it (priority lists carry a suffix).
        return {queue: int(client.llen(queue)) for queue in sorted(queues)}  # type: ignore[arg-type]
    finally:
        client.close()


if AVAILABLE:

    class ScrapeTimeCollector(Collector):
        """Gauges read from the database and the broker each time /metrics is scraped."""

        def collect(self) -> Iterator[Metric]:
            up = GaugeMetricFamily(
                "civility_metrics_database_up",
                "1 when the database answered the scrape-time queries, 0 when it did not.",
            )
            try:
                gauges = list(self._database_gauges())
            except Exception as exc:  # /metrics keeps working while the database is down
                logger.warning("database gauges unavailable: %s", exc)
                gauges = []
            up.add_metric([], 1.0 if gauges else 0.0)
            yield up
            yield from gauges
            yield from self._broker_gauges()

        def _database_gauges(self) -> Iterator[Metric]:
            from django.db.models import Count, Min
            from django.utils import timezone

            from civility.discussion.models import Comment, CommentStatus, HoldReason

            pending = GaugeMetricFamily(
                "civility_comments_pending",
                "Comments pending now, by why they wait (awaiting_engine, edited: the engine; "
                "engine, premoderation: a moderator).",
                labels=["hold_reason"],
            )
            by_reason = dict(
                Comment.objects.filter(status=CommentStatus.PENDING)
                .values("hold_reason")
                .annotate(total=Count("id"))
                .order_by()
                .values_list("hold_reason", "total")
            )
            for reason in HoldReason:
                label = str(reason.value) or "awaiting_engine"
                pending.add_metric([label], float(by_reason.get(reason.value, 0)))
            yield pending

            oldest = Comment.objects.filter(
                status=CommentStatus.PENDING,
                hold_reason__in=[HoldReason.AWAITING_ENGINE, HoldReason.EDITED],
            ).aggregate(oldest=Min("created_at"))["oldest"]
            lag = GaugeMetricFamily(
                "civility_moderation_queue_lag_seconds",
                "Age of the oldest comment still waiting for the engine (0 when none waits).",
            )
            lag.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
            yield lag

        def _broker_gauges(self) -> Iterator[Metric]:
            try:
                lengths = broker_queue_lengths()
            except Exception as exc:  # the broker being down must not break /metrics
                logger.warning("broker queue length unavailable: %s", exc)
                lengths = {}
            if lengths:
                queue = GaugeMetricFamily(
                    "civility_broker_queue_length",
                    "Tasks waiting in the broker, by queue.",
                    labels=["queue"],
                )
                for name, length in lengths.items():
                    queue.add_metric([name], float(length))
                yield queue

            scraped = GaugeMetricFamily(
                "civility_metrics_scrape_timestamp_seconds",
                "When these gauges were computed (Unix time).",
            )
            scraped.add_metric([], time.time())
            yield scraped


def render(include_database: bool = True) -> bytes:
    """The Prometheus text exposition of every metric this deployment records."""
    if not AVAILABLE:
        raise RuntimeError("prometheus_client is not installed")
    from prometheus_client import generate_latest
    from prometheus_client import multiprocess as prometheus_multiprocess

    if multiprocess_dir():
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        output = generate_latest(registry)
    else:
        output = generate_latest(prometheus_client.REGISTRY)
    if include_database:
        scrape_registry = CollectorRegistry(auto_describe=False)
        scrape_registry.register(ScrapeTimeCollector())
        output += generate_latest(scrape_registry)
    return output
