"""Celery tasks: thin wrappers around plain service functions (which also run inline).

The task is acknowledged late and re-queued if the worker dies (settings), and the sweeper
decides anything left waiting, so a comment that was accepted always reaches a decision.
"""

from __future__ import annotations

from celery import shared_task

from civility.discussion import services


@shared_task(
    name="civility.discussion.moderate_comment",
    autoretry_for=(Exception,),
    max_retries=5,
    retry_backoff=True,
)
def moderate_comment_task(comment_id: int) -> str | None:
    return services.moderate_comment(comment_id)


@shared_task(name="civility.discussion.moderate_stale_pending")
def moderate_stale_pending_task() -> int:
    return services.moderate_stale_pending()
