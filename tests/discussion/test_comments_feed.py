"""The Atom feed of an article's comments: public comments only, newest first, text
sanitised as on the page, linked from the article page."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest
from django.test import Client

from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import delete_own_comment, post_comment, thread_for_article
from tests.discussion.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

ATOM = "{http://www.w3.org/2005/Atom}"


def feed(slug: str) -> ElementTree.Element:
    response = Client().get(f"/news/{slug}/comments/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ElementTree.fromstring(response.content)


def test_the_feed_lists_public_comments_newest_first(
    article: Any, reader: Any, other_reader: Any
) -> None:
    thread = thread_for_article(article)
    first = post_comment(
        author=reader, thread=thread, text="The talks have stalled for a decade now."
    ).comment
    second = post_comment(
        author=other_reader,
        thread=thread,
        text="A date for the next round is progress <script>alert(1)</script> all the same.",
        parent=first,
    ).comment
    Comment.objects.create(thread=thread, author=reader, text="Held back.", status="pending")
    gone = post_comment(author=reader, thread=thread, text="I take this one back.").comment
    delete_own_comment(comment=gone, author=reader)
    assert second.status == CommentStatus.PUBLISHED

    root = feed(article.slug)
    assert article.headline in root.findtext(f"{ATOM}title", "")
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}author/{ATOM}name") for e in entries] == ["Bob", "Alice"]
    links = [str(link.get("href")) for e in entries if (link := e.find(f"{ATOM}link")) is not None]
    assert links[0].endswith(f"/comments/{second.pk}/") and links[1].endswith(
        f"/comments/{first.pk}/"
    )
    summary = entries[0].findtext(f"{ATOM}summary", "")
    assert "A date for the next round is progress" in summary and "<script>" not in summary
    body = ElementTree.tostring(root, encoding="unicode")
    assert "Held back." not in body and "I take this one back." not in body


def test_unknown_articles_have_no_feed_and_the_article_page_links_its_feed(
    article: Any,
) -> None:
    assert Client().get("/news/no-such-story/comments/feed/").status_code == 404
    page = Client().get(f"/news/{article.slug}/").content.decode()
    assert 'type="application/atom+xml" title="Comments on' in page
    assert f'href="/news/{article.slug}/comments/feed/"' in page


def test_an_empty_discussion_is_an_empty_feed(article: Any) -> None:
    make_user("nobody@example.org", name="Nobody")
    assert feed(article.slug).findall(f"{ATOM}entry") == []
