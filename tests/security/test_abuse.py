"""Abuse controls: a budget on every write, 429 with Retry-After, brute force on sign-in,
sign-up throttling, and the captcha on unauthenticated forms."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import DEFAULT_PASSWORD
from tests.security.route_classes import ROUTES, Access
from tests.security.test_permission_matrix import samples

pytestmark = pytest.mark.django_db
__all__ = ["samples"]  # a fixture: the sample objects behind every URL parameter


def post_until_refused(client: Client, url: str, data: Any, limit: int, **extra: Any) -> Any:
    """Post ``limit`` times (all must pass the limiter), then once more; return that answer."""
    for attempt in range(limit):
        response = client.post(url, data, **extra)
        assert response.status_code != 429, f"refused too early, at attempt {attempt + 1}"
    return client.post(url, data, **extra)


def assert_retry_after(response: Any, at_most: int) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= at_most


# --- The write limiter (middleware) --------------------------------------------------------------


def test_every_unsafe_request_has_a_budget(settings: Any) -> None:
    """Every route that takes a POST falls under some write budget (the catch-all included)."""
    from civility.security.middleware import budget_for

    assert settings.CIVILITY_WRITE_LIMITS_ENABLED
    for name, access in ROUTES.items():
        if isinstance(access, Access) and access.post is not None:
            assert budget_for(name) is not None, name
    assert budget_for("discussion:api:list_comments") == ("*", "120/60")


def test_the_write_limit_counts_per_ip_across_users(settings: Any, make_user: Any) -> None:
    settings.CIVILITY_WRITE_LIMITS = [("*", "3/60")]
    users = [make_user() for _ in range(4)]
    for user in users[:3]:
        client = Client()
        client.force_login(user)
        assert client.post("/notifications/", {}, REMOTE_ADDR="198.51.100.7").status_code != 429
    client = Client()
    client.force_login(users[3])
    assert_retry_after(client.post("/notifications/", {}, REMOTE_ADDR="198.51.100.7"), 60)
    # Another address still gets through.
    assert client.post("/notifications/", {}, REMOTE_ADDR="198.51.100.8").status_code != 429


def test_the_write_limit_counts_per_user_across_ips(settings: Any, make_user: Any) -> None:
    settings.CIVILITY_WRITE_LIMITS = [("*", "3/60")]
    client = Client()
    client.force_login(make_user())
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        assert client.post("/notifications/", {}, REMOTE_ADDR=address).status_code != 429
    assert_retry_after(client.post("/notifications/", {}, REMOTE_ADDR="203.0.113.4"), 60)


def test_the_write_limit_counts_per_api_token(settings: Any, make_user: Any) -> None:
    from civility.discussion.services import issue_api_token

    settings.CIVILITY_WRITE_LIMITS = [("*", "2/60")]
    raw, _token = issue_api_token(make_user())
    headers = {"Authorization": f"Bearer {raw}"}
    for address in ("203.0.113.1", "203.0.113.2"):
        Client().delete("/api/auth/token", headers=headers, REMOTE_ADDR=address)
    refused = Client().delete("/api/auth/token", headers=headers, REMOTE_ADDR="203.0.113.3")
    assert_retry_after(refused, 60)
    assert refused.json()["detail"].startswith("Too many requests")


def test_reads_are_never_limited(settings: Any) -> None:
    settings.CIVILITY_WRITE_LIMITS = [("*", "1/60")]
    for _ in range(5):
        assert Client().get("/").status_code == 200


# --- The discussion app's own limits get a Retry-After ----------------------------------------


def test_posting_too_fast_is_refused_with_retry_after(
    settings: Any, make_user: Any, article: Any, lenient_policy: Any
) -> None:
    settings.CIVILITY_RATE_POST = "2/60"
    client = Client()
    client.force_login(make_user())
    url = f"/news/{article.slug}/comments/"
    json_accept = {"Accept": "application/json"}
    data = {"text": "A calm remark about the council's plan."}
    for n in range(2):
        response = client.post(url, {"text": f"{data['text']} {n}"}, headers=json_accept)
        assert response.status_code == 201, response.content
    refused = client.post(url, {"text": "A third remark."}, headers=json_accept)
    assert_retry_after(refused, 60)
    assert refused.json()["ok"] is False


def test_the_api_refuses_comment_floods_with_retry_after(
    settings: Any, make_user: Any, article: Any, lenient_policy: Any
) -> None:
    from civility.discussion.services import issue_api_token

    settings.CIVILITY_RATE_POST = "1/60"
    raw, _ = issue_api_token(make_user())
    url = f"/api/articles/{article.slug}/comments"
    headers = {"Authorization": f"Bearer {raw}"}
    first = Client().post(url, {"text": "A first remark."}, "application/json", headers=headers)
    assert first.status_code == 201
    second = Client().post(url, {"text": "A second remark."}, "application/json", headers=headers)
    assert_retry_after(second, 60)


def test_reports_contact_and_unlock_are_limited(settings: Any, make_user: Any) -> None:
    settings.CIVILITY_RATE_CONTACT = "2/3600"
    data = {"subject": "Hello", "body": "A question for the moderators.", "email": "a@b.example"}
    refused = post_until_refused(Client(), "/contact/", data, 2)
    assert_retry_after(refused, 3600)


def test_a_refusal_says_when_to_come_back(settings: Any, make_user: Any) -> None:
    """RateLimited carries the seconds left in the window, the figure Retry-After sends."""
    from civility.discussion import ratelimit
    from civility.discussion.errors import RateLimited

    settings.CIVILITY_RATE_REPORT = "1/86400"
    user = make_user()
    ratelimit.hit("report", user=user, ip="192.0.2.5")
    with pytest.raises(RateLimited) as refused:
        ratelimit.hit("report", user=user, ip="192.0.2.5")
    assert 1 <= refused.value.retry_after <= 86400
    assert ratelimit.last_retry_after.get() == refused.value.retry_after
    assert f"wait {refused.value.retry_after} second" in refused.value.message


def test_a_page_that_shows_the_refusal_sends_the_limiters_retry_after(
    settings: Any, make_user: Any
) -> None:
    """A day-long window: the header is the limiter's figure, not the one-minute default."""
    settings.CIVILITY_RATE_CONTACT = "1/86400"
    client = Client()
    client.force_login(make_user())
    client.post("/contact/", {"subject": "Hello", "body": "A question."})
    refused = client.post("/contact/", {"subject": "Hello", "body": "A question."})
    assert_retry_after(refused, 86400)
    waited = int(refused["Retry-After"])
    assert f"wait {waited} second".encode() in refused.content


