"""Security headers on every response, security.txt, CSP reports, production cookie settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from civility.security.middleware import merged_policy, parse_policy

pytestmark = pytest.mark.django_db


def directives(response: Any) -> dict[str, str]:
    return parse_policy(response["Content-Security-Policy"])


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/account/standards/", "/contact/", "/api/articles", "/nope/"]
)
def test_every_response_carries_the_headers(path: str) -> None:
    response = Client().get(path)
    csp = directives(response)
    for name in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in csp[name] and "'unsafe-eval'" not in csp[name]
    assert csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_the_embed_frame_is_framable_only_by_configured_origins(
    settings: Any, lenient_policy: Any
) -> None:
    settings.CIVILITY_EMBED_ORIGINS = ["https://publisher.example"]
    response = Client().get("/embed/thread?url=https://publisher.example/story")
    assert response.status_code == 200
    csp = directives(response)
    assert "https://publisher.example" in csp["frame-ancestors"]
    assert "*" not in csp["frame-ancestors"]
    assert csp["script-src"] == "'self'"  # the view's header was completed, not replaced
    assert "X-Frame-Options" not in response
    refused = Client().get("/embed/thread?url=https://evil.example/story")
    assert refused.status_code == 403
    assert directives(refused)["frame-ancestors"] == "'none'"


def test_a_views_own_directives_win_and_the_rest_is_added() -> None:
    merged = parse_policy(
        merged_policy("frame-ancestors https://a.example", {"frame-ancestors": "'none'", "x": "y"})
    )
    assert merged == {"frame-ancestors": "https://a.example", "x": "y"}


def test_social_providers_are_allowed_as_form_targets_only_when_configured(settings: Any) -> None:
    assert "accounts.google.com" not in directives(Client().get("/"))["form-action"]
    settings.SOCIALACCOUNT_PROVIDERS = {"google": {"APPS": []}}
    assert "https://accounts.google.com" in directives(Client().get("/"))["form-action"]


def test_security_txt_follows_rfc_9116(settings: Any) -> None:
    settings.SITE_URL = "https://news.example.org"
    response = Client().get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    fields = dict(
        line.split(": ", 1) for line in response.content.decode().splitlines() if ": " in line
    )
    assert fields["Contact"] == "mailto:security@news.example.org"
    assert fields["Canonical"] == "https://news.example.org/.well-known/security.txt"
    expires = datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    # RFC 9116: in the future, and less than a year away.
    assert timedelta(0) < expires - datetime.now(UTC) < timedelta(days=366)
    assert "Policy" not in fields
    settings.CIVILITY_SECURITY_CONTACT = "https://news.example.org/report-a-bug"
    settings.CIVILITY_SECURITY_POLICY_URL = "/security/"
    body = Client().get("/.well-known/security.txt").content.decode()
    assert "Contact: https://news.example.org/report-a-bug" in body
    assert "Policy: https://news.example.org/security/" in body


def test_csp_reports_are_logged_without_cookies_or_csrf(caplog: Any) -> None:
    report = {
        "csp-report": {
            "document-uri": "https://news.example.org/news/x/",
            "effective-directive": "script-src-elem",
            "blocked-uri": "inline",
        }
    }
    client = Client(enforce_csrf_checks=True)
    with caplog.at_level("WARNING", logger="civility.security.csp"):
        response = client.post(
            "/.well-known/csp-report", json.dumps(report), content_type="application/csp-report"
        )
    assert response.status_code == 204
    assert "script-src-elem blocked inline" in caplog.text
    assert (
        client.post("/.well-known/csp-report", "{not json", content_type="text/plain").status_code
        == 400
    )


@pytest.mark.slow
def test_production_cookies_and_transport() -> None:
    """In production mode: __Host- session cookie, Secure cookies, HSTS with preload, HTTPS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVILITY_")}
    env.update(
        CIVILITY_PRODUCTION="1",
        CIVILITY_SECRET_KEY="p" * 20 + "-not-a-real-key-just-long-enough-for-django",
        CIVILITY_ALLOWED_HOSTS="news.example.org",
        CIVILITY_SITE_URL="https://news.example.org",
        CIVILITY_TESTING="1",
    )
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='civility.config.settings';"
        "django.setup(); from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_SAMESITE,"
        " s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD,"
        " s.SECURE_SSL_REDIRECT, s.SECURE_CSP.get('upgrade-insecure-requests'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "__Host-civility_session",
        "True",
        "True",
        "Lax",
        "True",
        "Lax",
        "31536000",
        "True",
        "True",
        "True",
        "True",
    ]
