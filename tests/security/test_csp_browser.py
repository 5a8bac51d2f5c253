"""Every main page under the site's Content-Security-Policy, in Chromium: no violation.

The policy has no 'unsafe-inline' and no 'unsafe-eval', so an inline script, an inline event
handler, a style attribute in markup or a script from another origin would show up here as a
``securitypolicyviolation`` event or a "Refused to ..." console message. Also: pages cannot be
framed by other sites, and the embed frame only by the configured origins.
"""

from __future__ import annotations

import http.server
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser._comments_helpers import signed_in_page
from tests.security.browser import CSP_RECORDER, needs_chromium

pytestmark = needs_chromium


@pytest.fixture
def site(
    transactional_db: None, live_server: Any, settings: Any, lenient_policy: Any
) -> dict[str, Any]:
    from civility.accounts.commands.createuser import create_user
    from civility.discussion.models import Comment, CommentStatus
    from civility.discussion.services import thread_for_article
    from civility.moderation.services import block_user
    from tests.news.factories import ArticleFactory

    settings.CIVILITY_WRITE_LIMITS_ENABLED = False
    article = ArticleFactory(slug="harbour-bridge", tags=["Transport"])
    reader = create_user("reader@example.org", "S3cure-pass!", display_name="Reader")
    moderator = create_user("mod@example.org", "S3cure-pass!", moderator=True, display_name="Mod")
    blocked = create_user("blocked@example.org", "S3cure-pass!", display_name="Blocked")
    block_user(blocked, moderator=moderator, reason="test")
    staff = create_user("staff@example.org", "S3cure-pass!", staff=True, display_name="Staff")
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    thread = thread_for_article(article)
    comment = Comment.objects.create(
        thread=thread,
        author=reader,
        text="Good news for commuters.",
        status=CommentStatus.PUBLISHED,
    )
    Comment.objects.create(
        thread=thread, author=reader, text="Held for review.", status=CommentStatus.PENDING
    )
    return {
        "url": str(live_server.url),
        "article": article,
        "comment": comment,
        "reader": reader,
        "moderator": moderator,
        "blocked": blocked,
        "staff": staff,
    }


def recording(context: BrowserContext) -> BrowserContext:
    context.add_init_script(CSP_RECORDER)
    return context


def visit_all(page: Page, base: str, paths: list[str]) -> list[str]:
    """Load each page; return the violations seen, one line each."""
    console: list[str] = []
    page.on(
        "console",
        lambda m: (
            console.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text
            else None
        ),
    )
    found: list[str] = []
    for path in paths:
        console.clear()
        response = page.goto(base + path)
        assert response is not None and response.status < 500, (
            f"{path}: {response and response.status}"
        )
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), path
        page.wait_for_timeout(400)  # late scripts: the captcha solver, fetches, the service worker
        events = page.evaluate("window.__csp || []")
        found += [f"{path}: {line}" for line in events + console]
    return found


ANONYMOUS_PAGES = [
    "/",
    "/news/harbour-bridge/",
    "/tags/transport/",
    "/search?q=bridge",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/account/standards/",
    "/account/privacy/",
    "/contact/",
    "/unlock/",
    "/blocked/",
    "/.well-known/security.txt",
]


def test_public_pages_have_no_csp_violation(browser: Browser, site: dict[str, Any]) -> None:
    context = recording(browser.new_context())
    page = context.new_page()
    pages = [*ANONYMOUS_PAGES, f"/comments/{site['comment'].pk}/"]
    violations = visit_all(page, site["url"], pages)
    # The sign-up page's captcha solves itself in the page (a script, hashes, a fetch).
    page.goto(site["url"] + "/accounts/signup/")
    page.wait_for_timeout(1500)
    violations += [f"/accounts/signup/ (solved): {v}" for v in page.evaluate("window.__csp")]
    context.close()
    assert violations == [], "\n".join(violations)


