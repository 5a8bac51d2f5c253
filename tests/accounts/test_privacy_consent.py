"""A new privacy-policy version: every signed-in user meets the interstitial first."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from civility.accounts.models import Consent, PrivacyPolicyVersion, User
from civility.moderation.models import AuditLog
from tests.accounts.helpers import PASSWORD, make_user, signed_in_client

pytestmark = pytest.mark.django_db(transaction=True)


def editor_publishes(version: str, text: str, language: str = "en") -> PrivacyPolicyVersion:
    """An editor writes a new version in the admin and publishes it (admin action)."""
    editor = User.objects.filter(email="editor@example.org").first() or (
        User.objects.create_superuser(
            username="editor", email="editor@example.org", password=PASSWORD
        )
    )
    editor_client = Client()
    editor_client.force_login(editor)
    added = editor_client.post(
        reverse("admin:accounts_privacypolicyversion_add"),
        {"language": language, "version": version, "title": "Privacy policy", "text": text},
    )
    assert added.status_code == 302, added.content.decode()[:3000]
    policy = PrivacyPolicyVersion.objects.get(version=version, language=language)
    assert policy.published_at is None
    published = editor_client.post(
        reverse("admin:accounts_privacypolicyversion_changelist"),
        {"action": "publish", "_selected_action": [policy.pk]},
    )
    assert published.status_code == 302
    policy.refresh_from_db()
    assert policy.published_at is not None
    assert AuditLog.objects.filter(action="privacy_policy.publish", actor=editor).exists()
    return policy


def joined_earlier(email: str) -> User:
    user = make_user(email)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - datetime.timedelta(days=10))
    user.refresh_from_db()
    return user


def test_no_interstitial_before_any_new_version() -> None:
    olga = joined_earlier("olga@example.org")
    assert signed_in_client(olga).get(reverse("accounts:home")).status_code == 200


def test_agreeing_lets_the_user_go_on_and_is_recorded() -> None:
    olga = joined_earlier("olga@example.org")
    client = signed_in_client(olga)
    policy = editor_publishes("2.0", "We now keep server logs for 7 days.\n\nNothing else changed.")

    blocked = client.get(reverse("accounts:home"))
    assert blocked.status_code == 302
    assert blocked["Location"].startswith(reverse("accounts:consent"))
    page = client.get(blocked["Location"])
    html = page.content.decode()
    assert (
        "I agree to continued processing of my data" in html and "We now keep server logs" in html
    )
    # The published policy stays readable from the interstitial.
    assert client.get(reverse("accounts:privacy")).status_code == 200

    assert f'name="policy" value="{policy.pk}"' in html
    not_ticked = client.post(blocked["Location"], {"decision": "agree", "policy": policy.pk})
    assert not_ticked.status_code == 200
    agreed = client.post(
        blocked["Location"], {"decision": "agree", "agree": "on", "policy": policy.pk}
    )
    assert agreed.status_code == 302 and agreed["Location"] == reverse("accounts:home")
    consent = Consent.objects.get(user=olga, kind=Consent.Kind.PRIVACY)
    assert (consent.version, consent.language, consent.choice) == (
        policy.version,
        "en",
        Consent.Choice.AGREED,
    )
    assert client.get(reverse("accounts:home")).status_code == 200


def test_api_calls_get_a_403_naming_the_reason() -> None:
    olga = joined_earlier("olga@example.org")
    client = signed_in_client(olga)
    editor_publishes("2.0", "New terms.")
    response = client.get("/api/v1/comments/")
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "privacy_consent_required" and body["policy_version"] == "2.0"


def test_refusing_leads_to_deletion_with_restore_window() -> None:
    pavel = joined_earlier("pavel@example.org")
    client = signed_in_client(pavel)
    policy = editor_publishes("2.0", "New terms.")
    refused = client.post(reverse("accounts:consent"), {"decision": "refuse", "policy": policy.pk})
    assert refused.status_code == 302
    assert refused["Location"] == f"{reverse('accounts:delete')}?reason=consent"
    consent = Consent.objects.get(user=pavel, kind=Consent.Kind.PRIVACY)
    assert consent.choice == Consent.Choice.REFUSED and consent.version == "2.0"
    page = client.get(refused["Location"])
    assert "You did not agree to the new privacy policy" in page.content.decode()
    reauth = client.post(reverse("accounts:delete"), {"confirm": "on", "reason": "consent"})
    done = client.post(reauth["Location"], {"password": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:deleted")
    pavel.refresh_from_db()
    assert not pavel.is_active and pavel.deleted_at is not None
    assert (
        AuditLog.objects.get(action="account.delete", subject_user=pavel).data["reason"]
        == "consent"
    )
    assert any("/account/restore/" in message.body for message in mail.outbox)


def test_people_who_join_after_publication_are_not_asked() -> None:
    editor_publishes("2.0", "New terms.")
    newcomer = make_user("newcomer@example.org")
    assert signed_in_client(newcomer).get(reverse("accounts:home")).status_code == 200


def test_privacy_page_shows_versions() -> None:
    editor_publishes("2.0", "Second text.")
    client = Client()
    page = client.get(reverse("accounts:privacy"))
    assert page.status_code == 200 and "Second text." in page.content.decode()
    assert client.get(reverse("accounts:privacy") + "?version=9.9").status_code == 404


def test_api_calls_with_a_bearer_token_get_the_403_too() -> None:
    from civility.discussion.services import issue_api_token

    rosa = joined_earlier("rosa@example.org")
    raw, _token = issue_api_token(rosa, "script")
    client = Client()
    before = client.get("/api/v1/comments/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert before.status_code != 403
    editor_publishes("2.0", "New terms.")
    after = client.get("/api/v1/comments/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert after.status_code == 403 and after.json()["error"] == "privacy_consent_required"
    Consent.objects.create(user=rosa, kind=Consent.Kind.PRIVACY, version="2.0")
    again = client.get("/api/v1/comments/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert again.status_code != 403


def test_a_signed_in_request_after_consent_costs_no_consent_queries() -> None:
    olga = joined_earlier("olga@example.org")
    client = signed_in_client(olga)
    policy = editor_publishes("2.0", "New terms.")
    client.post(
        reverse("accounts:consent"), {"decision": "agree", "agree": "on", "policy": policy.pk}
    )
    client.get(reverse("accounts:home"))  # the first request notes the consent in the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("accounts:home")).status_code == 200
    assert not any(
        "accounts_consent" in q["sql"] or "accounts_privacypolicyversion" in q["sql"]
        for q in queries.captured_queries
    )
