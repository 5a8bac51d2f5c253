"""Social sign-in: a provider the site has not configured is a 404, never a server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PROVIDERS = ("google", "facebook", "vk")
STEPS = ("login/", "login/callback/", "login/token/")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unconfigured_provider_answers_404(provider: str, settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {}
    client = Client(raise_request_exception=False)
    for step in STEPS:
        url = f"/accounts/{provider}/{step}"
        for method in (client.get, client.post):
            response = method(url)
            # vk has no token sign-in (no such URL): a 404 from the resolver is just as right.
            assert response.status_code == 404, f"{method.__name__.upper()} {url}"


def test_a_configured_provider_still_starts_its_flow(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": "google-id", "secret": "x", "key": ""}]}
    }
    response = Client().post("/accounts/google/login/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://accounts.google.com/")
