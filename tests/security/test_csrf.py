"""Cross-site request forgery: every route that takes a POST refuses one without the CSRF token,
for a signed-in reader and for staff, enumerated from the URLconf like the permission matrix.
The few routes that must take POSTs from other sites say why in CSRF_EXEMPT."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.security.route_classes import API_ROUTE
from tests.security.test_permission_matrix import QUERIES, all_routes, classify, samples

pytestmark = pytest.mark.django_db
__all__ = ["samples"]  # a fixture: the sample objects behind every URL parameter

CSRF_EXEMPT = {
    # Browsers send violation reports without cookies or tokens; the view stores nothing but a
    # log line, and it has its own budget (test_headers.py).
    "security:csp_report": "CSP violation reports",
    # Google's one-tap sign-in posts from Google's script with its own double-submit cookie
    # (g_csrf_token), which allauth checks, and a signed ID token; no session is used.
    "google_login_by_token": "provider token sign-in",
    # The share counter: a public tally with no session state or audit row, limited per address
    # (CIVILITY_RATE_SHARE); exempt so that anonymous article pages set no cookie and can be
    # cached.
    "news:share": "share counter",
}
CSRF_REFUSED = 403


def test_every_post_route_needs_the_csrf_token(
    role_users: dict[str, Any], samples: dict[str, str], no_rate_limits: None
) -> None:
    checked, failures = 0, []
    for role in ("reader", "staff"):
        client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        client.force_login(role_users[role])
        for route in all_routes():
            access = classify(route)
            if access is None or access is API_ROUTE or access.post is None:
                continue
            if route.key in CSRF_EXEMPT:
                continue
            url = route.url(samples) + QUERIES.get(route.key, "")
            response = client.post(url, {})
            checked += 1
            if response.status_code != CSRF_REFUSED or b"CSRF" not in response.content:
                failures.append(f"{route.key} as {role}: {response.status_code}")
    print(f"CSRF: {checked} POST checks")
    assert checked > 50
    assert not failures, "POST accepted without a CSRF token:\n" + "\n".join(failures)


def test_the_api_needs_the_csrf_token_with_a_session(
    role_users: dict[str, Any], samples: dict[str, str], no_rate_limits: None
) -> None:
    """A bearer token is no ambient credential; the session cookie is, so it needs the token."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(role_users["reader"])
    for path, body in (
        (f"/api/articles/{samples['slug']}/comments", {"text": "A forged remark."}),
        (f"/api/comments/{samples['pk']}/report", {"rule": "insult"}),
    ):
        response = client.post(path, body, content_type="application/json")
        assert response.status_code in (401, 403), (path, response.status_code)
