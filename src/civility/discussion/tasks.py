"""Celery tasks: thin wrappers around plain functions (which also run inline).

Every task is acknowledged late and re-queued if the worker dies (settings), and the sweeper
decides anything left waiting, so a comment that was accepted always reaches a decision.

A backlog (the sweeper's finds, a queue that grew while workers were down) is decided in
batches: one :meth:`Engine.check_many` call per batch, one recent-comments read per batch
for the cross-comment rules instead of two per comment, and the decisions written together by
``services.apply_engine_verdicts``, which writes each once (under a row lock, only while the
comment still awaits the engine) however often a batch is delivered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from celery import shared_task

from civility.discussion import services
from civility.discussion.context import DatabaseContext
from civility.discussion.engine import current_engines
from civility.discussion.models import Comment, CommentStatus
from civility.standards.types import Context, RecentComment

logger = logging.getLogger(__name__)

# Comments per batch task: large enough that the per-batch reads and the engine's batching pay
# off, small enough that a worker killed mid-batch redoes little (decided ones are skipped).
BATCH_SIZE = 200
# The most comments one sweep queues; the next sweep (a minute later) takes the rest.
SWEEP_LIMIT = 20_000


# Failures retry with exponential backoff; a message is acknowledged only once its task ran.
RETRIED: dict[str, Any] = {
    "autoretry_for": (Exception,),
    "max_retries": 5,
    "retry_backoff": True,
    "acks_late": True,
}


@shared_task(name="civility.discussion.moderate_comment", **RETRIED)
def moderate_comment_task(comment_id: int) -> str | None:
    return services.moderate_comment(comment_id)


@shared_task(name="civility.discussion.moderate_comments", **RETRIED)
def moderate_comments_task(comment_ids: list[int]) -> int:
    return moderate_batch(comment_ids)


@shared_task(name="civility.discussion.moderate_stale_pending", acks_late=True)
def moderate_stale_pending_task() -> int:
    """The sweeper (beat, every minute): queue comments waiting too long, in batches."""
    return queue_batches(stale_pending_ids())


def stale_pending_ids(older_than_seconds: int | None = None, limit: int = SWEEP_LIMIT) -> list[int]:
    """Comments still awaiting the engine after ``older_than_seconds``, oldest first (the
    sweeper's share: up to SWEEP_LIMIT)."""
    return services.stale_pending_ids(older_than_seconds, limit)


def batches(ids: Sequence[int], size: int | None = None) -> Iterable[list[int]]:
    size = size or BATCH_SIZE
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def queue_batches(ids: Sequence[int], size: int | None = None) -> int:
    """One batch task per ``size`` ids, so every worker takes a share; returns how many ids
    were queued. If the broker refuses, the batches are decided here."""
    queued = 0
    for batch in batches(ids, size):
        try:
            moderate_comments_task.delay(batch)
        except Exception:
            logger.exception("broker unavailable; deciding a batch of %s inline", len(batch))
            moderate_batch(batch)
        queued += len(batch)
    return queued


def moderate_batch(comment_ids: Sequence[int]) -> int:
    """Decide the comments among ``comment_ids`` that still await the engine; returns how many
    this call decided. Safe to run twice, or concurrently with single-comment tasks."""
    comments = list(
        Comment.objects.filter(pk__in=list(comment_ids), status=CommentStatus.PENDING)
        .filter(hold_reason__in=services.AWAITING_ENGINE)
        .select_related("thread", "thread__article", "parent")
        .order_by("created_at", "id")
    )
    by_site: dict[int | None, list[Comment]] = {}
    for comment in comments:
        by_site.setdefault(comment.site_id, []).append(comment)
    # Each site judges by its own policy, and its cross-comment rules count its own comments.
    return sum(_decide_site_batch(site_id, batch) for site_id, batch in by_site.items())


def _decide_site_batch(site_id: int | None, comments: list[Comment]) -> int:
    engines = current_engines(site_id)
    engine = engines.full
    database = DatabaseContext(site_id)
    started = time.perf_counter()
    try:
        verdicts = engine.check_many(
            [services._engine_comment(c) for c in comments],
            BatchContext(
                database,
                authors={str(c.author_id) for c in comments},
                read_authors=database.recent_comments_by_author,
            ),
        )
    except Exception:
        # One comment the engine refuses (too long for a changed policy, a detector failing on
        # it) must not hold up the rest: decide them one by one, as the single task does.
        logger.exception("batch of %s failed in the engine; deciding one by one", len(comments))
        return sum(services.moderate_comment(c.pk) is not None for c in comments)
    _observe_batch(len(comments), time.perf_counter() - started)
    decided = services.apply_engine_verdicts(
        [(comment.pk, verdict) for comment, verdict in zip(comments, verdicts, strict=True)],
        # The policy the engine judged by says whether the site is pre-moderated as a whole.
        site_wide={comment.site_id: engines.premoderate_all for comment in comments},
        # An edit since this batch read the comment: the edit's own task judges its new text.
        judged={comment.pk: comment.edited_at for comment in comments},
    )
    return len(decided)


def _observe_batch(count: int, seconds: float) -> None:
    from civility.ops import metrics

    for _ in range(count):
        metrics.observe_engine("full", seconds / count)


# (author ids, since, limit) -> per author, the newest ``limit`` rows since ``since``.
AuthorsReader = Callable[[Sequence[str], datetime, int], dict[str, Sequence[RecentComment]]]


class BatchContext:
    """The engine's :class:`Context` for one batch, over another context (the database).

    The cross-comment rules ask, for every comment, for the newest comments since a moment
    a little before it. For comments taken oldest first, each answer lies within the newest
    ``limit`` rows the first question fetched, so one read serves the batch. The per-author
    rule asks the same of each author: with ``authors`` (the batch's) and ``read_authors``,
    the first such question reads every one of them at once, instead of one read per author
    (a backlog of many authors' comments asked up to one read per comment). A batch sees the
    comments that existed when it started.
    """

    def __init__(
        self,
        inner: Context,
        *,
        authors: Iterable[str] = (),
        read_authors: AuthorsReader | None = None,
    ) -> None:
        self.inner = inner
        self.authors = {a for a in authors if a.isdigit()} if read_authors else set()
        self.read_authors = read_authors
        # author id (None: everyone) -> (since, limit, newest-first rows) of the last read.
        self._reads: dict[str | None, tuple[datetime, int, Sequence[RecentComment]]] = {}

    def recent_comments(
        self, *, since: datetime, author_id: str | None = None, limit: int = 500
    ) -> Sequence[RecentComment]:
        read = self._reads.get(author_id)
        if read is not None and since >= read[0] and limit <= read[1]:
            # Rows at or after ``since`` are a prefix of the newest-first rows read since an
            # earlier moment; the newest ``limit`` of them are among those read.
            newer = [row for row in read[2] if row.created_at >= since]
            return newer[:limit]
        if self.read_authors is not None and author_id in self.authors:
            # Every batch author not read yet, since this moment: the later questions (later
            # comments, later moments) are answered from these rows as above.
            unread = sorted(a for a in self.authors if a not in self._reads or a == author_id)
            found = self.read_authors(unread, since, limit)
            for author in unread:
                self._reads[author] = (since, limit, found.get(author, []))
            return self._reads[author_id][2]
        rows = self.inner.recent_comments(since=since, author_id=author_id, limit=limit)
        self._reads[author_id] = (since, limit, rows)
        return rows
