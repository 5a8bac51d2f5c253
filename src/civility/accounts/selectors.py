"""Reads about accounts that other apps rely on."""

from __future__ import annotations

import importlib
from typing import Any

from allauth.account.models import EmailAddress

from civility.accounts.models import Consent, PrivacyPolicyVersion


def is_verified(user: Any) -> bool:
    """True when the user is active and has a verified e-mail address (required to comment)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return EmailAddress.objects.filter(user=user, verified=True).exists()


def active_policy() -> Any:
    """The moderation policy in force: the moderation app's, or the shipped default."""
    try:
        selectors = importlib.import_module("civility.moderation.selectors")
        policy = selectors.active_policy()
    except (ImportError, AttributeError):
        from civility.standards.policy import default_policy

        return default_policy()
    # The moderation app answers (policy, saved version or None).
    return policy[0] if isinstance(policy, tuple) else policy


def standards_version() -> str:
    """Version of the community standards a new account accepts."""
    return str(active_policy().version)


def active_privacy_policy() -> PrivacyPolicyVersion | None:
    """The newest published privacy policy, or None before the first is published."""
    return PrivacyPolicyVersion.objects.published().order_by("-published_at", "-id").first()


def needs_privacy_consent(user: Any) -> PrivacyPolicyVersion | None:
    """The policy a signed-in user must consent to before going on, or None.

    A user who agreed to the version in force (or who signed up after it was published, which
    counts as agreeing to it) goes on.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    policy = active_privacy_policy()
    if policy is None or policy.published_at is None:
        return None
    if user.date_joined >= policy.published_at:
        return None
    agreed = Consent.objects.filter(
        user=user,
        kind=Consent.Kind.PRIVACY,
        version=policy.version,
        choice=Consent.Choice.AGREED,
        withdrawn_at__isnull=True,
    ).exists()
    return None if agreed else policy
