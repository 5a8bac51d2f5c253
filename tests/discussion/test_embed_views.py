"""/embed.js and the framed thread through HTTP (the browser test is tests/browser/test_embed.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from civility.discussion.models import Thread

pytestmark = pytest.mark.django_db


def test_embed_script_is_javascript_pointing_at_this_site() -> None:
    response = Client().get("/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert (
        "http://testserver/embed/thread?url=" not in response.content.decode()
    )  # built at runtime
    assert '"http://testserver"' in response.content.decode()


def test_thread_is_created_on_first_view_for_an_allowed_origin(settings: Any) -> None:
    settings.CIVILITY_EMBED_ORIGINS = ["https://www.publisher.example"]
    url = "https://www.publisher.example/2026/bridge#comments"
    response = Client().get("/embed/thread", {"url": url, "title": "Bridge reopens"})
    assert response.status_code == 200
    assert (
        "frame-ancestors 'self' https://www.publisher.example"
        in response["Content-Security-Policy"]
    )
    assert "X-Frame-Options" not in response
    thread = Thread.objects.get()
    assert thread.canonical_url == "https://www.publisher.example/2026/bridge"
    assert thread.title == "Bridge reopens"
    Client().get("/embed/thread", {"url": url})
    assert Thread.objects.count() == 1


def test_other_origins_and_bad_urls_are_refused(settings: Any) -> None:
    settings.CIVILITY_EMBED_ORIGINS = ["https://www.publisher.example"]
    assert Client().get("/embed/thread", {"url": "https://evil.example/page"}).status_code == 403
    assert Client().get("/embed/thread", {"url": "javascript:alert(1)"}).status_code == 400
    assert Client().get("/embed/thread").status_code == 400
    assert not Thread.objects.exists()


@pytest.mark.usefixtures("lenient_policy")
def test_posting_in_the_embed_needs_a_session_and_csrf(reader: Any, settings: Any) -> None:
    settings.CIVILITY_EMBED_ORIGINS = ["https://www.publisher.example"]
    url = "https://www.publisher.example/story"
    Client().get("/embed/thread", {"url": url})
    thread = Thread.objects.get()
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    assert (
        client.post(f"/embed/thread/{thread.pk}/post?url={url}", {"text": "Hello"}).status_code
        == 403
    )
    page = client.get("/embed/thread", {"url": url})
    token = (
        page.cookies["csrftoken"].value
        if "csrftoken" in page.cookies
        else client.cookies["csrftoken"].value
    )
    response = client.post(
        f"/embed/thread/{thread.pk}/post?url={url}",
        {"text": "Good to see the bridge open again.", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert thread.comments.get().text == "Good to see the bridge open again."


@pytest.mark.usefixtures("lenient_policy")
def test_the_embed_keeps_a_reply_form_under_each_comment(
    reader: Any, other_reader: Any, settings: Any
) -> None:
    """The frame runs no thread.js: its comments keep their own reply and report forms (the
    article page's comments have links, and one form of each that thread.js moves)."""
    from civility.discussion.services import post_comment

    settings.CIVILITY_EMBED_ORIGINS = ["https://www.publisher.example"]
    url = "https://www.publisher.example/story"
    Client().get("/embed/thread", {"url": url})
    thread = Thread.objects.get()
    text = "Good to see the bridge open again after all these months."
    comment = post_comment(author=reader, thread=thread, text=text).comment
    client = Client()
    client.force_login(other_reader)
    page = client.get("/embed/thread", {"url": url}).content.decode()
    assert f'<input type="hidden" name="parent_id" value="{comment.pk}">' in page
    assert f'action="/comments/{comment.pk}/report/"' in page
    assert f'<label for="report-rule-{comment.pk}">' in page
    assert f'<select id="report-rule-{comment.pk}" name="rule" required>' in page
    assert "data-reply-template" not in page and 'data-action="reply"' not in page
    client.post(
        f"/embed/thread/{thread.pk}/post?url={url}",
        {"text": "It was closed far too long.", "parent_id": comment.pk},
    )
    assert thread.comments.get(parent=comment).text == "It was closed far too long."


@pytest.mark.usefixtures("lenient_policy")
def test_readers_recommend_a_comment_inside_the_frame(
    reader: Any, other_reader: Any, settings: Any
) -> None:
    """The frame runs no thread.js, so each button is a form that says which way it goes."""
    from civility.discussion.models import Recommendation
    from civility.discussion.services import post_comment

    settings.CIVILITY_EMBED_ORIGINS = ["https://www.publisher.example"]
    url = "https://www.publisher.example/ferry"
    Client().get("/embed/thread", {"url": url})
    thread = Thread.objects.get()
    comment = post_comment(
        author=reader, thread=thread, text="A winter timetable would help the islanders a lot."
    ).comment
    action = f'action="/embed/comments/{comment.pk}/recommend?url='

    author = Client()
    author.force_login(reader)
    assert action not in author.get("/embed/thread", {"url": url}).content.decode(), "not one's own"

    client = Client()
    client.force_login(other_reader)
    page = client.get("/embed/thread", {"url": url}).content.decode()
    assert action in page
    assert '<input type="hidden" name="recommend" value="1">' in page
    response = client.post(f"/embed/comments/{comment.pk}/recommend?url={url}", {"recommend": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/embed/thread?{urlencode({'url': url})}#comment-{comment.pk}"
    comment.refresh_from_db()
    assert comment.recommendations == 1
    assert Recommendation.objects.filter(comment=comment, user=other_reader).exists()

    page = client.get("/embed/thread", {"url": url}).content.decode()
    assert '<input type="hidden" name="recommend" value="0">' in page
    assert 'aria-pressed="true"' in page
    client.post(f"/embed/comments/{comment.pk}/recommend?url={url}", {"recommend": "0"})
    comment.refresh_from_db()
    assert comment.recommendations == 0

    client.post(f"/embed/comments/{comment.pk}/recommend?url={url}", {"recommend": "1"})
    signed_out = Client().get("/embed/thread", {"url": url}).content.decode()
    assert action not in signed_out and "1 recommendation" in signed_out

    anonymous = Client().post(f"/embed/comments/{comment.pk}/recommend?url={url}")
    assert anonymous.status_code == 302
    comment.refresh_from_db()
    assert comment.recommendations == 1, "a signed-out POST changes nothing"
    own = author.post(f"/embed/comments/{comment.pk}/recommend?url={url}", {"recommend": "1"})
    assert own.status_code == 302
    comment.refresh_from_db()
    assert comment.recommendations == 1, "authors cannot recommend their own comment"
    refused = author.get(own["Location"]).content.decode()
    assert "You cannot recommend your own comment." in refused
