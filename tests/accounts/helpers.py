"""Shared helpers for account and notification tests: named users, captcha, mail links."""

from __future__ import annotations

import re
from typing import Any

from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from django.urls import reverse

from civility.accounts import captcha
from civility.accounts.models import User

PASSWORD = "correct horse battery staple 42"


def clear_shared_cache() -> None:
    """Forget rate-limit counters and used captchas between tests (only our test keys on Redis)."""
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(f"{cache.key_prefix}:*"):
            client.delete(key)
    else:
        cache.clear()


def make_user(
    email: str, *, display_name: str = "", verified: bool = True, password: str = PASSWORD
) -> User:
    """A named reader who can sign in (verified e-mail by default)."""
    user = User.objects.create_user(
        username=email.split("@")[0], email=email, password=password, display_name=display_name
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def signed_in_client(user: User, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def solved_captcha(client: Client) -> str:
    """Fetch a challenge over HTTP and solve it like the browser widget does."""
    response = client.get(reverse("accounts:captcha_challenge"))
    assert response.status_code == 200
    return captcha.solve(response.json())


def links_in_last_mail(pattern: str = r"https?://\S+") -> list[str]:
    assert mail.outbox, "no mail was sent"
    return re.findall(pattern, str(mail.outbox[-1].body))


def mail_to(address: str) -> list[Any]:
    return [message for message in mail.outbox if address in message.to]


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)
