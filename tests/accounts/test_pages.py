"""The contract pages: /standards/ and /privacy/ answer 200; standards come from the rules."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from civility.accounts import selectors
from civility.standards.rules import RULES

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls_with_root")]


def test_root_pages_answer_200() -> None:
    client = Client()
    assert client.get("/standards/").status_code == 200
    assert client.get("/privacy/").status_code == 200
    worker = client.get("/service-worker.js")
    assert worker.status_code == 200 and worker["Service-Worker-Allowed"] == "/"


def test_standards_page_renders_every_rule_and_the_version() -> None:
    html = Client().get(reverse("accounts:standards")).content.decode()
    for rule in RULES:
        assert rule.title in html
    assert selectors.standards_version() in html
    assert 'id="rule-20"' in html


def test_signup_contract_challenge_and_refusal() -> None:
    client = Client()
    page = client.get("/accounts/signup/")
    assert page.status_code == 200 and "data-challenge-url" in page.content.decode()
    refused = client.post(
        "/accounts/signup/",
        {
            "email": "x@example.org",
            "password1": "p4ss w0rd long",
            "password2": "p4ss w0rd long",
            "accept_standards": "on",
        },
    )
    assert refused.status_code == 200
    assert "anti-robot check" in refused.content.decode()
