"""The Arabic interface renders right to left, in a real browser (screenshot kept)."""

from __future__ import annotations

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


def _read_in(page: Page, site: str, language: str) -> None:
    """The language cookie the language switcher (set_language) would set."""
    page.context.add_cookies([{"name": "django_language", "value": language, "url": site}])


def test_the_arabic_article_page_is_right_to_left(page: Page, demo_site: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    article = Article.objects.order_by("-published_at").first()
    assert article is not None
    _read_in(page, demo_site, "ar")

    page.goto(demo_site + article.get_absolute_url())
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.locator(".site-nav")).to_contain_text("كل الأخبار")
    expect(page.locator(".site-footer")).to_contain_text("قواعد المجتمع")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"

    # Mirrored layout: the logo starts at the right edge, the search box sits to its left.
    logo = page.locator(".site-logo").bounding_box()
    search = page.locator(".site-search").bounding_box()
    assert logo is not None and search is not None
    assert search["x"] + search["width"] <= logo["x"]
    viewport = page.viewport_size
    assert viewport is not None and logo["x"] > viewport["width"] / 2

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "article-ar.png"), full_page=False)
    assert not errors, errors


def test_the_same_page_in_english_is_left_to_right(page: Page, demo_site: str) -> None:
    article = Article.objects.order_by("-published_at").first()
    assert article is not None
    _read_in(page, demo_site, "en")
    page.goto(demo_site + article.get_absolute_url())
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    logo = page.locator(".site-logo").bounding_box()
    search = page.locator(".site-search").bounding_box()
    assert logo is not None and search is not None
    assert logo["x"] + logo["width"] <= search["x"]


def test_the_arabic_standards_page_is_right_to_left_and_translated(
    page: Page, demo_site: str
) -> None:
    _read_in(page, demo_site, "ar")
    page.goto(demo_site + "/standards/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("قواعد المجتمع")
    expect(page.locator("#rule-20")).to_contain_text("لغة أجنبية")
    page.screenshot(path=str(SCREENSHOTS / "standards-ar.png"), full_page=False)
