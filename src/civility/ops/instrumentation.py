"""Recording moderation metrics without touching the discussion app's code.

* Decisions, by rule: every decision writes an audit-log row (moderation.audit.record), so a
  post_save receiver on AuditLog sees each one, inline or in a worker, engine or moderator.
* Engine latency: :meth:`Engine.check` is wrapped once per process with a timer. The engine
  stays free of Django and of Prometheus; only this module knows about both.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from civility.ops import metrics

_WRAPPED_FLAG = "_civility_timed"


def on_audit_entry(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if not created:
        return
    metrics.record_audit_entry(
        str(instance.action),
        str(instance.rule or ""),
        dict(instance.data or {}),
        str(instance.target_id),
    )


def stage_of(engine: Any) -> str:
    """ "screen" for the discussion app's inline engine of cheap rules, "full" otherwise."""
    from civility.discussion import engine as discussion_engine

    # The discussion app keeps its current engines in a module global (one set per process).
    current = getattr(discussion_engine, "_current", None)
    if current is not None and engine is current.screen and engine is not current.full:
        return "screen"
    return "full"


def time_engine_checks() -> None:
    """Wrap Engine.check so every call observes civility_engine_check_seconds (idempotent)."""
    from civility.standards.engine import Engine

    original = Engine.check
    if getattr(original, _WRAPPED_FLAG, False):
        return

    @functools.wraps(original)
    def timed_check(self: Engine, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            metrics.observe_engine(stage_of(self), time.perf_counter() - started)

    setattr(timed_check, _WRAPPED_FLAG, True)
    Engine.check = timed_check  # type: ignore[method-assign]


def install() -> None:
    from django.db.models.signals import post_save

    from civility.moderation.models import AuditLog

    post_save.connect(on_audit_entry, sender=AuditLog, dispatch_uid="civility.ops.audit_metrics")
    time_engine_checks()
