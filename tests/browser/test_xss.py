"""XSS corpus: more than 50 payloads are posted, then rendered in Chromium on every page that
shows comment text (thread, permalink, "my comments" with evidence highlights, moderation
queue, embed). Nothing may execute: each payload would set a sentinel or open a dialog.

The site's Content-Security-Policy is switched off for the corpus, so that escaping and
sanitising are proven on their own (the CSP is the second wall, not the first);
test_the_csp_alone_stops_an_injected_payload checks the second wall separately."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page
from tests.browser._comments_helpers import shot, signed_in_page
from tests.discussion.conftest import make_article, make_user

from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import post_comment, thread_for_article

S = "window.__xss=(window.__xss||0)+1"
PAYLOADS = [
    f"<script>{S}</script>",
    f"<SCRIPT SRC=data:text/javascript,{S}></SCRIPT>",
    f'<img src=x onerror="{S}">',
    f"<img src=x onerror={S}>",
    f'<IMG SRC="javascript:{S}">',
    f"<svg onload={S}>",
    f"<svg><script>{S}</script></svg>",
    f"<body onload={S}>",
    f'<iframe src="javascript:{S}"></iframe>',
    f'<iframe srcdoc="<script>parent.{S}</script>"></iframe>',
    f'<a href="javascript:{S}">click</a>',
    f"<a href=javascript:{S}>x</a>",
    f"<details open ontoggle={S}>",
    f"<input autofocus onfocus={S}>",
    f"<select autofocus onfocus={S}>",
    f"<textarea autofocus onfocus={S}>",
    f"<video><source onerror={S}></video>",
    f"<audio src=x onerror={S}>",
    f"<marquee onstart={S}>",
    f'<object data="javascript:{S}">',
    f'<embed src="javascript:{S}">',
    f"<math><mtext><table><mglyph><style><img src=x onerror={S}>",
    f"<style>@import 'javascript:{S}';</style>",
    f'<div style="background:url(javascript:{S})">',
    f'<link rel=stylesheet href="javascript:{S}">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{S}">',
    f'<form action="javascript:{S}"><button>go</button></form>',
    f'<button formaction="javascript:{S}">x</button>',
    f'"><script>{S}</script>',
    f"'><img src=x onerror={S}>",
    f"</textarea><script>{S}</script>",
    f"</title><script>{S}</script>",
    f"<scr<script>ipt>{S}</scr</script>ipt>",
    f"<<script>{S}//<</script>",
    f'<img """><script>{S}</script>">',
    f"<img src=`x` onerror=`{S}`>",
    f"<svg/onload={S}>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    f"<x onclick={S} style=display:block;position:fixed;top:0;left:0;width:100%;height:100%>",
    f'https://example.org/"onmouseover="{S}',
    f"https://example.org/<img src=x onerror={S}>",
    f"https://example.org/'><script>{S}</script>",
    f'http://x.test/?q="><svg onload={S}>',
    f"javascript:{S}",
    f"data:text/html,<script>{S}</script>",
    f"&lt;script&gt;{S}&lt;/script&gt;",
    f"&#60;script&#62;{S}&#60;/script&#62;",
    f"\\u003cscript\\u003e{S}\\u003c/script\\u003e",
    f"{{{{constructor.constructor('{S}')()}}}}",
    f"{{% raw %}}<script>{S}</script>{{% endraw %}}",
    f"<template><script>{S}</script></template>",
    f'<noscript><p title="</noscript><img src=x onerror={S}>">',
    f'<svg><a xlink:href="javascript:{S}"><text x=20 y=20>XSS</text></a></svg>',
    f'<base href="javascript:{S}//">',
    f"<isindex type=image src=1 onerror={S}>",
    f'<table background="javascript:{S}">',
    '<img src="x" onerror="&#x77;indow.__xss=1">',
    f"\u202e<script>{S}</script>",
    f"<img src=x onerror\u00a0={S}>",
    f'<!--<img src="--><img src=x onerror={S}//">',
]


@pytest.fixture
def corpus(transactional_db: None, live_server: Any, settings: Any) -> dict[str, Any]:
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy
    from civility.standards.policy import Policy

    settings.CIVILITY_RATE_POST = "100000/60"
    settings.CIVILITY_EMBED_ORIGINS = [str(live_server.url)]
    settings.SECURE_CSP = {}  # escaping alone must hold (module docstring)
    base = site_default_policy()
    save_policy(
        Policy.from_dict({"rules": {s: {"enabled": False} for s in base.rules}}, base=base), by=None
    )
    article = make_article()
    author = make_user("mallory@example.org", name="<img src=x onerror=window.__xss=1>")
    thread = thread_for_article(article)
    comments = [
        post_comment(author=author, thread=thread, text=payload).comment for payload in PAYLOADS
    ]
    # Half of them are shown to their author as removed, with evidence spans cutting through
    # the markup (the highlighter must not open a hole).
    for index, comment in enumerate(comments[::2]):
        text = comment.text
        Comment.objects.filter(pk=comment.pk).update(
            status=CommentStatus.REJECTED,
            rule="insult",
            fired_rules=",insult,",
            verdict={
                "decision": "reject",
                "rules": ["insult"],
                "scores": {"insult": 0.95},
                "evidence": [
                    {
                        "rule": "insult",
                        "explanation": f"<b onmouseover={S}>why</b>",
                        "start": index % 5,
                        "end": min(len(text), 7 + index % 9),
                        "text": text[index % 5 : 7 + index % 9],
                    }
                ],
            },
        )
    return {
        "url": str(live_server.url),
        "article": article,
        "author": author,
        "comments": comments,
        "moderator": make_user("mona@example.org", name="Mona", moderator=True),
    }


