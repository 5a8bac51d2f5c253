"""Write the audit log. Every service function that changes state calls :func:`record`
inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.dispatch import Signal

from civility.moderation.models import AuditLog

# Sent with ``rows`` (a list of AuditLog) inside the writer's transaction, by record() and by
# the writers that bulk-create rows, so that other apps (webhooks) can act on every recorded
# change without each service calling them.
audit_recorded = Signal()


def record(
    action: str,
    target: models.Model,
    *,
    actor: Any = None,
    actor_label: str = "",
    subject_user: Any = None,
    rule: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    engine_version: str = "",
    policy_version: str = "",
    site_id: int | None = None,
) -> AuditLog:
    """Append one audit row. ``actor`` is a user or None (then ``actor_label`` says who).

    The row belongs to ``site_id``, else to the target's site when it has one (comments,
    threads, policies); account-wide changes belong to no site.
    """
    label = actor_label or (str(getattr(actor, "pk", "")) and f"user:{actor.pk}") or "system"
    if site_id is None:
        site_id = getattr(target, "site_id", None)
    row = AuditLog.objects.create(
        site_id=site_id,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=label,
        subject_user=subject_user,
        rule=rule,
        before=before or {},
        after=after or {},
        data=data or {},
        engine_version=engine_version,
        policy_version=policy_version,
    )
    audit_recorded.send(sender=AuditLog, rows=[row])
    return row
