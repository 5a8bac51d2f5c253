"""Write the audit log. Every service function that changes state calls :func:`record`
inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from civility.moderation.models import AuditLog


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
) -> AuditLog:
    """Append one audit row. ``actor`` is a user or None (then ``actor_label`` says who)."""
    label = actor_label or (str(getattr(actor, "pk", "")) and f"user:{actor.pk}") or "system"
    return AuditLog.objects.create(
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
