"""The article page's one reply form and one report form, moved under a comment by thread.js.

A signed-in reader's page used to carry a reply form and a report form (one <option> per rule)
under every comment; it now carries one of each, in <template> elements, and each comment a
Reply and a Report link that thread.js turns into buttons. This drives them in Chromium:
open, Escape, move to another comment, post a reply, send a report.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from tests.browser._comments_helpers import shot, signed_in_page, watch_errors
from tests.browser.test_comments_journeys import lenient
from tests.discussion.conftest import make_article, make_user

from civility.discussion.models import Comment, Report
from civility.discussion.services import post_comment, thread_for_article

FIRST = "The harbour plan finally names who pays for the new sea wall, which is a start."
SECOND = "The council should publish the engineers' report before the vote, not after it."


@pytest.fixture
def site(transactional_db: None, live_server: Any, settings: Any) -> dict[str, Any]:
    settings.CIVILITY_RATE_POST = "1000/60"
    lenient()
    article = make_article()
    author = make_user("alice@example.org", name="Alice")
    thread = thread_for_article(article)
    return {
        "url": str(live_server.url),
        "article": article,
        "reader": make_user("bob@example.org", name="Bob"),
        "first": post_comment(author=author, thread=thread, text=FIRST).comment,
        "second": post_comment(author=author, thread=thread, text=SECOND).comment,
    }


def test_reply_and_report_through_the_page_forms(browser: Browser, site: dict[str, Any]) -> None:
    base, first, second = site["url"], site["first"], site["second"]
    context, page = signed_in_page(browser, base, site["reader"])
    errors = watch_errors(page)
    page.goto(base + site["article"].get_absolute_url())
    first_item, second_item = (
        page.locator(f"#comment-{first.pk}"),
        page.locator(f"#comment-{second.pk}"),
    )
    # Only the comment form at the top is in the page until a Reply is pressed.
    expect(page.locator("#comments form")).to_have_count(1)

    reply = first_item.get_by_role("button", name="Reply", exact=True)
    expect(reply).to_have_attribute("aria-expanded", "false")
    reply.click()
    textarea = first_item.get_by_role("textbox", name="Your reply")
    expect(textarea).to_be_focused()
    expect(reply).to_have_attribute("aria-expanded", "true")
    expect(reply).to_have_attribute("aria-controls", "reply-panel")

    # Escape closes the form and gives the focus back to the button.
    page.keyboard.press("Escape")
    expect(textarea).to_be_hidden()
    expect(reply).to_be_focused()
    expect(reply).to_have_attribute("aria-expanded", "false")

    # The same form moves to the other comment, then back.
    second_item.get_by_role("button", name="Reply", exact=True).click()
    expect(second_item.get_by_role("textbox", name="Your reply")).to_be_focused()
    expect(page.locator("[data-panel=reply]")).to_have_count(1)
    second_item.get_by_role("button", name="Cancel").click()
    expect(second_item.get_by_role("button", name="Reply", exact=True)).to_be_focused()

    reply.click()
    textarea.fill("Who pays was the first question at the meeting, so this is progress.")
    first_item.get_by_role("button", name="Post reply").click()
    replies = first_item.locator(".comment-list--replies")
    expect(replies).to_contain_text("first question at the meeting")
    expect(textarea).to_be_hidden()  # a published reply closes the form
    posted = Comment.objects.get(parent=first)
    assert posted.author_id == site["reader"].pk and posted.status == "published"
    # The new comment's own Reply is a button too (its author does not get a Report).
    expect(
        page.locator(f"#comment-{posted.pk}").get_by_role("button", name="Reply", exact=True)
    ).to_be_visible()

    # Report: opened under the first comment, moved to the second, sent from there.
    first_report = first_item.get_by_role("button", name="Report", exact=True)
    first_report.click()
    expect(first_item.get_by_label("Which rule does it break?")).to_be_focused()
    second_report = second_item.get_by_role("button", name="Report", exact=True)
    second_report.click()
    expect(first_report).to_have_attribute("aria-expanded", "false")
    expect(second_report).to_have_attribute("aria-expanded", "true")
    rule = second_item.get_by_label("Which rule does it break?")
    expect(rule).to_be_focused()
    rule.select_option("off_topic")
    second_item.get_by_role("button", name="Send report").click()
    expect(second_item.locator("[data-form-status]")).to_have_text(
        "Thank you: the moderators will review this comment."
    )
    report = Report.objects.get()
    assert (report.comment_id, report.rule, report.reporter_id) == (
        second.pk,
        "off_topic",
        site["reader"].pk,
    )
    expect(page).to_have_url(re.compile(r"/news/"))  # all of it without leaving the page
    shot(page, "thread-one-reply-and-report-form.png")
    context.close()
    assert errors == []


def test_selected_text_is_quoted_in_the_reply(browser: Browser, site: dict[str, Any]) -> None:
    base, first = site["url"], site["first"]
    context, page = signed_in_page(browser, base, site["reader"])
    errors = watch_errors(page)
    page.goto(base + site["article"].get_absolute_url())
    item = page.locator(f"#comment-{first.pk}")
    # Select "who pays for the new sea wall" inside the comment's text.
    page.evaluate(
        """([id, words]) => {
            const text = document.querySelector(`#comment-${id} .comment__text p`).firstChild;
            const start = text.data.indexOf(words);
            const range = document.createRange();
            range.setStart(text, start);
            range.setEnd(text, start + words.length);
            getSelection().removeAllRanges();
            getSelection().addRange(range);
        }""",
        [first.pk, "who pays for the new sea wall"],
    )
    item.get_by_role("button", name="Reply", exact=True).click()
    textarea = item.get_by_role("textbox", name="Your reply")
    expect(textarea).to_have_value("> who pays for the new sea wall\n\n")
    textarea.press("End")
    textarea.type("The council, says the plan.")
    item.get_by_role("button", name="Post reply").click()
    reply = item.locator(".comment-list--replies .comment__text").first
    expect(reply.locator("blockquote")).to_have_text("who pays for the new sea wall")
    expect(reply).to_contain_text("The council, says the plan.")
    shot(page, "thread-quoted-reply.png", full_page=False)
    # Without a selection the reply starts empty.
    second = page.locator(f"#comment-{site['second'].pk}")
    page.evaluate("getSelection().removeAllRanges()")
    second.get_by_role("button", name="Reply", exact=True).click()
    expect(second.get_by_role("textbox", name="Your reply")).to_have_value("")
    assert not errors, errors
    context.close()
