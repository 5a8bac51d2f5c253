"""Social sign-up with Google, Facebook and VK; the providers' HTTP endpoints are faked.

Only the outside world is replaced: requests' transport answers for the providers' hosts, so
allauth's real OAuth2 client code runs end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.core import mail
from django.test import Client
from django.urls import reverse

from civility.accounts import selectors
from civility.accounts.conf import _social_providers
from civility.accounts.models import Consent, User

pytestmark = pytest.mark.django_db

PROVIDERS = {
    "google": {
        "APPS": [{"client_id": "google-id", "secret": "google-secret", "key": ""}],
        "SCOPE": ["profile", "email"],
    },
    "facebook": {
        "APPS": [{"client_id": "fb-id", "secret": "fb-secret", "key": ""}],
        "METHOD": "oauth2",
    },
    "vk": {"APPS": [{"client_id": "vk-id", "secret": "vk-secret", "key": ""}]},
}

Responder = Callable[[requests.PreparedRequest], tuple[int, dict[str, Any]]]

# What each provider answers: (host, path suffix) -> JSON.
PROVIDER_API: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
    "google": {
        ("oauth2.googleapis.com", "/token"): {
            "access_token": "google-access",
            "expires_in": 3600,
            "token_type": "Bearer",
        },
        ("www.googleapis.com", "/oauth2/v2/userinfo"): {
            "id": "g-1001",
            "email": "gina@gmail.example",
            "verified_email": True,
            "name": "Gina Gee",
            "given_name": "Gina",
            "family_name": "Gee",
        },
    },
    "facebook": {
        ("graph.facebook.com", "/oauth/access_token"): {
            "access_token": "fb-access",
            "expires_in": 3600,
            "token_type": "bearer",
        },
        ("graph.facebook.com", "/me"): {
            "id": "fb-2002",
            "email": "fiona@facebook.example",
            "name": "Fiona Eff",
            "first_name": "Fiona",
            "last_name": "Eff",
        },
    },
    "vk": {
        ("id.vk.ru", "/oauth2/auth"): {
            "access_token": "vk-access",
            "expires_in": 3600,
            "user_id": 3003,
            "token_type": "Bearer",
        },
        ("id.vk.ru", "/oauth2/user_info"): {
            "user": {
                "user_id": "3003",
                "email": "vera@vk.example",
                "first_name": "Vera",
                "last_name": "Ve",
            }
        },
    },
}


class FakeProviders:
    """Stands in for the providers' servers at requests' transport layer."""

    def __init__(self, answers: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.answers = answers
        self.seen: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest) -> requests.Response:
        self.seen.append(request)
        url = urlparse(request.url or "")
        for (host, suffix), body in self.answers.items():
            if url.hostname == host and url.path.endswith(suffix):
                return self._response(request, 200, body)
        return self._response(request, 404, {"error": "not faked"})

    @staticmethod
    def _response(
        request: requests.PreparedRequest, status: int, body: dict[str, Any]
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response


@pytest.fixture
def providers_configured(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = PROVIDERS


@pytest.fixture
def fake_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], FakeProviders]]:
    def install(provider_id: str) -> FakeProviders:
        fake = FakeProviders(PROVIDER_API[provider_id])

        def send(
            adapter: Any, request: requests.PreparedRequest, *args: Any, **kwargs: Any
        ) -> requests.Response:
            return fake.send(request)

        monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
        return fake

    yield install


def start_social_login(client: Client, provider_id: str) -> str:
    """Click the provider button, confirm, follow to the provider; return the OAuth state."""
    login_page = client.get(reverse("account_login")).content.decode()
    assert f"social-login__button--{provider_id}" in login_page
    confirm = client.get(f"/accounts/{provider_id}/login/?process=login")
    assert confirm.status_code == 200
    to_provider = client.post(f"/accounts/{provider_id}/login/?process=login")
    assert to_provider.status_code == 302
    query = parse_qs(urlparse(to_provider["Location"]).query)
    return query["state"][0]


@pytest.mark.usefixtures("providers_configured")
@pytest.mark.parametrize(
    ("provider_id", "email", "verified_by_provider"),
    [
        ("google", "gina@gmail.example", True),
        ("facebook", "fiona@facebook.example", False),
        ("vk", "vera@vk.example", False),
    ],
)
def test_social_signup_requires_the_standards_checkbox(
    fake_provider: Callable[[str], FakeProviders],
    provider_id: str,
    email: str,
    verified_by_provider: bool,
) -> None:
    fake = fake_provider(provider_id)
    client = Client()
    state = start_social_login(client, provider_id)
    callback = client.get(
        f"/accounts/{provider_id}/login/callback/",
        {"code": "auth-code", "state": state, "device_id": "d1"},
    )
    assert callback.status_code == 302, callback.content.decode()[:2000]
    assert callback["Location"] == reverse("socialaccount_signup")
    assert any(urlparse(r.url or "").hostname for r in fake.seen)

    form = client.get(callback["Location"])
    html = form.content.decode()
    assert 'name="accept_standards"' in html and reverse("accounts:standards") in html
    refused = client.post(callback["Location"], {"email": email})
    assert "You must accept the community standards to sign up." in refused.content.decode()
    assert not User.objects.filter(email=email).exists()

    done = client.post(callback["Location"], {"email": email, "accept_standards": "on"})
    assert done.status_code == 302
    user = User.objects.get(email=email)
    consent = Consent.objects.get(user=user, kind=Consent.Kind.STANDARDS)
    assert consent.version == selectors.standards_version()
    account = SocialAccount.objects.get(user=user, provider=provider_id)
    assert SocialToken.objects.filter(account=account).exists()
    if verified_by_provider:
        assert selectors.is_verified(user)
        assert client.get(reverse("accounts:home")).status_code == 200
    else:
        assert not selectors.is_verified(user)
        assert mail.outbox and mail.outbox[-1].to == [email]


def test_providers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GOOGLE", "FACEBOOK", "VK"):
        monkeypatch.delenv(f"CIVILITY_{name}_CLIENT_ID", raising=False)
        monkeypatch.delenv(f"CIVILITY_{name}_SECRET", raising=False)
    assert _social_providers() == {}
    monkeypatch.setenv("CIVILITY_VK_CLIENT_ID", "vk-app")
    monkeypatch.setenv("CIVILITY_VK_SECRET", "vk-secret")
    monkeypatch.setenv("CIVILITY_GOOGLE_CLIENT_ID", "only-an-id")
    configured = _social_providers()
    assert list(configured) == ["vk"]
    assert configured["vk"]["APPS"][0]["client_id"] == "vk-app"
