"""/embed.js on a page served from another local port: the thread is keyed by the page's
canonical URL, created on first view for allowed origins, refused for others."""

from __future__ import annotations

import http.server
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from tests.browser._comments_helpers import shot, signed_in_page
from tests.discussion.conftest import make_user

from civility.discussion.models import Comment, Thread

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Harbour bridge reopens after repairs</title>
<link rel="canonical" href="{canonical}"></head>
<body><h1>Harbour bridge reopens after repairs</h1>
<p>The city's harbour bridge reopened on Monday after six months of repairs to its deck.</p>
<div id="civility-comments"></div>
<script src="{civility}/embed.js" async></script>
</body></html>"""


LISTING_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Latest news</title></head>
<body><h1>Latest news</h1>
<ul>
<li><a href="{origin}/story">Harbour bridge reopens</a>
    <a class="count" id="story-count" href="{origin}/story#comments" data-civility-count>Comments</a></li>
<li><a href="{origin}/other-story">Council budget</a>
    <span class="count" id="other-count" data-civility-count="{origin}/other-story"></span></li>
</ul>
<script src="{civility}/embed/count.js" async></script>
</body></html>"""


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


@pytest.fixture
def host_site(live_server: Any) -> Iterator[dict[str, Any]]:
    """A publisher's page on another port, embedding Civility from the live server."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0])
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # Same site as the live server (localhost, another port), as with comments.publisher.example
    # embedded on www.publisher.example: the session cookie (SameSite=Lax) reaches the frame.
    origin = f"http://localhost:{server.server_address[1]}"
    civility = str(live_server.url)
    for path in ("/story", "/other-story"):
        pages[path] = HOST_PAGE.format(canonical=f"{origin}{path}", civility=civility)
    pages["/listing"] = LISTING_PAGE.format(origin=origin, civility=civility)
    yield {"origin": origin, "civility": civility}
    server.shutdown()
    server.server_close()


@pytest.fixture
def lenient(transactional_db: None) -> None:
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy
    from civility.standards.policy import Policy

    base = site_default_policy()
    save_policy(
        Policy.from_dict({"rules": {s: {"enabled": False} for s in base.rules}}, base=base), by=None
    )


def test_embed_renders_creates_the_thread_and_takes_a_comment(
    browser: Browser, host_site: dict[str, Any], lenient: None, settings: Any
) -> None:
    settings.CIVILITY_EMBED_ORIGINS = [host_site["origin"]]
    settings.CIVILITY_RATE_POST = "1000/60"
    reader = make_user("alice@example.org", name="Alice")
    context, page = signed_in_page(browser, host_site["civility"], reader)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(host_site["origin"] + "/story#top")
    frame = page.frame_locator("iframe[data-civility-embed]")
    expect(frame.locator("#comments h2")).to_contain_text("Comments")
    thread = Thread.objects.get()
    assert thread.canonical_url == host_site["origin"] + "/story"
    assert thread.article_id is None
    assert thread.title == "Harbour bridge reopens after repairs"

    frame.locator("textarea[name=text]").fill(
        "Good to see the bridge open again; the detour was long."
    )
    frame.get_by_role("button", name="Post comment").click()
    expect(frame.locator(".comment-list")).to_contain_text("the detour was long")
    assert Comment.objects.get().thread == thread
    # The frame grows to fit its content (postMessage from the frame to embed.js).
    page.wait_for_function(
        "document.querySelector('iframe[data-civility-embed]').offsetHeight > 300"
    )
    shot(page, "comments-embed.png")

    # A second view of the same canonical URL reuses the thread.
    page.goto(host_site["origin"] + "/story")
    expect(
        page.frame_locator("iframe[data-civility-embed]").locator(".comment-list")
    ).to_contain_text("detour")
    assert Thread.objects.count() == 1
    context.close()
    assert errors == []


def test_embed_is_refused_for_origins_not_allowed(
    browser: Browser, host_site: dict[str, Any], transactional_db: None, settings: Any
) -> None:
    settings.CIVILITY_EMBED_ORIGINS = ["https://publisher.example"]
    page = browser.new_page()
    page.goto(host_site["origin"] + "/other-story")
    expect(page.locator("iframe[data-civility-embed]")).to_be_attached()
    page.wait_for_timeout(1000)
    # The refusal (403) may not be framed at all; either way no thread shows and none is made.
    expect(page.frame_locator("iframe[data-civility-embed]").locator("#comments")).to_have_count(0)
    assert Thread.objects.count() == 0
    page.close()


def test_a_reader_recommends_a_comment_inside_the_frame(
    browser: Browser, host_site: dict[str, Any], lenient: None, settings: Any
) -> None:
    from civility.discussion.services import post_comment, thread_for_url

    settings.CIVILITY_EMBED_ORIGINS = [host_site["origin"]]
    thread = thread_for_url(host_site["origin"] + "/story", title="Harbour bridge reopens")
    author = make_user("bruno@example.org", name="Bruno")
    comment = post_comment(
        author=author, thread=thread, text="The new deck is much quieter for the houses nearby."
    ).comment
    reader = make_user("carla@example.org", name="Carla")
    context, page = signed_in_page(browser, host_site["civility"], reader)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(host_site["origin"] + "/story")
    frame = page.frame_locator("iframe[data-civility-embed]")
    button = frame.locator(f"#comment-{comment.pk} button.comment__recommend")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    # The form goes back to the frame, not to the host page or a new tab.
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_contain_text("1")
    assert page.url.startswith(host_site["origin"])
    comment.refresh_from_db()
    assert comment.recommendations == 1
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    comment.refresh_from_db()
    assert comment.recommendations == 0
    context.close()
    assert errors == []


def test_count_script_fills_a_host_listing(
    browser: Browser, host_site: dict[str, Any], transactional_db: None, settings: Any
) -> None:
    from civility.discussion.models import CommentStatus
    from civility.discussion.services import thread_for_url

    settings.CIVILITY_EMBED_ORIGINS = [host_site["origin"]]
    author = make_user("writer@example.org", name="Writer")
    story = thread_for_url(f"{host_site['origin']}/story", title="Harbour bridge reopens")
    for number, status in enumerate(
        [CommentStatus.PUBLISHED, CommentStatus.PUBLISHED, CommentStatus.PENDING]
    ):
        Comment.objects.create(thread=story, author=author, text=f"Remark {number}", status=status)
    page = browser.new_page()
    page.goto(f"{host_site['origin']}/listing")
    expect(page.locator("#story-count")).to_have_text("2 comments")
    expect(page.locator("#story-count")).to_have_attribute("data-civility-count-value", "2")
    expect(page.locator("#other-count")).to_have_text("0 comments")
    assert Thread.objects.count() == 1  # the listing opened no thread
    page.close()
