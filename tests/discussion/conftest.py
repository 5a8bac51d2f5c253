"""Named fixture users and an article, shared by the discussion and moderation tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client


def make_user(
    email: str,
    *,
    name: str = "",
    moderator: bool = False,
    staff: bool = False,
    verified: bool = True,
    password: str = "correct horse battery",
) -> Any:
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(
        username=email.split("@")[0],
        email=email,
        password=password,
        display_name=name or email.split("@")[0].title(),
        is_staff=staff,
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    if moderator:
        group, _ = Group.objects.get_or_create(name="moderators")
        user.groups.add(group)
    return user


def make_article(slug: str = "peace-treaty-talks", **fields: Any) -> Any:
    from civility.news.models import Article

    defaults = {
        "headline": "Russia and Japan resume peace treaty talks over the Kuril islands",
        "lead": "Foreign ministers met in Moscow to discuss a peace treaty and the disputed islands.",
        "body": "<p>The foreign ministers of Russia and Japan met in Moscow on Monday to resume "
        "talks on a peace treaty formally ending the Second World War. The dispute over the "
        "southern Kuril islands, which Japan calls the Northern Territories, has blocked a "
        "treaty for decades. Both sides said the negotiations on joint economic activity on "
        "the islands would continue.</p>",
    }
    defaults.update(fields)
    return Article.objects.create(slug=slug, **defaults)


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any) -> Iterator[None]:
    # Rate-limit counters live in the cache; each test starts from zero.
    cache.clear()
    settings.CIVILITY_RATE_POST = "1000/60"
    settings.CIVILITY_RATE_REPORT = "1000/60"
    settings.CIVILITY_RATE_TOKEN = "1000/60"
    settings.CIVILITY_RATE_CONTACT = "1000/60"
    settings.CIVILITY_RATE_UNLOCK = "1000/60"
    yield
    cache.clear()


@pytest.fixture
def lenient_policy(db: Any) -> Any:
    """Every rule switched off: for tests about threads and pages, not about the engine's
    scores (which other work tunes)."""
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy
    from civility.standards.policy import Policy

    base = site_default_policy()
    rules = {slug: {"enabled": False} for slug in base.rules}
    return save_policy(Policy.from_dict({"rules": rules}, base=base), by=None, note="tests")


@pytest.fixture
def reader(db: Any) -> Any:
    return make_user("alice@example.org", name="Alice")


@pytest.fixture
def other_reader(db: Any) -> Any:
    return make_user("bob@example.org", name="Bob")


@pytest.fixture
def moderator(db: Any) -> Any:
    return make_user("mona@example.org", name="Mona", moderator=True)


@pytest.fixture
def article(db: Any) -> Any:
    return make_article()


@pytest.fixture
def reader_client(reader: Any) -> Client:
    client = Client()
    client.force_login(reader)
    return client


@pytest.fixture
def moderator_client(moderator: Any) -> Client:
    client = Client()
    client.force_login(moderator)
    return client


@pytest.fixture(autouse=True)
def _fresh_celery_connections() -> Iterator[None]:
    """Each test publishes through connections made for the broker it configures.

    kombu keeps the app's connection and producer pools for the broker URL they were made
    for; a test that points the app elsewhere would otherwise publish to the previous test's
    broker (a solo worker on the new one then waits for a task that never comes). Celery
    likewise freezes its queue table and router on first use, with the default queue of that
    moment: an in-process worker would consume an earlier test's queue, never this one's.
    """
    from civility.config.celery import app

    forget_broker_state(app)
    yield
    forget_broker_state(app)


def forget_broker_state(app: Any) -> None:
    app._pool = None
    app.amqp._producer_pool = None
    app.amqp._rtable = None
    for cached in ("queues", "default_queue", "router"):
        app.amqp.__dict__.pop(cached, None)