# --- Brute force on sign-in ------------------------------------------------------------------


def test_password_guessing_locks_the_address_out_even_with_the_right_password(
    make_user: Any,
) -> None:
    make_user("victim@example.org")
    client = Client()
    for guess in range(5):
        response = client.post(
            "/accounts/login/", {"login": "victim@example.org", "password": f"guess-{guess}"}
        )
        assert response.status_code == 200  # the form again, with an error
    locked = client.post(
        "/accounts/login/", {"login": "victim@example.org", "password": DEFAULT_PASSWORD}
    )
    assert "_auth_user_id" not in client.session
    assert locked.status_code in (200, 429)
    assert b"Too many failed login attempts" in locked.content or locked.status_code == 429


def test_api_token_guessing_is_limited_per_address(make_user: Any) -> None:
    """Password spraying: one address, a different account each time."""
    for attempt in range(10):
        body = {"email": f"victim{attempt}@example.org", "password": "wrong"}
        assert Client().post("/api/auth/token", body, "application/json").status_code == 401
    body = {"email": "victim99@example.org", "password": "wrong"}
    assert_retry_after(Client().post("/api/auth/token", body, "application/json"), 300)


def test_api_token_guessing_locks_the_account_out_across_addresses(make_user: Any) -> None:
    make_user("victim@example.org")
    for attempt in range(5):
        wrong = {"email": "Victim@example.org", "password": f"guess-{attempt}"}
        address = f"198.51.100.{attempt + 1}"
        assert (
            Client()
            .post("/api/auth/token", wrong, "application/json", REMOTE_ADDR=address)
            .status_code
            == 401
        )
    right = {"email": "victim@example.org", "password": DEFAULT_PASSWORD}
    locked = Client().post("/api/auth/token", right, "application/json", REMOTE_ADDR="192.0.2.200")
    assert_retry_after(locked, 300)
    other = make_user("bystander@example.org")
    fine = {"email": other.email, "password": DEFAULT_PASSWORD}
    assert Client().post("/api/auth/token", fine, "application/json").status_code == 201


