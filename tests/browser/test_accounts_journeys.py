"""Account journeys in Chromium: sign-up with the real captcha widget, deletion and restore,
re-consent after a new privacy policy, and the push prompt. Screenshots go to docs/screenshots.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.accounts.helpers import PASSWORD, clear_shared_cache, make_user
from tests.accounts.helpers_discussion import publicly_visible, published_comment
from tests.notifications.fake_push_service import FakePushService

from civility.accounts import selectors
from civility.accounts.models import Consent, PrivacyPolicyVersion, User
from civility.discussion.models import Comment
from civility.notifications.models import PushSubscription

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def site(transactional_db: None, live_server: Any, settings: Any) -> Iterator[str]:
    settings.SITE_URL = str(live_server.url)  # links in e-mails point at the live server
    clear_shared_cache()
    mail.outbox.clear()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield str(live_server.url)
    clear_shared_cache()


def watch_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Content-Security-Policy violations show up as console errors ("Refused to ...").
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Refused to" in message.text else None,
    )
    return errors


def last_link_to(address: str, fragment: str) -> str:
    for message in reversed(mail.outbox):
        if address in message.to:
            for url in re.findall(r"https?://\S+", str(message.body)):
                if fragment in url:
                    return url
    raise AssertionError(f"no mail to {address} with a link containing {fragment}")


def sign_in(page: Page, site: str, email: str, password: str = PASSWORD) -> None:
    page.goto(site + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("[data-testid=login-form] button[type=submit]").click()


def test_sign_up_with_the_captcha_verify_comment_sign_out_and_in(page: Page, site: str) -> None:
    from civility.news.demo_content import load_demo_articles
    from civility.news.models import Article

    errors = watch_errors(page)
    load_demo_articles()
    page.goto(site + "/accounts/signup/")
    page.get_by_label("Email").fill("lena@example.org")
    page.get_by_label("Display name").fill("Lena Journey")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#id_accept_standards").check()
    # The real widget: tick the box, the browser solves the proof of work.
    page.get_by_label("I'm not a robot").check()
    expect(page.locator("[data-altcha]")).to_have_attribute(
        "data-state", "verified", timeout=30_000
    )
    page.screenshot(path=str(SCREENSHOTS / "accounts-signup.png"), full_page=True)
    page.locator("[data-testid=signup-form] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))

    lena = User.objects.get(email="lena@example.org")
    assert Consent.objects.get(user=lena, kind="standards").version == selectors.standards_version()
    page.goto(last_link_to("lena@example.org", "/accounts/confirm-email/"))
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    assert selectors.is_verified(lena)

    article = Article.objects.order_by("-published_at").first()
    assert article is not None
    page.goto(site + article.get_absolute_url())
    page.locator("#comment-text").fill(
        "Thanks for this clear explanation of the council's decision."
    )
    page.get_by_role("button", name="Post comment").click()
    for _attempt in range(450):  # the engine decides inline, loading its models the first time
        if Comment.objects.filter(author=lena).exists():
            break
        page.wait_for_timeout(200)
    assert Comment.objects.filter(author=lena).exists()

    page.goto(site + "/accounts/logout/")
    page.get_by_role("button", name=re.compile("Sign Out", re.I)).click()
    page.goto(site + "/account/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    sign_in(page, site, "lena@example.org")
    page.goto(site + "/account/")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert errors == []


def test_delete_then_restore_from_the_mailed_link(page: Page, site: str) -> None:
    errors = watch_errors(page)
    mark = make_user("mark@example.org", display_name="Mark")
    comment = published_comment(mark, "Mark's considered opinion on the tram line.")
    sign_in(page, site, "mark@example.org")
    page.goto(site + "/account/delete/")
    expect(page.get_by_text("Are you sure?")).to_be_visible()
    page.get_by_label("Yes, I am sure: delete my account.").check()
    page.screenshot(path=str(SCREENSHOTS / "accounts-delete.png"), full_page=True)
    page.get_by_role("button", name="Delete my account").click()
    # Reauthentication, then the deletion goes through.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    expect(page.locator("[data-testid=account-deleted]")).to_be_visible()
    assert not publicly_visible(comment)

    sign_in(page, site, "mark@example.org")
    expect(page.get_by_role("heading", name="This account is disabled")).to_be_visible()

    page.goto(last_link_to("mark@example.org", "/account/restore/"))
    page.screenshot(path=str(SCREENSHOTS / "accounts-restore.png"), full_page=True)
    page.get_by_role("button", name="Restore my account").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    sign_in(page, site, "mark@example.org")
    page.goto(site + "/account/")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert publicly_visible(comment)
    assert errors == []


def publish_in_admin(browser: Browser, site: str) -> None:
    User.objects.create_superuser(username="editor", email="editor@example.org", password=PASSWORD)
    context = browser.new_context()
    page = context.new_page()
    page.goto(site + "/admin/login/")
    page.locator("#id_username").fill("editor")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.goto(site + "/admin/accounts/privacypolicyversion/add/")
    page.locator("#id_version").fill("2.0")
    page.locator("#id_text").fill(
        "We now keep server logs for seven days.\n\nEverything else is unchanged."
    )
    page.locator("input[name=_save]").click()
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("publish")
    page.locator("button[name=index]").click()
    expect(page.get_by_text("Published version 2.0 (en).")).to_be_visible()
    context.close()


def test_new_privacy_policy_interstitial_agree_and_refuse(browser: Browser, site: str) -> None:
    import datetime

    from django.utils import timezone

    for email in ("nora@example.org", "otto@example.org"):
        user = make_user(email)
        User.objects.filter(pk=user.pk).update(
            date_joined=timezone.now() - datetime.timedelta(days=3)
        )
    nora_context, otto_context = browser.new_context(), browser.new_context()
    nora, otto = nora_context.new_page(), otto_context.new_page()
    sign_in(nora, site, "nora@example.org")
    sign_in(otto, site, "otto@example.org")

    publish_in_admin(browser, site)
    assert PrivacyPolicyVersion.objects.get(version="2.0").published_at is not None

    nora.goto(site + "/account/")
    expect(nora.locator("[data-testid=consent-interstitial]")).to_be_visible()
    nora.screenshot(path=str(SCREENSHOTS / "accounts-consent.png"), full_page=True)
    nora.get_by_label("I agree to continued processing of my data").check()
    nora.get_by_role("button", name="Continue").click()
    expect(nora.get_by_role("heading", name="Your account")).to_be_visible()
    assert Consent.objects.filter(
        user__email="nora@example.org", kind="privacy", version="2.0", choice="agreed"
    ).exists()

    otto.goto(site + "/account/")
    otto.get_by_role("button", name="I do not agree").click()
    expect(otto.get_by_text("You did not agree to the new privacy policy")).to_be_visible()
    otto.get_by_label("Yes, I am sure: delete my account.").check()
    otto.get_by_role("button", name="Delete my account").click()
    otto.get_by_label("Password").fill(PASSWORD)
    otto.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    expect(otto.locator("[data-testid=account-deleted]")).to_be_visible()
    assert not User.objects.get(email="otto@example.org").is_active
    nora_context.close()
    otto_context.close()


# Playwright's browser contexts are incognito profiles, where Chromium offers no Push API
# (crbug.com/41124656), and the machine has no route to a vendor push service anyway. So
# PushManager answers as the vendor's service would: an endpoint on our fake push service and
# the keys of a simulated browser, whose private half lets the fake service decrypt.
FAKE_SUBSCRIBE = """
PushManager.prototype.subscribe = async function () {
  const subscription = %s;
  return { endpoint: subscription.endpoint, toJSON: () => subscription };
};
PushManager.prototype.getSubscription = async function () { return null; };
"""


def push_context(browser: Browser, site: str, simulated: Any) -> BrowserContext:
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=site)
    context.add_init_script(FAKE_SUBSCRIBE % json.dumps(simulated.subscription_json()))
    return context


def test_push_prompt_accept_and_refuse(browser: Browser, site: str, settings: Any) -> None:
    from civility.notifications.services import notify_breaking_news

    settings.CIVILITY_PUSH_ALLOW_HTTP_ENDPOINTS = True  # the fake push service speaks plain HTTP
    make_user("pia@example.org")
    with FakePushService() as push_service:
        pias_browser = push_service.new_browser("pia")
        accepting = push_context(browser, site, pias_browser)
        page = accepting.new_page()
        errors = watch_errors(page)
        sign_in(page, site, "pia@example.org")
        page.goto(site + "/account/")
        prompt = page.locator("[data-push-prompt]")
        expect(prompt).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "accounts-push-prompt.png"))
        prompt.get_by_role("button", name="Accept").click()
        expect(prompt).to_have_attribute("data-state", "accepted", timeout=15_000)
        (subscription,) = PushSubscription.objects.filter(user__email="pia@example.org")
        assert subscription.endpoint == pias_browser.endpoint
        scope = page.evaluate(
            "navigator.serviceWorker.getRegistration('/').then(r => r ? r.scope : '')"
        )
        assert scope == site + "/", "the service worker controls the whole site"
        # Breaking news reaches the browser that accepted, encrypted for it alone.
        notify_breaking_news(title="Breaking: the dam opens", url=site + "/news/dam/")
        (delivery,) = push_service.deliveries
        assert (
            delivery.payload is not None and delivery.payload["title"] == "Breaking: the dam opens"
        )
        accepting.close()

        make_user("quinn@example.org")
        refusing = push_context(browser, site, push_service.new_browser("quinn"))
        page = refusing.new_page()
        sign_in(page, site, "quinn@example.org")
        page.goto(site + "/account/")
        page.locator("[data-push-prompt]").get_by_role("button", name="Refuse").click()
        expect(page.locator("[data-push-prompt]")).to_be_hidden()
        page.reload()
        page.wait_for_timeout(300)
        expect(page.locator("[data-push-prompt]")).to_be_hidden()
        assert not PushSubscription.objects.filter(user__email="quinn@example.org").exists()
        refusing.close()
    assert errors == []
