"""State changes of the security app: each writes one audit row (design.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from civility.moderation.audit import record

MIN_REVEAL_REASON = 10


class RevealRefused(ValueError):
    """Not staff, or no reason given."""


@dataclass
class RevealedData:
    email: str
    signup_ip: str
    last_login_ip: str
    # Other accounts that signed up or signed in from the same (hashed) address: a troll ring.
    same_address_accounts: list[Any] = field(default_factory=list)


def reveal_personal_data(subject: Any, *, by: Any, reason: str) -> RevealedData:
    """Show a user's contact and network data to a staff member, and log that it was shown.

    Moderators see a public name and the history of an account, nothing more; when an
    e-mail address or an address comparison is really needed (a legal request, a troll ring),
    a staff member reveals it here, with a reason that the audit log keeps.
    """
    if not (getattr(by, "is_authenticated", False) and by.is_active and by.is_staff):
        raise RevealRefused(_("Only staff may reveal personal data."))
    reason = (reason or "").strip()
    if len(reason) < MIN_REVEAL_REASON:
        raise RevealRefused(
            _("Give the reason (at least %(count)d characters).") % {"count": MIN_REVEAL_REASON}
        )
    addresses = {ip for ip in (subject.signup_ip, subject.last_login_ip) if ip}
    user_model = get_user_model()
    same = (
        user_model.objects.exclude(pk=subject.pk)
        .filter(signup_ip__in=addresses)
        .union(user_model.objects.exclude(pk=subject.pk).filter(last_login_ip__in=addresses))
        if addresses
        else user_model.objects.none()
    )
    with transaction.atomic():
        record(
            "personal_data.revealed",
            subject,
            actor=by,
            subject_user=subject,
            data={"reason": reason[:500], "fields": ["email", "signup_ip", "last_login_ip"]},
        )
    return RevealedData(
        email=subject.email,
        signup_ip=subject.signup_ip or "",
        last_login_ip=subject.last_login_ip or "",
        same_address_accounts=list(same[:50]),
    )