def assert_nothing_ran(page: Page, dialogs: list[str], where: str) -> None:
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None, f"a payload executed on {where}"
    assert dialogs == [], f"a dialog opened on {where}: {dialogs}"
    handlers = page.evaluate(
        """() => Array.from(document.querySelectorAll('.comment__text *, .mod-card__text *, .comment__author, .comment__text'))
             .flatMap(el => Array.from(el.attributes).map(a => a.name))
             .filter(name => name.startsWith('on'))"""
    )
    assert handlers == [], f"event handler attributes survived on {where}: {handlers}"
    bad_links = page.evaluate(
        """() => Array.from(document.querySelectorAll('.comment__text a, .mod-card__text a'))
             .map(a => a.getAttribute('href')).filter(h => !/^https?:/i.test(h || ''))"""
    )
    assert bad_links == [], f"non-http links on {where}: {bad_links}"
    rels = page.evaluate(
        "() => Array.from(document.querySelectorAll('.comment__text a')).map(a => a.rel)"
    )
    assert all("nofollow" in rel and "ugc" in rel for rel in rels)


def visit(page: Page, url: str, where: str) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    response = page.goto(url)
    assert response is not None
    policy = response.headers.get("content-security-policy") or ""
    assert "script-src" not in policy, f"{where}: the CSP is on, so it would hide an escaping bug"
    # Hover and focus everything a payload might have hooked.
    for element in page.locator(".comment__text, .mod-card__text").all()[:30]:
        element.hover(timeout=2000)
    assert_nothing_ran(page, dialogs, where)


def test_more_than_fifty_payloads_are_inert_everywhere(
    browser: Browser, corpus: dict[str, Any]
) -> None:
    assert len(PAYLOADS) >= 50
    base, article = corpus["url"], corpus["article"]
    page = browser.new_page()
    visit(page, base + article.get_absolute_url(), "the article page (anonymous)")
    assert page.locator(".comment").count() >= len(PAYLOADS) // 2
    shot(page, "comments-xss-corpus.png", full_page=False)
    visit(page, base + f"/comments/{corpus['comments'][1].pk}/", "a comment permalink")
    visit(page, base + f"/embed/thread?url={base}/external-story", "the embed frame")
    page.close()

    context, author_page = signed_in_page(browser, base, corpus["author"])
    visit(author_page, base + article.get_absolute_url(), "the article page (author)")
    visit(author_page, base + "/my/comments/", "my comments (evidence highlighted)")
    assert author_page.locator("mark.evidence").count() > 0
    context.close()

    context, mod = signed_in_page(browser, base, corpus["moderator"])
    visit(mod, base + "/moderation/queue/all/", "the moderation queue")
    visit(mod, base + "/moderation/queue/rejected/", "the rejected queue")
    visit(mod, base + f"/moderation/comments/{corpus['comments'][0].pk}/", "a moderation card")
    visit(mod, base + f"/moderation/users/{corpus['author'].pk}/", "the author's moderation page")
    context.close()


def test_payload_text_round_trips_through_the_api(corpus: dict[str, Any]) -> None:
    from django.test import Client

    items = (
        Client()
        .get(f"/api/articles/{corpus['article'].slug}/comments?page_size=100")
        .json()["items"]
    )
    texts = {item["text"] for item in items}
    assert PAYLOADS[1] in texts  # stored as written; escaped only when rendered
    for item in items:
        assert "<script" not in item["html"].lower()
        assert "onerror" not in item["html"].lower() or "&lt;" in item["html"]


def test_the_sentinel_would_catch_an_executed_payload(browser: Browser) -> None:
    """Control: the same check does see a payload that runs."""
    page = browser.new_page()
    page.set_content(f"<p>{PAYLOADS[2]}</p><p>{PAYLOADS[5]}</p>")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") == 2
    page.close()


def test_the_csp_alone_stops_an_injected_payload(
    browser: Browser, transactional_db: None, live_server: Any
) -> None:
    """The second wall, with the site's real policy: markup that escaping let through (here
    injected by hand) still cannot run, and the browser reports the violation."""
    article = make_article()
    page = browser.new_page()
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " (e) => window.__csp.push(e.violatedDirective));"
    )
    response = page.goto(str(live_server.url) + article.get_absolute_url())
    assert response is not None
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
    page.evaluate(
        """(payloads) => {
             const box = document.createElement('div');
             document.body.appendChild(box);
             for (const p of payloads) box.insertAdjacentHTML('beforeend', p);
             const s = document.createElement('script');
             s.textContent = 'window.__xss=(window.__xss||0)+1';
             document.body.appendChild(s);
           }""",
        [PAYLOADS[2], PAYLOADS[5], PAYLOADS[10]],
    )
    page.locator("a[href^='javascript:']").first.click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    violations = page.evaluate("window.__csp")
    assert any(v.startswith("script-src") for v in violations), violations
    page.close()
