"""Work a web request hands over to run once its response has been sent.

A post queues its comment for the engine (a Celery publish: a Redis round trip or two) when
its transaction commits. The author does not need to wait for that: the comment is saved,
and the answer says it is pending either way. :func:`run_after_response` runs a callback
once the current response has been sent when the application runs behind
:class:`AfterResponse` (deploy/gunicorn.conf.py puts it in front: the WSGI server closes the
response after it has written it to the client), and at once anywhere else (Celery tasks,
commands, the test client, a server without the config file).

If the process dies between the response and the callback, the comment is still decided:
the sweeper re-queues comments left pending (discussion.tasks.moderate_stale_pending_task).
In the load benchmark a post's publish was one of its five Redis round trips, and on a busy
host a round trip can wait hundreds of milliseconds (benchmarks/LOAD.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

_state = threading.local()


def run_after_response(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current response is sent, or now outside such a request."""
    queue: list[Callable[[], None]] | None = getattr(_state, "queue", None)
    if queue is None:
        callback()
        return
    queue.append(callback)


def _run_queued() -> None:
    queue: list[Callable[[], None]] | None = getattr(_state, "queue", None)
    _state.queue = None
    for callback in queue or ():
        try:
            callback()
        except Exception:  # the response is gone; the sweeper catches what is left undone
            logger.exception("work after the response failed")


class _ClosingBody:
    """The application's response body; closing it (the server does, once it has written
    the response) runs the queued work."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self.body = body

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            _run_queued()


class AfterResponse:
    """WSGI wrapper: work queued with :func:`run_after_response` while the application serves
    an unsafe request (a post) runs when the server closes the response."""

    def __init__(self, application: Callable[..., Any]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
            return self.application(environ, start_response)
        _run_queued()  # nothing is left over from an earlier request, but be sure
        _state.queue = []
        try:
            body = self.application(environ, start_response)
        except BaseException:
            _run_queued()
            raise
        return _ClosingBody(body)


def after_response(application: Callable[..., Any]) -> Callable[..., Any]:
    """``application`` behind an :class:`AfterResponse` (once)."""
    if isinstance(application, AfterResponse):
        return application
    return AfterResponse(application)
