"""Reads about accounts that other apps rely on."""

from __future__ import annotations

import importlib
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import translation

from civility.accounts import legal
from civility.accounts.models import Consent, PrivacyPolicyVersion


def verified_addresses(user_id: Any) -> QuerySet[EmailAddress]:
    """The user's verified e-mail addresses (``user_id`` may be an expression): one of them,
    and an active account, is what commenting requires."""
    return EmailAddress.objects.filter(user_id=user_id, verified=True)


def is_verified(user: Any) -> bool:
    """True when the user is active and has a verified e-mail address (required to comment)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return verified_addresses(user.pk).exists()


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


def standards_version(language: str | None = None) -> str:
    """The exact community-standards text a reader of ``language`` accepts, as one string.

    It names the moderation policy in force, the language of the text and that text's
    revision, e.g. ``19c72e3d006e/ru-1``: a consent stores it, so it points at what was read.
    """
    text = legal.standards_text(language)
    return f"{active_policy().version}/{text.language}-{text.revision}"


ACTIVE_PRIVACY_POLICY_CACHE_KEY = "civility:privacy-policy:active"
ACTIVE_PRIVACY_POLICY_CACHE_SECONDS = 30
CONSENT_SESSION_KEY = "civility_privacy_consent_version"


def privacy_language(language: str | None = None) -> str:
    """The interface language a privacy policy is looked up for (default: the active one)."""
    wanted = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    supported = {code for code, _name in settings.LANGUAGES}
    for candidate in (wanted, wanted.split("-")[0]):
        if candidate in supported:
            return candidate
    return legal.FALLBACK_LANGUAGE


def _cache_key(language: str) -> str:
    return f"{ACTIVE_PRIVACY_POLICY_CACHE_KEY}:{language}"


def _newest_published(language: str) -> PrivacyPolicyVersion | None:
    return (
        PrivacyPolicyVersion.objects.published()
        .filter(language=language)
        .order_by("-published_at", "-id")
        .first()
    )


def active_privacy_policy(language: str | None = None) -> PrivacyPolicyVersion | None:
    """The privacy policy in force for readers of ``language``, or None before any is published.

    Each language has its own versions: the newest published one in that language, else the
    newest published English one. Every signed-in request asks, so the answer is cached
    briefly per language; publishing clears it.
    """
    code = privacy_language(language)
    key = _cache_key(code)
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    policy = _newest_published(code)
    if policy is None and code != legal.FALLBACK_LANGUAGE:
        policy = _newest_published(legal.FALLBACK_LANGUAGE)
    cache.set(key, policy or False, ACTIVE_PRIVACY_POLICY_CACHE_SECONDS)
    return policy


def forget_active_privacy_policy() -> None:
    cache.delete_many([_cache_key(code) for code, _name in settings.LANGUAGES])


def needs_privacy_consent(
    user: Any, session: Any = None, language: str | None = None
) -> PrivacyPolicyVersion | None:
    """The policy a signed-in user must consent to before going on, or None.

    The policy is the one in force for the language the user reads in; agreeing counts for
    that exact text (language and version). A user who agreed to it (or who signed up after it
    was published, which counts as agreeing to it) goes on.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    policy = active_privacy_policy(language)
    if policy is None or policy.published_at is None:
        return None
    if user.date_joined >= policy.published_at:
        return None
    session_value = f"{policy.language}:{policy.version}"
    if session is not None and session.get(CONSENT_SESSION_KEY) == session_value:
        return None
    agreed = Consent.objects.filter(
        user=user,
        kind=Consent.Kind.PRIVACY,
        version=policy.version,
        language=policy.language,
        choice=Consent.Choice.AGREED,
        withdrawn_at__isnull=True,
    ).exists()
    if agreed and session is not None:
        session[CONSENT_SESSION_KEY] = session_value
    return None if agreed else policy
