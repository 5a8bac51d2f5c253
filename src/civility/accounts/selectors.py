"""Reads about accounts that other apps rely on."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress


def is_verified(user: Any) -> bool:
    """True when the user is active and has a verified e-mail address (required to comment)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return EmailAddress.objects.filter(user=user, verified=True).exists()
