"""Suite-wide fixtures.

The database is SQLite unless CIVILITY_TEST_DATABASE_URL is set (then PostgreSQL), and the
cache is local memory unless CIVILITY_TEST_REDIS_URL or CIVILITY_REDIS_URL is set (then
Redis): see config/settings.py. Each run gets a private, temporary data dir.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

os.environ.setdefault("CIVILITY_EMAIL_URL", "locmem:")

DEFAULT_PASSWORD = "S3cure-pass!"


@pytest.fixture(autouse=True)
def _rate_limits_in_one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limiters count in fixed windows (60 s to a day, every one a divisor of a day).
    A test that makes N requests and expects the next one refused fails when its requests
    straddle two windows, as one CI run did: so the limiters' clock starts each test at a
    midnight (UTC) and runs from there at the real pace."""
    import time

    from civility.discussion import ratelimit

    midnight = (int(time.time()) // 86_400 + 1) * 86_400
    started = time.monotonic()
    monkeypatch.setattr(ratelimit, "clock", lambda: midnight + (time.monotonic() - started))


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Start every test with an empty cache: Redis outlives a test, local memory outlives it too."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    """Create verified accounts through the same code as ``civility createuser``."""
    from civility.accounts.commands.createuser import create_user

    counter = iter(range(1, 10_000))

    def make(
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        *,
        moderator: bool = False,
        staff: bool = False,
        display_name: str = "",
    ) -> Any:
        return create_user(
            email or f"user{next(counter)}@example.org",
            password,
            moderator=moderator,
            staff=staff,
            display_name=display_name,
        )

    return make


@pytest.fixture
def reader(make_user: Callable[..., Any]) -> Any:
    """A verified reader who can sign in with ``DEFAULT_PASSWORD``."""
    return make_user("reader@example.org", display_name="Reader")


@pytest.fixture
def moderator(make_user: Callable[..., Any]) -> Any:
    """A verified member of the "moderators" group (not staff)."""
    return make_user("moderator@example.org", moderator=True, display_name="Moderator")


@pytest.fixture
def article(db: None) -> Any:
    """One published article with two tags."""
    from tests.news.factories import ArticleFactory

    return ArticleFactory(tags=["Diplomacy", "Politics"])