def test_sign_in_attempts_have_a_budget_per_address(settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = False  # the middleware's budget alone
    data = {"login": "nobody@example.org", "password": "wrong"}
    refused = post_until_refused(Client(), "/accounts/login/", data, 30)
    assert_retry_after(refused, 300)


def test_the_admin_sign_in_has_the_sign_in_budget(settings: Any) -> None:
    """Django's admin sign-in does not go through allauth; the address budget still holds
    (30 guesses at 30 different accounts, so that no account's lockout comes first)."""
    settings.ACCOUNT_RATE_LIMITS = False
    client = Client()
    for attempt in range(30):
        data = {"username": f"nobody{attempt}", "password": "wrong"}
        assert client.post("/admin/login/", data).status_code != 429, attempt
    assert_retry_after(client.post("/admin/login/", {"username": "x", "password": "y"}), 300)


def test_admin_password_guessing_locks_the_account_out_across_addresses(
    make_user: Any,
) -> None:
    staff = make_user("desk@example.org", staff=True)
    for attempt in range(5):
        wrong = {"username": staff.get_username(), "password": f"guess-{attempt}"}
        address = f"198.51.100.{attempt + 1}"
        assert Client().post("/admin/login/", wrong, REMOTE_ADDR=address).status_code == 200
    right = {"username": staff.get_username(), "password": DEFAULT_PASSWORD}
    assert_retry_after(Client().post("/admin/login/", right, REMOTE_ADDR="192.0.2.200"), 300)
    other = make_user("editor@example.org", staff=True)
    fine = {"username": other.get_username(), "password": DEFAULT_PASSWORD}
    assert Client().post("/admin/login/", fine).status_code == 302


# --- Sign-up ----------------------------------------------------------------------------------


def test_sign_up_is_throttled_per_address() -> None:
    data = {"email": "new@example.org", "password1": "x", "password2": "x"}
    refused = post_until_refused(Client(), "/accounts/signup/", data, 10)
    assert_retry_after(refused, 3600)
    # Another address may still sign up.
    assert Client().post("/accounts/signup/", data, REMOTE_ADDR="192.0.2.99").status_code != 429


def test_sign_up_without_a_solved_captcha_creates_no_account() -> None:
    from django.contrib.auth import get_user_model

    data = {
        "email": "bot@example.org",
        "password1": "Long-enough-passw0rd",
        "password2": "Long-enough-passw0rd",
        "accept_standards": "on",
        "captcha": "",
    }
    response = Client().post("/accounts/signup/", data)
    assert response.status_code == 200
    assert not get_user_model().objects.filter(email="bot@example.org").exists()


# --- The captcha on every form an anonymous visitor can send --------------------------------

CAPTCHA_WIDGET = re.compile(rb"data-altcha\b")
POST_FORM = re.compile(
    rb"<form\b(?P<attrs>[^>]*\bmethod=[\"']?post[\"']?[^>]*)>(?P<body>.*?)</form>", re.S | re.I
)
FORM_ACTION = re.compile(rb"\baction=[\"'](?P<action>[^\"']*)[\"']", re.I)
# Anonymous POST forms that carry no captcha, by the route they post to, and why that is safe.
WITHOUT_CAPTCHA = {
    # Brute force is stopped instead by allauth's per-account lockout (5 failures / 5 min, even
    # with the right password) and the per-address write budget (30 / 5 min): test_abuse.py.
    "account_login": "sign-in: per-account lockout and per-address budget",
    # Staff sign-in to the admin: the same per-address budget as the main sign-in
    # (test_the_admin_sign_in_has_the_sign_in_budget) and a per-account lockout
    # (test_admin_password_guessing_locks_the_account_out_across_addresses).
    "admin:login": "staff sign-in: per-account lockout and per-address budget",
    # Signing out changes nothing for an anonymous visitor (allauth shows the form on some
    # error pages).
    "account_logout": "sign-out",
    # The interface language goes into a cookie; nothing is stored or sent on the server.
    "set_language": "language choice (a cookie)",
    # These only send the browser to the provider, which runs its own bot checks; nothing is
    # stored here until the provider's callback comes back with a valid flow.
    "google_login": "redirect to the identity provider",
    "facebook_login": "redirect to the identity provider",
    "vk_login": "redirect to the identity provider",
}


def anonymous_post_forms(samples: dict[str, str]) -> dict[str, set[str]]:
    """Every POST form on every page an anonymous visitor may open: route name -> pages."""
    from django.urls import Resolver404, resolve

    from tests.security.test_permission_matrix import QUERIES, all_routes, classify

    forms: dict[str, set[str]] = {}
    client = Client(raise_request_exception=False)
    for route in all_routes():
        access = classify(route)
        if access is None or access.get is None or "anonymous" not in access.get:
            continue
        url = route.url(samples) + QUERIES.get(route.key, "")
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in POST_FORM.finditer(response.content):
            action = FORM_ACTION.search(form["attrs"])
            target = action["action"].decode() if action and action["action"] else url
            try:
                match = resolve(target.split("?")[0])
            except Resolver404:
                forms.setdefault(f"unresolvable action {target}", set()).add(url)
                continue
            if not CAPTCHA_WIDGET.search(form["body"]):
                forms.setdefault(match.view_name, set()).add(url)
            else:
                forms.setdefault(f"{match.view_name} (captcha)", set()).add(url)
    return forms


def test_every_form_an_anonymous_visitor_can_send_has_the_captcha(
    samples: dict[str, str], no_rate_limits: None
) -> None:
    """Enumerated from the URLconf: every page an anonymous visitor may open, every POST form on
    it. A form without the widget fails unless WITHOUT_CAPTCHA says why it is safe."""
    forms = anonymous_post_forms(samples)
    protected = {name.removesuffix(" (captcha)") for name in forms if name.endswith("(captcha)")}
    # The enumeration must really see the forms (a broken regex would find nothing).
    assert {
        "account_signup",
        "account_reset_password",
        "discussion:contact",
        "discussion:unlock",
    } <= protected, sorted(forms)
    lacking = {
        name: sorted(pages)
        for name, pages in forms.items()
        if not name.endswith("(captcha)") and name not in WITHOUT_CAPTCHA
    }
    assert not lacking, f"anonymous POST forms without the captcha: {lacking}"


def solved_captcha(client: Client) -> str:
    from civility.accounts import captcha

    return captcha.solve(client.get("/account/captcha/challenge/").json())


CONTACT = {"subject": "Hello", "body": "A question for the moderators.", "email": "a@b.example"}
UNLOCK_EXPLANATION = "I insulted another reader in anger; I apologise and will keep to the rules."


@pytest.mark.parametrize("answer", ["", "bm90LWEtc29sdXRpb24=", "replayed"])
def test_an_anonymous_contact_message_needs_a_fresh_captcha(answer: str) -> None:
    from civility.moderation.models import ContactMessage

    client = Client()
    if answer == "replayed":
        answer = solved_captcha(client)
        assert client.post("/contact/", {**CONTACT, "altcha": answer}).status_code == 200
        assert ContactMessage.objects.count() == 1
        ContactMessage.objects.all().delete()
    refused = client.post("/contact/", {**CONTACT, "altcha": answer})
    assert refused.status_code == 400
    assert b"anti-robot check" in refused.content
    assert CAPTCHA_WIDGET.search(refused.content), "the form comes back with a fresh widget"
    assert not ContactMessage.objects.exists()


def test_an_anonymous_contact_message_with_a_solved_captcha_is_sent() -> None:
    from civility.moderation.models import ContactMessage

    client = Client()
    sent = client.post("/contact/", {**CONTACT, "altcha": solved_captcha(client)})
    assert sent.status_code == 200
    assert ContactMessage.objects.filter(subject="Hello").exists()


def test_an_anonymous_unlock_request_needs_the_captcha(make_user: Any) -> None:
    from civility.moderation.models import Appeal
    from civility.moderation.services import block_user

    moderator = make_user("moderator@example.org", moderator=True)
    blocked = make_user("blocked@example.org")
    block_user(blocked, moderator=moderator, reason="abuse")
    data = {"user_id": str(blocked.pk), "explanation": UNLOCK_EXPLANATION}
    client = Client()
    assert client.post("/unlock/", data).status_code == 400
    assert not Appeal.objects.exists()
    sent = client.post("/unlock/", {**data, "altcha": solved_captcha(client)})
    assert sent.status_code == 200, sent.content.decode()[:2000]
    assert Appeal.objects.filter(claimed_user_id=str(blocked.pk)).exists()


def test_signed_in_readers_contact_the_moderators_without_a_captcha(make_user: Any) -> None:
    """Their account went through the sign-up captcha; the page shows no widget."""
    from civility.moderation.models import ContactMessage

    client = Client()
    client.force_login(make_user())
    assert not CAPTCHA_WIDGET.search(client.get("/contact/").content)
    assert client.post("/contact/", CONTACT).status_code == 200
    assert ContactMessage.objects.exists()
