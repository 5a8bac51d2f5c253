"""Download my data: one click, a JSON file right away, rate limited."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from civility.accounts import services
from civility.notifications.models import PushSubscription
from tests.accounts.helpers import make_user, signed_in_client
from tests.accounts.helpers_discussion import published_comment

pytestmark = pytest.mark.django_db


def test_download_gives_everything_held_about_me() -> None:
    quinn = make_user("quinn@example.org", display_name="Quinn")
    services.accept_standards(quinn)
    published_comment(quinn, "My only comment so far.")
    PushSubscription.objects.create(
        user=quinn, endpoint="https://push.example.net/q", p256dh="k" * 20, auth="s" * 8
    )
    stranger = make_user("stranger@example.org")
    published_comment(stranger, "Someone else's words.")
    client = signed_in_client(quinn)

    page = client.get(reverse("accounts:my_data"))
    assert page.status_code == 200 and "quinn@example.org" in page.content.decode()

    response = client.get(reverse("accounts:download_my_data"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["profile"]["email"] == "quinn@example.org"
    assert data["profile"]["display_name"] == "Quinn"
    assert [c["kind"] for c in data["consents"]] == ["standards"]
    assert [c["text"] for c in data["discussion.comment"]] == ["My only comment so far."]
    assert data["push_subscriptions"][0]["endpoint"] == "https://push.example.net/q"
    assert "auth" not in data["push_subscriptions"][0], "no credentials in the export"
    assert data["email_addresses"][0]["email"] == "quinn@example.org"
    assert "Someone else's words." not in response.content.decode()
    assert "password" not in data["profile"]

    again = client.get(reverse("accounts:download_my_data"))
    assert again.status_code == 429 and again["Retry-After"]


def test_download_needs_sign_in() -> None:
    from django.test import Client

    response = Client().get(reverse("accounts:download_my_data"))
    assert response.status_code == 302


def test_a_moderators_export_does_not_carry_the_comments_they_moderated() -> None:
    from civility.discussion.models import Comment

    moderator = make_user("mod@example.org")
    author = make_user("author@example.org")
    comment = published_comment(author, "Words that belong to the author.")
    Comment.objects.filter(pk=comment.pk).update(moderator=moderator)
    data = services.export_user_data(moderator)
    assert "discussion.comment" not in data
    assert "Words that belong to the author." not in json.dumps(data, default=str)
