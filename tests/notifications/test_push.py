"""Web push: VAPID keys, subscriptions per browser, deliveries decrypted by a fake push service."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from civility.notifications import services
from civility.notifications.models import NotificationSettings, PushSubscription
from civility.notifications.tasks import deliver_push_task
from civility.notifications.vapid import application_server_key, key_file
from tests.accounts.helpers import make_user, signed_in_client
from tests.notifications.fake_push_service import FakePushService

pytestmark = pytest.mark.django_db


@pytest.fixture
def push_service(settings: Any) -> Iterator[FakePushService]:
    settings.CIVILITY_PUSH_ALLOW_HTTP_ENDPOINTS = True  # the fake service speaks plain HTTP
    with FakePushService() as service:
        yield service


def subscribe_over_http(client: Client, subscription: dict[str, Any]) -> Any:
    return client.post(
        reverse("notifications:subscribe"),
        data=json.dumps(subscription),
        content_type="application/json",
        HTTP_USER_AGENT="Chromium test",
    )


def test_vapid_keys_are_generated_once_into_the_data_dir() -> None:
    response = Client().get(reverse("notifications:vapid_public_key"))
    key = response.json()["publicKey"]
    assert key == application_server_key()
    assert len(key) == 87  # base64url of a 65-byte uncompressed P-256 point
    path = key_file()
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Client().get(reverse("notifications:vapid_public_key")).json()["publicKey"] == key


def test_service_worker_may_control_the_whole_site() -> None:
    response = Client().get(reverse("notifications:service_worker"))
    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Content-Type"].startswith("application/javascript")
    assert b'addEventListener("push"' in response.content


def test_subscribe_stores_one_row_per_browser(push_service: FakePushService) -> None:
    rita = make_user("rita@example.org")
    client = signed_in_client(rita)
    laptop, phone = push_service.new_browser("laptop"), push_service.new_browser("phone")
    assert subscribe_over_http(client, laptop.subscription_json()).status_code == 201
    assert subscribe_over_http(client, phone.subscription_json()).status_code == 201
    assert (
        subscribe_over_http(client, laptop.subscription_json()).status_code == 201
    )  # refresh, no duplicate
    assert PushSubscription.objects.filter(user=rita).count() == 2
    assert PushSubscription.objects.get(endpoint=laptop.endpoint).user_agent == "Chromium test"

    anonymous = push_service.new_browser("anon")
    assert subscribe_over_http(Client(), anonymous.subscription_json()).status_code == 201
    assert PushSubscription.objects.get(endpoint=anonymous.endpoint).user is None

    removed = client.post(
        reverse("notifications:unsubscribe"),
        data=json.dumps({"endpoint": phone.endpoint}),
        content_type="application/json",
    )
    assert removed.json() == {"removed": 1}


def test_invalid_subscriptions_are_refused(settings: Any) -> None:
    settings.CIVILITY_PUSH_ALLOW_HTTP_ENDPOINTS = False
    client = Client()
    plain_http = {
        "endpoint": "http://push.example.net/x",
        "keys": {"p256dh": "k" * 20, "auth": "a" * 8},
    }
    response = subscribe_over_http(client, plain_http)
    assert response.status_code == 400 and "https" in response.json()["detail"]
    no_keys = {"endpoint": "https://push.example.net/x"}
    assert subscribe_over_http(client, no_keys).status_code == 400
    bad_json = client.post(
        reverse("notifications:subscribe"), data="{nope", content_type="application/json"
    )
    assert bad_json.status_code == 400
    assert not PushSubscription.objects.exists()


def test_reply_notification_is_pushed_encrypted_with_vapid(
    push_service: FakePushService, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    sam = make_user("sam@example.org")
    browser = push_service.new_browser("sam")
    services.subscribe(
        user=sam, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth
    )
    with django_capture_on_commit_callbacks(execute=True):
        queued = services.notify_reply(
            recipient=sam,
            replier_name="Tom",
            article_title="Budget",
            url="/a/budget/#c-7",
            excerpt="I agree with you.",
        )
    assert queued == 1
    (delivery,) = push_service.deliveries
    assert delivery.payload == {
        "kind": "reply",
        "title": "Tom replied to your comment",
        "body": "I agree with you.",
        "url": "/a/budget/#c-7",
        "tag": "reply:/a/budget/#c-7",
    }
    assert delivery.vapid_claims["aud"] == push_service.base_url
    assert delivery.vapid_claims["sub"].startswith("mailto:")
    assert delivery.vapid_claims["_k"].rstrip("=") == application_server_key()
    assert int(delivery.headers["ttl"]) > 0
    assert PushSubscription.objects.get(endpoint=browser.endpoint).last_sent_at is not None


def test_breaking_news_goes_to_everyone_who_wants_it(
    push_service: FakePushService, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    uma, victor = make_user("uma@example.org"), make_user("victor@example.org")
    NotificationSettings.objects.create(user=victor, push_breaking=False)
    browsers = {name: push_service.new_browser(name) for name in ("uma", "victor", "anonymous")}
    for owner, name in ((uma, "uma"), (victor, "victor"), (None, "anonymous")):
        b = browsers[name]
        services.subscribe(user=owner, endpoint=b.endpoint, p256dh=b.p256dh, auth=b.auth)
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.notify_breaking_news(
            title="Breaking: dam opens", url="/a/dam/", summary="Water levels rise."
        )
    assert sent == 2
    assert sorted(d.path for d in push_service.deliveries) == ["/push/anonymous", "/push/uma"]
    assert all(d.payload and d.payload["kind"] == "breaking" for d in push_service.deliveries)


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed(push_service: FakePushService, status: int) -> None:
    wanda = make_user("wanda@example.org")
    browser = push_service.new_browser("wanda")
    subscription = services.subscribe(
        user=wanda, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth
    )
    push_service.answer(browser, status)
    assert services.deliver_push(subscription.pk, {"title": "x"}) == "gone"
    assert not PushSubscription.objects.filter(pk=subscription.pk).exists()


def test_a_failing_push_service_keeps_the_subscription(push_service: FakePushService) -> None:
    xena = make_user("xena@example.org")
    browser = push_service.new_browser("xena")
    subscription = services.subscribe(
        user=xena, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth
    )
    push_service.answer(browser, 503)
    assert deliver_push_task.apply(args=(subscription.pk, {"title": "x"})).get() == "failed"
    subscription.refresh_from_db()
    assert subscription.failures == 1


def test_deleted_users_get_no_pushes(
    push_service: FakePushService, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from civility.accounts.services import delete_account

    yuri = make_user("yuri@example.org")
    browser = push_service.new_browser("yuri")
    services.subscribe(
        user=yuri, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth
    )
    with django_capture_on_commit_callbacks(execute=True):
        delete_account(yuri)
    yuri.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.notify_reply(recipient=yuri, replier_name="A", article_title="B", url="/c/")
            == 0
        )
        assert services.notify_breaking_news(title="t", url="/u/") == 0
    assert push_service.deliveries == []


def test_settings_page_saves_choices() -> None:
    zoe = make_user("zoe@example.org")
    client = signed_in_client(zoe)
    assert client.get(reverse("notifications:settings")).status_code == 200
    saved = client.post(
        reverse("notifications:settings"),
        {"push_replies": "on", "email_replies": "on", "email_featured": "on"},
    )
    assert saved.status_code == 302
    preferences = NotificationSettings.objects.get(user=zoe)
    chosen = (
        preferences.push_replies,
        preferences.push_breaking,
        preferences.email_replies,
        preferences.email_featured,
    )
    assert chosen == (True, False, True, True)


def test_a_published_reply_notifies_the_parent_author(
    push_service: FakePushService, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from civility.discussion.models import Comment, CommentStatus
    from civility.moderation.services import approve_comment
    from tests.accounts.helpers_discussion import published_comment

    ada, ben = (
        make_user("ada@example.org", display_name="Ada"),
        make_user("ben@example.org", display_name="Ben"),
    )
    moderator = make_user("moderator@example.org")
    browser = push_service.new_browser("ada")
    services.subscribe(
        user=ada, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth
    )
    parent = published_comment(ada, "The bridge should be rebuilt in stone.")
    with django_capture_on_commit_callbacks(execute=True):
        own_reply = published_comment(ada, "Adding to my own point.", parent=parent)
    assert push_service.deliveries == [], "no notification for replying to yourself"
    with django_capture_on_commit_callbacks(execute=True):
        held = Comment.objects.create(
            thread=parent.thread,
            parent=parent,
            author=ben,
            depth=1,
            text="Stone is too costly.",
            status=CommentStatus.PENDING,
        )
    assert push_service.deliveries == [], "a held reply is not news yet"
    with django_capture_on_commit_callbacks(execute=True):
        approve_comment(held, moderator=moderator)
    (delivery,) = push_service.deliveries
    assert delivery.payload is not None
    assert delivery.payload["title"] == "Ben replied to your comment"
    assert delivery.payload["body"] == "Stone is too costly."
    assert delivery.payload["url"].endswith(held.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        held.refresh_from_db()
        held.save()
        own_reply.save()
    assert len(push_service.deliveries) == 1, "one notification per reply"


def test_an_editors_pick_notifies_its_author_once(
    push_service: FakePushService, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from civility.moderation.services import set_featured
    from tests.accounts.helpers_discussion import published_comment

    ada = make_user("ada@example.org", display_name="Ada")
    moderator = make_user("moderator@example.org")
    browser = push_service.new_browser("ada")
    services.subscribe(
        user=ada, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth
    )
    comment = published_comment(ada, "The bridge should be rebuilt in stone.")
    with django_capture_on_commit_callbacks(execute=True):
        comment.save()  # an ordinary save is no news
    assert push_service.deliveries == []
    with django_capture_on_commit_callbacks(execute=True):
        set_featured(comment, moderator=moderator, featured=True)
    (delivery,) = push_service.deliveries
    assert delivery.payload is not None
    assert delivery.payload["kind"] == "featured"
    assert delivery.payload["title"] == "Your comment is an editors' pick"
    assert delivery.payload["body"] == "The bridge should be rebuilt in stone."
    assert delivery.payload["url"].endswith(comment.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        set_featured(comment, moderator=moderator, featured=False)
        set_featured(comment, moderator=moderator, featured=True)
    assert len(push_service.deliveries) == 1, "picked again: no second notification"

    other = published_comment(ada, "And the railings in iron.")
    NotificationSettings.objects.filter(user=ada).update(push_featured=False)
    with django_capture_on_commit_callbacks(execute=True):
        set_featured(other, moderator=moderator, featured=True)
    assert len(push_service.deliveries) == 1, "the reader turned these off"
