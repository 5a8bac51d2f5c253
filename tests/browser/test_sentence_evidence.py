"""A moderator sees which sentence of a long comment the engine objected to (Chromium).

The real engine judges the comment (no verdict written by hand): a learned rule that fires on
a comment of several sentences marks the one its head rates highest, and the Pending card
highlights it in the comment and quotes it in the evidence list.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from tests.browser._comments_helpers import shot, signed_in_page, watch_errors
from tests.browser.test_comments_journeys import missing_engine_families
from tests.discussion.conftest import make_article, make_user

from civility.discussion.models import CommentStatus
from civility.discussion.services import post_comment, thread_for_article

INSULTING = "Honestly the planners who drew this up are a bunch of brain-dead clowns."
TEXT = (
    "I read the whole article about the talks and the islands. "
    f"{INSULTING} Anyway, I hope the ministers meet again before the summer."
)


@pytest.mark.skipif(missing_engine_families("learned"), reason="learned models not installed")
def test_the_pending_card_marks_the_sentence_the_engine_objected_to(
    browser: Browser, transactional_db: None, live_server: Any, settings: Any
) -> None:
    settings.CIVILITY_RATE_POST = "1000/60"
    base = str(live_server.url)
    article = make_article()
    reader = make_user("alice@example.org", name="Alice")
    moderator = make_user("mona@example.org", name="Mona", moderator=True)
    comment = post_comment(author=reader, thread=thread_for_article(article), text=TEXT).comment
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING, comment.verdict
    marked = [e for e in comment.verdict["evidence"] if "marked sentence" in e["explanation"]]
    assert [e["text"] for e in marked] == [INSULTING]

    context, page = signed_in_page(browser, base, moderator)
    errors = watch_errors(page)
    page.goto(base + "/moderation/")
    page.get_by_role("link", name=re.compile("^Pending")).first.click()
    card = page.locator(f"#card-{comment.pk}")
    expect(card.locator("[data-card-text] mark.evidence")).to_have_text(INSULTING)
    expect(card.locator(".mod-evidence")).to_contain_text(f"“{INSULTING}”")
    expect(card.locator(".mod-evidence")).to_contain_text("the marked sentence reads most like it")
    shot(page, "moderation-sentence-evidence.png")
    assert errors == []
    context.close()
