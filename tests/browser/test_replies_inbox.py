"""The Replies link in the header: its unread count, the list, and the count cleared."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from tests.browser._comments_helpers import shot, signed_in_page, watch_errors
from tests.browser.test_comments_journeys import lenient
from tests.discussion.conftest import make_article, make_user

from civility.discussion.services import post_comment, thread_for_article

MINE = "The ferry timetable should be published before the winter, not after it."
REPLY = "It was, on Monday: the council's site has the winter timetable now."


@pytest.fixture
def site(transactional_db: None, live_server: Any, settings: Any) -> dict[str, Any]:
    settings.CIVILITY_RATE_POST = "1000/60"
    lenient()
    article = make_article()
    thread = thread_for_article(article)
    reader = make_user("bob@example.org", name="Bob")
    mine = post_comment(author=reader, thread=thread, text=MINE).comment
    other = make_user("alice@example.org", name="Alice")
    post_comment(author=other, thread=thread, text=REPLY, parent=mine.pk)
    return {"url": str(live_server.url), "reader": reader}


def test_the_header_counts_unread_replies_until_they_are_read(
    browser: Browser, site: dict[str, Any]
) -> None:
    context, page = signed_in_page(browser, site["url"], site["reader"])
    errors = watch_errors(page)
    page.goto(site["url"] + "/")
    link = page.locator("[data-replies-link]")
    expect(link.locator("[data-unread-replies]")).to_have_text("1")
    link.click()
    expect(page.get_by_role("heading", name="Replies to my comments")).to_be_visible()
    reply = page.locator("[data-reply-id]").first
    expect(reply).to_contain_text(REPLY)
    expect(reply).to_contain_text("Alice replied")
    expect(reply.locator(".my-comment__parent")).to_contain_text("ferry timetable")
    shot(page, "my-replies.png", full_page=False)
    page.goto(site["url"] + "/")
    expect(page.locator("[data-unread-replies]")).to_have_count(0)
    assert not errors, errors
    context.close()
