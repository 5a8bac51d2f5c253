"""Every /moderation/ route refuses anonymous users (login redirect) and readers (403).

The routes are enumerated from the URLconf, so a new route cannot be missed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

SAMPLE_VALUES = {
    "int": "1",
    "str": "pending",
    "slug": "peace-treaty-talks",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes.extend(_walk(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            routes.append((route, pattern.callback))
    return routes


def _concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$")

    def value(match: re.Match[str]) -> str:
        converter = match.group(1) or "str"
        return SAMPLE_VALUES.get(converter, "1")

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", value, route)


def moderation_routes() -> list[tuple[str, Any]]:
    return [
        (_concrete(route), callback)
        for route, callback in _walk(get_resolver().url_patterns)
        if route.lstrip("^").startswith("moderation/")
    ]


def test_the_enumeration_finds_the_moderation_routes() -> None:
    paths = {path for path, _ in moderation_routes()}
    assert len(paths) >= 20
    assert "/moderation/" in paths
    assert "/moderation/queue/pending/" in paths
    assert "/moderation/policy/" in paths


def test_every_moderation_app_view_is_wrapped() -> None:
    # Other apps may mount stricter pages under /moderation/ (staff-only); the behaviour tests
    # below cover those. The moderation app's own views all use the one decorator.
    own = [(p, c) for p, c in moderation_routes() if c.__module__ == "civility.moderation.views"]
    assert len(own) >= 20
    for path, callback in own:
        assert getattr(callback, "moderator_only", False), (
            f"{path} is not wrapped by moderator_required"
        )


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_are_sent_to_login(method: str, article: Any) -> None:
    client = Client()
    for path, _ in moderation_routes():
        response = getattr(client, method)(path)
        assert response.status_code in (302, 403), (
            f"{method.upper()} {path}: {response.status_code}"
        )
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), (
                f"{path} -> {response['Location']}"
            )


@pytest.mark.parametrize("method", ["get", "post"])
def test_readers_get_403(method: str, reader_client: Client, article: Any) -> None:
    for path, _ in moderation_routes():
        response = getattr(reader_client, method)(path)
        assert response.status_code == 403, f"{method.upper()} {path}: {response.status_code}"


def test_moderators_and_staff_get_in(moderator_client: Client, db: Any) -> None:
    from tests.discussion.conftest import make_user

    assert moderator_client.get("/moderation/").status_code == 200
    staff = Client()
    staff.force_login(make_user("staff@example.org", staff=True))
    assert staff.get("/moderation/queue/pending/").status_code == 200


def test_csrf_is_required_on_moderation_forms(moderator: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    assert client.post("/moderation/users/1/block/").status_code == 403
