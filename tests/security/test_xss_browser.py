"""The XSS corpus (tests/security/xss_payloads.txt, 100 payloads) in display names, article
fields (headline, lead, body, dateline, image text, tag names) and search queries, rendered in
Chromium. Nothing may run: each payload calls XSS(), which would bump a sentinel.

The site's CSP would stop inline scripts anyway; it is switched off here so that escaping and
sanitising are tested on their own (CSP is the second wall, not the first). The comment text
itself is covered by tests/browser/test_xss.py (the discussion app's corpus, included here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Dialog, Page

from tests.browser._comments_helpers import signed_in_page
from tests.security.browser import needs_chromium

pytestmark = needs_chromium

CORPUS = Path(__file__).with_name("xss_payloads.txt")
SENTINEL = "window.__xss=(window.__xss||0)+1"
PAYLOADS = [
    line.replace("XSS()", SENTINEL)
    for line in CORPUS.read_text(encoding="utf-8").splitlines()
    if line
]

# Every attribute that runs script, every inline script, every javascript: URL in the page.
INJECTED = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const value = (attr.value || '').replace(/[\\s\\x00-\\x1f]/g, '').toLowerCase();
      if (attr.name.startsWith('on')) found.push(`${el.tagName}[${attr.name}]`);
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'poster'].includes(attr.name)
          && (value.startsWith('javascript:') || value.startsWith('data:text/html')))
        found.push(`${el.tagName}[${attr.name}=${attr.value.slice(0, 40)}]`);
    }
    if (el.tagName === 'SCRIPT' && !el.src && el.type !== 'application/json' && el.textContent.trim())
      found.push('inline SCRIPT: ' + el.textContent.slice(0, 40));
    if (['IFRAME', 'OBJECT', 'EMBED', 'BASE', 'META'].includes(el.tagName) && el.closest('main'))
      found.push(el.tagName + ' inside main');
  }
  return found;
}"""


def test_the_corpus_is_large_enough() -> None:
    assert len(PAYLOADS) >= 50
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    assert all("__xss" in p or "alert" in p or "base64" in p for p in PAYLOADS)


@pytest.fixture
def hostile_site(
    transactional_db: None, live_server: Any, settings: Any, lenient_policy: Any
) -> dict[str, Any]:
    from civility.accounts.commands.createuser import create_user
    from civility.discussion.models import Comment, CommentStatus
    from civility.discussion.services import thread_for_article
    from civility.news.models import Article, Tag

    settings.SECURE_CSP = {}
    settings.CIVILITY_NORMALISE_DISPLAY_NAMES = False  # the raw payloads reach the templates
    articles = []
    for index, payload in enumerate(PAYLOADS):
        article = Article.objects.create(
            slug=f"xss-{index}",
            headline=payload[:300],
            lead=payload,
            body=f"<p>{payload}</p>{payload}",
            dateline=payload[:60],
            image_alt=payload[:300],
            image_credit=payload[:200],
        )
        tag = Tag.objects.create(slug=f"xss-tag-{index}", name=payload[:80])
        article.tags.add(tag)
        articles.append(article)
    stage = articles[0]
    thread = thread_for_article(stage)
    authors = []
    for index, payload in enumerate(PAYLOADS):
        author = create_user(f"name{index}@example.org", "S3cure-pass!", display_name=payload[:80])
        authors.append(author)
        Comment.objects.create(
            thread=thread,
            author=author,
            text=f"Comment number {index}.",
            status=CommentStatus.PUBLISHED if index % 2 else CommentStatus.PENDING,
        )
    moderator = create_user("mod@example.org", "S3cure-pass!", moderator=True)
    return {
        "url": str(live_server.url),
        "articles": articles,
        "authors": authors,
        "moderator": moderator,
    }


class Visitor:
    """Loads pages in one tab and checks each for anything that ran or was injected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self.on_dialog)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visit(self, url: str, where: str) -> None:
        self.dialogs.clear()
        response = self.page.goto(url)
        assert response is not None and response.status < 500, where
        self.page.mouse.move(300, 300)
        self.page.mouse.move(600, 500)
        self.page.wait_for_timeout(50)
        assert self.page.evaluate("window.__xss") is None, f"a payload ran on {where}"
        assert self.dialogs == [], f"a dialog opened on {where}: {self.dialogs}"
        injected = self.page.evaluate(INJECTED)
        assert injected == [], f"markup was injected on {where}: {injected[:5]}"


def test_article_fields_and_tag_names_are_inert(
    browser: Browser, hostile_site: dict[str, Any]
) -> None:
    base = hostile_site["url"]
    page = browser.new_page()
    visitor = Visitor(page)
    for number in range(1, 1 + (len(PAYLOADS) + 9) // 10):
        visitor.visit(f"{base}/?page={number}", f"front page {number}")
    for article in hostile_site["articles"]:
        visitor.visit(base + article.get_absolute_url(), f"article {article.slug}")
    for index in range(0, len(PAYLOADS), 7):
        visitor.visit(f"{base}/tags/xss-tag-{index}/", f"tag page {index}")
    page.close()


def test_search_queries_are_inert(browser: Browser, hostile_site: dict[str, Any]) -> None:
    base = hostile_site["url"]
    page = browser.new_page()
    visitor = Visitor(page)
    for index, payload in enumerate(PAYLOADS):
        visitor.visit(f"{base}/search?q={quote(payload)}", f"search for payload {index}")
    page.close()


def test_display_names_are_inert(browser: Browser, hostile_site: dict[str, Any]) -> None:
    base = hostile_site["url"]
    stage = hostile_site["articles"][0]
    page = browser.new_page()
    Visitor(page).visit(base + stage.get_absolute_url(), "the thread with every name")
    page.close()
    context, mod_page = signed_in_page(browser, base, hostile_site["moderator"])
    mod = Visitor(mod_page)
    mod.visit(f"{base}/moderation/queue/all/", "the moderation queue")
    mod.visit(f"{base}/moderation/queue/pending/", "the pending queue")
    mod.visit(f"{base}/moderation/audit/", "the audit log")
    for author in hostile_site["authors"][::9]:
        mod.visit(f"{base}/moderation/users/{author.pk}/", f"moderation page of {author.pk}")
    context.close()
    context, own_page = signed_in_page(browser, base, hostile_site["authors"][3])
    own = Visitor(own_page)
    own.visit(f"{base}/account/", "the author's account page")
    own.visit(f"{base}/my/comments/", "the author's comments")
    context.close()


def test_the_sentinel_and_the_dom_check_would_catch_a_hit(browser: Browser) -> None:
    """Control: on a page that does not escape, the same checks fire."""
    page = browser.new_page()
    page.set_content(f"<p>{PAYLOADS[2]}</p><p>{PAYLOADS[5]}</p>")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") == 2
    assert page.evaluate(INJECTED)
    page.close()
