"""Clients that read the site in one language, and privacy-policy versions to publish."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.test import Client
from django.utils import timezone

from civility.accounts import services
from civility.accounts.models import PrivacyPolicyVersion, User
from tests.accounts.helpers import make_user, signed_in_client


def reader_client(language: str) -> Client:
    """A signed-out browser whose language cookie asks for ``language``."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def signed_in_reader(user: User, language: str) -> Client:
    client = signed_in_client(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def published_policy(
    language: str, version: str, text: str, *, at: datetime.datetime | None = None
) -> PrivacyPolicyVersion:
    policy = PrivacyPolicyVersion.objects.create(
        language=language, version=version, title=f"Policy {language} {version}", text=text
    )
    services.publish_privacy_policy(policy)
    if at is not None:
        PrivacyPolicyVersion.objects.filter(pk=policy.pk).update(published_at=at)
        policy.refresh_from_db()
    return policy


def member_since_last_week(email: str) -> User:
    """A reader who joined before any policy below was published."""
    user = make_user(email)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - datetime.timedelta(days=7))
    user.refresh_from_db()
    return user
