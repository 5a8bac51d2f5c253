"""Delete account: are you sure, reauthenticate, disabled at once, restore link for 30 days."""

from __future__ import annotations

import datetime
import time

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from civility.accounts import services
from civility.accounts.models import Consent, User
from civility.moderation.models import AuditLog
from tests.accounts.helpers import (
    PASSWORD,
    links_in_last_mail,
    make_user,
    path_of,
    signed_in_client,
)
from tests.accounts.helpers_discussion import publicly_visible, published_comment

# Mail goes out on commit, so these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


def test_delete_asks_are_you_sure_then_reauthenticates_then_disables() -> None:
    alice = make_user("alice@example.org", display_name="Alice")
    services.accept_standards(alice)
    comment = published_comment(alice, "A thoughtful remark about the budget.")
    assert publicly_visible(comment)
    client = signed_in_client(alice)

    page = client.get(reverse("accounts:delete"))
    assert page.status_code == 200 and "Are you sure?" in page.content.decode()

    # Any POST first asks for the password again, then resumes where it was.
    asked = client.post(reverse("accounts:delete"), {})
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    unconfirmed = client.post(asked["Location"], {"password": PASSWORD})
    assert "Tick the box to confirm." in unconfirmed.content.decode()
    assert User.objects.get(pk=alice.pk).is_active

    done = client.post(reverse("accounts:delete"), {"confirm": "on"})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:deleted")
    assert "restore" in client.get(done["Location"]).content.decode()
    alice.refresh_from_db()
    assert not alice.is_active and alice.deleted_at is not None and alice.deleted_by_label == "self"
    assert not publicly_visible(comment)
    assert Consent.objects.get(user=alice).withdrawn_at == alice.deleted_at
    assert AuditLog.objects.filter(action="account.delete", subject_user=alice).exists()
    # Signed out, and signing in is refused.
    assert client.get(reverse("accounts:home")).status_code == 302
    login = Client().post(
        reverse("account_login"), {"login": "alice@example.org", "password": PASSWORD}
    )
    assert login.status_code == 302 and login["Location"] == reverse("account_inactive")

    (message,) = mail.outbox
    assert message.to == ["alice@example.org"] and "restore" in message.subject.lower()
    alternatives = getattr(message, "alternatives", [])
    assert alternatives and "Restore my account" in str(alternatives[0][0])


def test_restore_link_brings_everything_back_once() -> None:
    bob = make_user("bob@example.org")
    services.accept_standards(bob)
    comment = published_comment(bob, "Second thoughts are welcome here.")
    services.delete_account(bob)
    (link,) = [url for url in links_in_last_mail() if "/account/restore/" in url]

    client = Client()
    page = client.get(path_of(link))
    assert page.status_code == 200 and "Restore my account" in page.content.decode()
    assert not User.objects.get(pk=bob.pk).is_active, "GET does not restore (mail scanners)"
    restored = client.post(path_of(link))
    assert restored.status_code == 302 and restored["Location"] == reverse("account_login")
    bob.refresh_from_db()
    assert bob.is_active and bob.deleted_at is None
    assert publicly_visible(comment)
    comment.refresh_from_db()
    assert comment.status == "published"
    assert Consent.objects.get(user=bob).withdrawn_at is None
    assert signed_in_client(bob).get(reverse("accounts:home")).status_code == 200
    # The link worked once.
    again = client.get(path_of(link))
    assert again.status_code == 400 and "not valid any more" in again.content.decode()


def test_restore_link_expires_after_30_days(monkeypatch: pytest.MonkeyPatch) -> None:
    carol = make_user("carol@example.org")
    services.delete_account(carol)
    (link,) = [url for url in links_in_last_mail() if "/account/restore/" in url]
    later = time.time() + 31 * 24 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = Client().get(path_of(link))
    assert response.status_code == 400 and "expired" in response.content.decode()


def test_forged_restore_link_is_refused() -> None:
    dave = make_user("dave@example.org")
    services.delete_account(dave)
    forged = signing.dumps({"u": dave.pk, "d": "0"}, salt="another-salt")
    response = Client().get(reverse("accounts:restore", kwargs={"token": forged}))
    assert response.status_code == 400
    assert not User.objects.get(pk=dave.pk).is_active


def test_moderator_deletion_uses_the_same_machinery() -> None:
    moderator = make_user("mod@example.org")
    erin = make_user("erin@example.org")
    services.delete_account(erin, by=moderator, reason="moderator")
    erin.refresh_from_db()
    assert not erin.is_active and erin.deleted_by_label == f"user:{moderator.pk}"
    entry = AuditLog.objects.get(action="account.delete", subject_user=erin)
    assert entry.actor == moderator
    assert mail.outbox[-1].to == ["erin@example.org"]


def test_an_account_cannot_be_deleted_twice_nor_restored_when_active() -> None:
    frank = make_user("frank@example.org")
    with pytest.raises(services.AccountStateError):
        services.restore_account(frank)
    services.delete_account(frank)
    with pytest.raises(services.AccountStateError):
        services.delete_account(frank)


def test_deletion_mail_states_the_restore_deadline() -> None:
    grace = make_user("grace@example.org")
    services.delete_account(grace)
    grace.refresh_from_db()
    assert grace.deleted_at is not None
    deadline = grace.deleted_at + datetime.timedelta(days=30)
    assert str(deadline.year) in mail.outbox[-1].body
    assert timezone.now() < deadline
