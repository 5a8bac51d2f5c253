"""Sign-up by e-mail and password behind the ALTCHA captcha, with the standards checkbox."""

from __future__ import annotations

import base64
import json

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from civility.accounts import selectors
from civility.accounts.models import Consent, User
from civility.security.privacy import pseudonymise_ip
from tests.accounts.helpers import PASSWORD, links_in_last_mail, make_user, path_of, solved_captcha

pytestmark = pytest.mark.django_db


def signup_data(client: Client, email: str, **overrides: str) -> dict[str, str]:
    data = {
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
        "display_name": "Alice Reader",
        "accept_standards": "on",
        "altcha": solved_captcha(client),
    }
    data.update(overrides)
    return data


def test_signup_page_serves_an_altcha_challenge_and_the_standards_checkbox() -> None:
    client = Client()
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-altcha" in html and reverse("accounts:captcha_challenge") in html
    assert "accounts/altcha.js" in html
    assert 'name="accept_standards"' in html and reverse("accounts:standards") in html
    challenge = client.get(reverse("accounts:captcha_challenge")).json()
    assert {"algorithm", "challenge", "salt", "signature", "maxNumber"} <= set(challenge)
    assert challenge["algorithm"] == "SHA-256" and "expires=" in challenge["salt"]


def test_signup_without_captcha_is_refused_with_a_message() -> None:
    client = Client()
    data = signup_data(client, "alice@example.org")
    del data["altcha"]
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert "Please solve the anti-robot check." in response.content.decode()
    assert not User.objects.filter(email="alice@example.org").exists()


def test_signup_with_a_forged_solution_is_refused() -> None:
    client = Client()
    challenge = client.get(reverse("accounts:captcha_challenge")).json()
    forged = {**challenge, "number": 7}
    forged.pop("maxNumber")
    payload = base64.b64encode(json.dumps(forged).encode()).decode()
    response = client.post(
        "/accounts/signup/", signup_data(client, "bob@example.org", altcha=payload)
    )
    assert "The anti-robot check failed" in response.content.decode()
    garbage = client.post("/accounts/signup/", signup_data(client, "bob@example.org", altcha="%%%"))
    assert "The anti-robot check is invalid" in garbage.content.decode()
    assert not User.objects.filter(email="bob@example.org").exists()


def test_a_solved_captcha_cannot_be_replayed() -> None:
    client = Client()
    payload = solved_captcha(client)
    first = client.post(
        "/accounts/signup/", signup_data(client, "carol@example.org", altcha=payload)
    )
    assert first.status_code == 302
    other = Client()
    second = other.post("/accounts/signup/", signup_data(other, "dave@example.org", altcha=payload))
    assert "already used" in second.content.decode()
    assert not User.objects.filter(email="dave@example.org").exists()


def test_signup_requires_accepting_the_standards() -> None:
    client = Client()
    data = signup_data(client, "erin@example.org")
    del data["accept_standards"]
    response = client.post("/accounts/signup/", data)
    assert "You must accept the community standards to sign up." in response.content.decode()
    assert not User.objects.filter(email="erin@example.org").exists()


def test_signup_stores_the_standards_consent_and_requires_verification() -> None:
    client = Client()
    response = client.post("/accounts/signup/", signup_data(client, "alice@example.org"))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    alice = User.objects.get(email="alice@example.org")
    assert alice.display_name == "Alice Reader"
    assert alice.signup_ip == pseudonymise_ip("127.0.0.1")
    consent = Consent.objects.get(user=alice, kind=Consent.Kind.STANDARDS)
    assert consent.version == selectors.standards_version()
    assert consent.choice == Consent.Choice.AGREED and consent.created_at is not None
    assert not selectors.is_verified(alice)
    # Not signed in until the address is verified.
    assert client.get(reverse("accounts:home")).status_code == 302

    (message,) = mail.outbox
    assert message.to == ["alice@example.org"]
    alternatives = getattr(message, "alternatives", [])
    assert alternatives and "text/html" in alternatives[0][1]
    (link,) = [url for url in links_in_last_mail() if "/confirm-email/" in url]
    confirm_page = client.get(path_of(link))
    assert confirm_page.status_code == 200
    confirmed = client.post(path_of(link))
    assert confirmed.status_code == 302
    alice.refresh_from_db()
    assert selectors.is_verified(alice)
    assert EmailAddress.objects.get(user=alice).verified


def test_signup_with_a_registered_address_does_not_reveal_it() -> None:
    make_user("frank@example.org")
    client = Client()
    response = client.post("/accounts/signup/", signup_data(client, "frank@example.org"))
    # Same answer as a fresh sign-up: "check your mail"; the mail tells the owner instead.
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email="frank@example.org").count() == 1
    assert mail.outbox[-1].to == ["frank@example.org"]


def test_sign_up_refuses_a_display_name_that_impersonates_the_moderators() -> None:
    client = Client()
    data = signup_data(client, "mallory@example.org")
    data["display_name"] = "Moderator"
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert "reserved" in response.content.decode()
    assert not User.objects.filter(email="mallory@example.org").exists()
