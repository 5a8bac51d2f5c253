"""Live updates in Chromium: a reader with the article open is offered the comments others
publish meanwhile, and a click shows them without losing what the reader was typing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from tests.browser._comments_helpers import shot, signed_in_page, watch_errors
from tests.browser.test_comments_journeys import lenient
from tests.discussion.conftest import make_article, make_user

from civility.discussion.services import post_comment, thread_for_article

FIRST = "The harbour plan finally names who pays for the new sea wall, which is a start."
NEWS = "The council just confirmed the vote is on Thursday; the report comes out tomorrow."
MINE = "Good to know; I will read the engineers' report before Thursday's vote then."


@pytest.fixture
def site(transactional_db: None, live_server: Any, settings: Any) -> dict[str, Any]:
    settings.CIVILITY_RATE_POST = "1000/60"
    settings.CIVILITY_LIVE_UPDATE_SECONDS = 1
    lenient()
    article = make_article()
    author = make_user("alice@example.org", name="Alice")
    thread = thread_for_article(article)
    post_comment(author=author, thread=thread, text=FIRST)
    return {
        "url": str(live_server.url),
        "article": article,
        "thread": thread,
        "author": author,
        "reader": make_user("bob@example.org", name="Bob"),
    }


def test_new_comments_are_offered_and_shown(browser: Browser, site: dict[str, Any]) -> None:
    context, page = signed_in_page(browser, site["url"], site["reader"])
    errors = watch_errors(page)
    page.goto(site["url"] + site["article"].get_absolute_url())
    button = page.locator("[data-live-button]")
    expect(page.locator("#comments")).to_contain_text(FIRST)

    # The reader's own comment is on the page at once: it is not offered as news.
    page.get_by_role("textbox", name="Your comment").fill(MINE)
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator("#comments")).to_contain_text(MINE)
    page.wait_for_timeout(2500)
    expect(button).to_be_hidden()

    post_comment(author=site["author"], thread=site["thread"], text=NEWS)
    expect(button).to_have_text("Show new comments (1)", timeout=10_000)
    expect(page.locator("#comments")).not_to_contain_text(NEWS)
    page.get_by_role("textbox", name="Your comment").fill("A draft the reader keeps")
    shot(page, "thread-live-updates.png", full_page=False)

    button.click()
    expect(page.locator("#comments")).to_contain_text(NEWS)
    expect(page.locator("[data-live-button]")).to_be_hidden()
    expect(page.get_by_role("textbox", name="Your comment")).to_have_value(
        "A draft the reader keeps"
    )
    expect(page.locator("[data-comment-count]")).to_have_text("3")
    # The new section asks again, from its own newest comment.
    post_comment(author=site["author"], thread=site["thread"], text=NEWS + " Update: 7 pm.")
    expect(page.locator("[data-live-button]")).to_have_text("Show new comments (1)", timeout=10_000)
    assert not errors, errors
    context.close()
