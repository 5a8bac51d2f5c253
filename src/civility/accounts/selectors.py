"""Reads about accounts that other apps rely on."""

from __future__ import annotations

import importlib
from typing import Any

from allauth.account.models import EmailAddress
from django.core.cache import cache

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


ACTIVE_PRIVACY_POLICY_CACHE_KEY = "civility:privacy-policy:active"
ACTIVE_PRIVACY_POLICY_CACHE_SECONDS = 30
CONSENT_SESSION_KEY = "civility_privacy_consent_version"


def active_privacy_policy() -> PrivacyPolicyVersion | None:
    """The newest published privacy policy, or None before the first is published.

    Every signed-in request asks, so the answer is cached briefly; publishing clears it.
    """
    cached = cache.get(ACTIVE_PRIVACY_POLICY_CACHE_KEY)
    if cached is not None:
        return cached or None
    policy = PrivacyPolicyVersion.objects.published().order_by("-published_at", "-id").first()
    cache.set(ACTIVE_PRIVACY_POLICY_CACHE_KEY, policy or False, ACTIVE_PRIVACY_POLICY_CACHE_SECONDS)
    return policy


def forget_active_privacy_policy() -> None:
    cache.delete(ACTIVE_PRIVACY_POLICY_CACHE_KEY)


def needs_privacy_consent(user: Any, session: Any = None) -> PrivacyPolicyVersion | None:
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
    if session is not None and session.get(CONSENT_SESSION_KEY) == policy.version:
        return None
    agreed = Consent.objects.filter(
        user=user,
        kind=Consent.Kind.PRIVACY,
        version=policy.version,
        choice=Consent.Choice.AGREED,
        withdrawn_at__isnull=True,
    ).exists()
    if agreed and session is not None:
        session[CONSENT_SESSION_KEY] = policy.version
    return None if agreed else policy
