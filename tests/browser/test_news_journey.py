"""A reader's first visit: front page → article → tag → short URL → search."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from civility.news.demo_content import load_demo
from civility.news.models import Article

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def demo_site(transactional_db: None, live_server: Any) -> str:
    load_demo()
    return str(live_server.url)


def _watch_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return errors


def test_front_page_article_tag_short_url_search(page: Page, demo_site: str) -> None:
    errors = _watch_errors(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(demo_site + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("All news")
    cards = page.locator("article.card")
    expect(cards).to_have_count(10)
    page.screenshot(path=str(SCREENSHOTS / "front.png"))

    first_headline = cards.first.locator("h2").inner_text()
    cards.first.locator("h2 a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first_headline)
    article = Article.objects.get(headline=first_headline)
    short_url = page.locator("#short-url").input_value()
    assert short_url == f"{demo_site}/s/{article.short_code}"
    expect(page.locator(".related li")).to_have_count(5)
    expect(page.locator("#comments")).to_be_attached()
    page.screenshot(path=str(SCREENSHOTS / "article.png"))

    tag = article.tags.order_by("name").first()
    assert tag is not None
    page.locator(".article__footer .tags").get_by_role("link", name=tag.name, exact=True).click()
    expect(page).to_have_url(f"{demo_site}/tags/{tag.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(tag.name)
    expect(page.get_by_role("link", name=first_headline, exact=True)).to_be_visible()

    page.goto(short_url)
    expect(page).to_have_url(demo_site + article.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(first_headline)

    other = Article.objects.exclude(pk=article.pk).order_by("published_at").first()
    assert other is not None
    page.get_by_role("searchbox", name="Search articles").fill(other.headline)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q="))
    expect(page.locator("article.card h2").first).to_have_text(other.headline)
    page.screenshot(path=str(SCREENSHOTS / "search.png"))

    assert errors == []


def test_short_link_can_be_copied_and_shares_are_counted(page: Page, demo_site: str) -> None:
    errors = _watch_errors(page)
    article = Article.objects.order_by("-published_at").first()
    assert article is not None
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo_site)
    page.goto(demo_site + article.get_absolute_url())
    copy = page.locator("button.copy-button")  # its accessible name changes on click
    expect(copy).to_have_text("Copy")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert (
        page.evaluate("navigator.clipboard.readText()") == page.locator("#short-url").input_value()
    )

    # Opening the share window is the network's business; the count is ours.
    page.route("https://**/*", lambda route: route.abort())
    with page.expect_popup() as popup:
        page.get_by_role("link", name="Telegram").click()
    popup.value.close()
    expect(page.locator("[data-share-count]")).to_have_text("1")
    article.refresh_from_db()
    assert article.share_count == 1
    assert errors == []


def test_small_screens_get_a_readable_article(page: Page, demo_site: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    article = Article.objects.order_by("-published_at").first()
    assert article is not None
    page.goto(demo_site + article.get_absolute_url())
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the article page scrolls sideways on a phone"
    page.screenshot(path=str(SCREENSHOTS / "article-mobile.png"))


def test_unknown_page_shows_the_404_page(page: Page, demo_site: str) -> None:
    response = page.goto(demo_site + "/news/no-such-story/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
