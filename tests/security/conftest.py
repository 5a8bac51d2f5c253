"""Fixtures for the security tests: one user per role, made the way the product makes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import browser_context_args, browser_type_launch_args
from tests.conftest import DEFAULT_PASSWORD
from tests.discussion.conftest import lenient_policy

__all__ = [
    "DEFAULT_PASSWORD",
    "browser_context_args",
    "browser_type_launch_args",
    "lenient_policy",
]


@pytest.fixture
def no_rate_limits(settings: Any) -> Iterator[None]:
    """Switch every limit off, for tests that are about something else."""
    settings.CIVILITY_WRITE_LIMITS_ENABLED = False
    settings.ACCOUNT_RATE_LIMITS = False
    for scope in ("POST", "REPORT", "TOKEN", "CONTACT", "UNLOCK"):
        setattr(settings, f"CIVILITY_RATE_{scope}", "100000/60")
    yield


@pytest.fixture
def role_users(db: None) -> dict[str, Any]:
    """A user for each role but "anonymous" (the key maps to None)."""
    from allauth.account.models import EmailAddress

    from civility.accounts.commands.createuser import create_user
    from civility.moderation.services import block_user

    moderator = create_user("mod@example.org", DEFAULT_PASSWORD, moderator=True, display_name="Mod")
    staff = create_user("staff@example.org", DEFAULT_PASSWORD, staff=True, display_name="Staff")
    # "staff" is the site operator: the admin site and every moderator power.
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    unverified = create_user("unverified@example.org", DEFAULT_PASSWORD, display_name="Unv")
    EmailAddress.objects.filter(user=unverified).update(verified=False)
    blocked = create_user("blocked@example.org", DEFAULT_PASSWORD, display_name="Blocked")
    block_user(blocked, moderator=moderator, reason="matrix fixture")
    reader = create_user("reader@example.org", DEFAULT_PASSWORD, display_name="Reader")
    return {
        "anonymous": None,
        "unverified": unverified,
        "reader": reader,
        "blocked": blocked,
        "moderator": moderator,
        "staff": staff,
    }
