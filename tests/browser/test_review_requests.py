"""A reader contests the removal of their comment and a moderator reinstates it, in a browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from tests.browser._comments_helpers import shot, signed_in_page, watch_errors
from tests.browser.test_comments_journeys import lenient
from tests.discussion.conftest import make_article, make_user
from tests.moderation.test_review_requests import removed_by_engine

REMOVED = "The minister's plan is naive: the islands question cannot wait another decade."
WHY = "Calling a plan naive criticises a policy; it does not insult anyone in the discussion."


@pytest.fixture
def site(transactional_db: None, live_server: Any, settings: Any) -> dict[str, Any]:
    lenient()
    article = make_article()
    reader = make_user("bob@example.org", name="Bob")
    comment = removed_by_engine(reader, article, REMOVED)
    moderator = make_user("mona@example.org", name="Mona", moderator=True)
    return {
        "url": str(live_server.url),
        "reader": reader,
        "moderator": moderator,
        "comment": comment,
    }


def test_a_reader_asks_for_a_review_and_a_moderator_reinstates(
    browser: Browser, site: dict[str, Any]
) -> None:
    base = site["url"]
    context, page = signed_in_page(browser, base, site["reader"])
    errors = watch_errors(page)
    page.goto(base + "/my/comments/")
    page.locator("[data-ask-review]").click()
    expect(page.get_by_role("heading", name="Ask for a review")).to_be_visible()
    expect(page.locator(".review-request__comment")).to_contain_text("islands question")
    page.get_by_label("Why does the comment keep to the standards?").fill(WHY)
    shot(page, "comments-review-request.png", full_page=False)
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".messages")).to_contain_text("Your request was sent")
    expect(page.locator('[data-review-status="open"]')).to_be_visible()
    assert not errors, errors
    context.close()

    context, page = signed_in_page(browser, base, site["moderator"])
    errors = watch_errors(page)
    page.goto(base + "/moderation/")
    expect(page.locator('[data-count="reviews"]')).to_have_text("1")
    page.locator('[data-nav="reviews"]').click()
    card = page.locator(f'[data-review]:has-text("{WHY[:30]}")')
    expect(card).to_contain_text("Removed by the automatic moderation")
    shot(page, "moderation-review-requests.png", full_page=False)
    card.get_by_role("button", name="Reinstate the comment").click()
    expect(page.locator(".messages")).to_contain_text("published again")
    expect(page.locator('[data-count="reviews"]')).to_have_text("0")
    assert not errors, errors
    context.close()

    context, page = signed_in_page(browser, base, site["reader"])
    page.goto(base + "/my/comments/")
    expect(page.locator('[data-review-status="reinstated"]')).to_be_visible()
    expect(
        page.locator(f'#my-comment-{site["comment"].pk} [data-status="published"]')
    ).to_be_visible()
    context.close()
