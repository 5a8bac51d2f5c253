"""Sign-in, sign-out, password reset behind the captcha, no account enumeration."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from civility.accounts.models import User
from civility.security.privacy import pseudonymise_ip
from tests.accounts.helpers import (
    PASSWORD,
    links_in_last_mail,
    make_user,
    path_of,
    signed_in_client,
    solved_captcha,
)

pytestmark = pytest.mark.django_db


def test_login_and_logout() -> None:
    grace = make_user("grace@example.org", display_name="Grace")
    client = signed_in_client(grace)
    assert client.get(reverse("accounts:home")).status_code == 200
    grace.refresh_from_db()
    assert grace.last_login_ip == pseudonymise_ip("127.0.0.1")
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 302


def test_wrong_password_and_unknown_address_get_the_same_message() -> None:
    make_user("heidi@example.org")
    client = Client()
    wrong = client.post(
        reverse("account_login"), {"login": "heidi@example.org", "password": "nope nope"}
    )
    unknown = client.post(
        reverse("account_login"), {"login": "nobody@example.org", "password": "nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 200
    assert (
        "The email address and/or password you specified are not correct." in wrong.content.decode()
    )
    assert (
        "The email address and/or password you specified are not correct."
        in unknown.content.decode()
    )


def test_unverified_user_cannot_sign_in_until_verified() -> None:
    make_user("ivan@example.org", verified=False)
    response = Client().post(
        reverse("account_login"), {"login": "ivan@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")


def test_password_reset_needs_the_captcha() -> None:
    make_user("judy@example.org")
    client = Client()
    page = client.get(reverse("account_reset_password"))
    assert "data-altcha" in page.content.decode()
    refused = client.post(reverse("account_reset_password"), {"email": "judy@example.org"})
    assert "Please solve the anti-robot check." in refused.content.decode()
    assert not mail.outbox


def test_password_reset_by_link_and_no_enumeration() -> None:
    judy = make_user("judy@example.org")
    client = Client()
    known = client.post(
        reverse("account_reset_password"),
        {"email": "judy@example.org", "altcha": solved_captcha(client)},
    )
    unknown = client.post(
        reverse("account_reset_password"),
        {"email": "nobody@example.org", "altcha": solved_captcha(client)},
    )
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("account_reset_password_done")
    judy_mail = [m for m in mail.outbox if m.to == ["judy@example.org"]]
    assert len(judy_mail) == 1 and "reset" in judy_mail[0].subject.lower()
    assert getattr(judy_mail[0], "alternatives", None), "the reset mail has an HTML part"
    mail.outbox[:] = judy_mail
    (link,) = [url for url in links_in_last_mail() if "/password/reset/key/" in url]
    form_page = client.get(path_of(link), follow=True)
    assert form_page.status_code == 200
    new_password = "a whole new secret 9876"
    done = client.post(
        form_page.redirect_chain[-1][0], {"password1": new_password, "password2": new_password}
    )
    assert done.status_code == 302
    judy.refresh_from_db()
    assert judy.check_password(new_password)


def test_deleted_user_cannot_sign_in() -> None:
    from civility.accounts import services

    kim = make_user("kim@example.org")
    services.delete_account(kim)
    response = Client().post(
        reverse("account_login"), {"login": "kim@example.org", "password": PASSWORD}
    )
    assert b"disabled" in response.content or response.status_code == 302
    if response.status_code == 302:
        assert response["Location"] == reverse("account_inactive")
    assert not User.objects.get(email="kim@example.org").is_active


def test_social_buttons_hidden_when_not_configured(settings: object) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {}  # type: ignore[attr-defined]
    html = Client().get(reverse("account_login")).content.decode()
    assert "social-login" not in html


def test_adding_an_email_address_asks_for_the_password_again() -> None:
    lara = make_user("lara@example.org")
    client = signed_in_client(lara)
    response = client.post(
        reverse("account_email"), {"email": "lara.new@example.org", "action_add": ""}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