def test_reader_and_moderator_pages_have_no_csp_violation(
    browser: Browser, site: dict[str, Any]
) -> None:
    base = site["url"]
    violations: list[str] = []
    context, page = signed_in_page(browser, base, site["reader"])
    recording(context)
    violations += visit_all(
        page,
        base,
        [
            "/",
            "/news/harbour-bridge/",
            f"/comments/{site['comment'].pk}/reply/",
            f"/comments/{site['comment'].pk}/edit/",
            f"/comments/{site['comment'].pk}/report/",
            "/my/comments/",
            "/my/api-tokens/",
            "/my/ignored/",
            "/my/replies/",
            f"/my/comments/{site['comment'].pk}/review/",
            f"/comments/{site['comment'].pk}/ignore-author/",
            "/account/",
            "/account/display-name/",
            "/account/data/",
            "/notifications/",
            "/accounts/email/",
            "/accounts/password/change/",
        ],
    )
    context.close()
    context, page = signed_in_page(browser, base, site["blocked"])
    recording(context)
    violations += visit_all(page, base, ["/news/harbour-bridge/", "/blocked/", "/unlock/"])
    context.close()
    context, page = signed_in_page(browser, base, site["moderator"])
    recording(context)
    violations += visit_all(
        page,
        base,
        [
            "/moderation/",
            "/moderation/queue/all/",
            "/moderation/queue/pending/",
            f"/moderation/comments/{site['comment'].pk}/",
            f"/moderation/users/{site['reader'].pk}/",
            "/moderation/appeals/",
            "/moderation/reviews/",
            "/moderation/messages/",
            "/moderation/email-domains/",
            "/moderation/policy/",
            "/moderation/threads/",
            "/moderation/audit/",
        ],
    )
    context.close()
    assert violations == [], "\n".join(violations)


def test_admin_pages_have_no_csp_violation(browser: Browser, site: dict[str, Any]) -> None:
    base = site["url"]
    context, page = signed_in_page(browser, base, site["staff"])
    recording(context)
    violations = visit_all(
        page,
        base,
        [
            "/admin/",
            "/admin/news/article/",
            "/admin/news/article/add/",
            f"/admin/news/article/{site['article'].pk}/change/",
            f"/admin/accounts/user/{site['reader'].pk}/change/",
            "/admin/auth/group/add/",
            "/admin/webhooks/webhookendpoint/add/",
            "/admin/webhooks/webhookdelivery/",
            f"/moderation/users/{site['reader'].pk}/personal-data/",
        ],
    )
    context.close()
    assert violations == [], "\n".join(violations)


def test_the_api_docs_page_has_no_csp_violation(
    browser: Browser, site: dict[str, Any], settings: Any
) -> None:
    """Swagger UI renders from the site's own static files: no CDN, no inline script."""
    assert "ninja" in settings.INSTALLED_APPS, (
        'without "ninja" in INSTALLED_APPS, ninja renders /api/docs from a CDN (jsdelivr), which '
        "the CSP refuses: add it to INSTALLED_APPS in config/settings.py"
    )
    context = recording(browser.new_context())
    page = context.new_page()
    other_origins: list[str] = []
    page.on(
        "request",
        lambda r: other_origins.append(r.url) if not r.url.startswith(site["url"]) else None,
    )
    violations = visit_all(page, site["url"], ["/api/docs"])
    # Rendered, not merely silent: Swagger UI read the schema and shows the operations.
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert "Civility API" in page.locator(".swagger-ui .info .title").inner_text()
    context.close()
    assert violations == [], "\n".join(violations)
    assert other_origins == [], other_origins


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


@pytest.fixture
def other_site(live_server: Any) -> Iterator[Any]:
    """Another origin whose page frames a URL given in ?src= (a publisher, or an attacker)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            from urllib.parse import parse_qs, urlsplit

            src = parse_qs(urlsplit(self.path).query).get("src", [""])[0]
            body = f'<!doctype html><title>host</title><iframe id="f" src="{src}"></iframe>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def framed_page_loaded(page: Page, host: str, src: str) -> bool:
    """Whether ``src`` rendered inside a frame on ``host`` (a refused frame stays empty)."""
    page.goto(f"{host}/?src={src}")
    page.wait_for_timeout(800)
    frame = page.frames[1] if len(page.frames) > 1 else None
    if frame is None:
        return False
    try:
        # A refused frame holds Chromium's error page (chrome-error://), not our markup.
        return bool(frame.evaluate("document.querySelector('link[rel=stylesheet]') !== null"))
    except Exception:  # the error page's context may not be scriptable at all
        return False


def test_pages_cannot_be_framed_and_embeds_only_by_allowed_origins(
    browser: Browser, site: dict[str, Any], other_site: str, settings: Any
) -> None:
    from urllib.parse import quote

    base = site["url"]
    page = browser.new_page()
    assert not framed_page_loaded(page, other_site, quote(base + "/news/harbour-bridge/", safe=""))
    assert not framed_page_loaded(page, other_site, quote(base + "/accounts/login/", safe=""))
    story = quote(f"{other_site}/story", safe="")
    embed = quote(f"{base}/embed/thread?url={story}", safe="")
    settings.CIVILITY_EMBED_ORIGINS = ["https://publisher.example"]
    assert not framed_page_loaded(page, other_site, embed), "embed framed by a foreign origin"
    settings.CIVILITY_EMBED_ORIGINS = [other_site]
    assert framed_page_loaded(page, other_site, embed), "embed refused to its own publisher"
    page.close()
