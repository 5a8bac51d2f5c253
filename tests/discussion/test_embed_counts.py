"""Comment counts for a host site's listings: /embed/count.js and /embed/counts (the browser
test is tests/browser/test_embed.py::test_count_script_fills_a_host_listing)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civility.discussion.embed import MAX_COUNT_URLS
from civility.discussion.models import Comment, CommentStatus, Thread
from civility.discussion.services import thread_for_url

pytestmark = pytest.mark.django_db

HOST = "https://www.publisher.example"


@pytest.fixture
def host(settings: Any) -> str:
    settings.CIVILITY_EMBED_ORIGINS = [HOST]
    return HOST


def _comments(thread: Thread, author: Any, *statuses: str) -> None:
    for number, status in enumerate(statuses):
        Comment.objects.create(thread=thread, author=author, text=f"Remark {number}", status=status)


def test_the_script_is_javascript_pointing_at_this_site() -> None:
    response = Client().get("/embed/count.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.content.decode()
    assert '"http://testserver"' in body
    assert f"perRequest = {MAX_COUNT_URLS};" in body


def test_counts_are_public_comments_of_each_page_keyed_as_asked(host: str, reader: Any) -> None:
    bridge = thread_for_url(f"{host}/2026/bridge", title="Bridge")
    _comments(
        bridge,
        reader,
        CommentStatus.PUBLISHED,
        CommentStatus.PUBLISHED,
        CommentStatus.PENDING,
        CommentStatus.REJECTED,
    )
    quiet = thread_for_url(f"{host}/2026/quiet", title="Quiet")
    _comments(quiet, reader, CommentStatus.PUBLISHED)
    asked = [
        "https://WWW.publisher.example/2026/bridge#comments",
        f"{host}/2026/quiet",
        f"{host}/never-opened",
    ]
    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/embed/counts", {"url": asked})
    assert response.status_code == 200
    assert len(queries) == 1
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age=60" in response["Cache-Control"]
    assert response.json() == {
        "counts": {
            asked[0]: {"count": 2, "label": "2 comments"},
            asked[1]: {"count": 1, "label": "1 comment"},
            asked[2]: {"count": 0, "label": "0 comments"},
        }
    }
    assert Thread.objects.count() == 2  # counting never opens a thread


def test_labels_follow_the_readers_language(host: str, reader: Any) -> None:
    thread = thread_for_url(f"{host}/story", title="Story")
    _comments(thread, reader, *[CommentStatus.PUBLISHED] * 5)
    response = Client().get("/embed/counts", {"url": f"{host}/story"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.json()["counts"][f"{host}/story"] == {"count": 5, "label": "5 комментариев"}
    assert "Accept-Language" in response["Vary"]


def test_pages_of_other_origins_count_nothing(host: str, reader: Any, settings: Any) -> None:
    other = "https://elsewhere.example/story"
    settings.CIVILITY_EMBED_ORIGINS = [host, "https://elsewhere.example"]
    _comments(thread_for_url(other, title="Elsewhere"), reader, CommentStatus.PUBLISHED)
    settings.CIVILITY_EMBED_ORIGINS = [host]  # the operator stopped allowing it
    response = Client().get("/embed/counts", {"url": [other, "javascript:alert(1)"]})
    assert response.status_code == 200
    counts = response.json()["counts"]
    assert counts[other]["count"] == 0
    assert counts["javascript:alert(1)"]["count"] == 0


def test_bad_requests_get_a_clear_error(host: str) -> None:
    response = Client().get("/embed/counts")
    assert response.status_code == 400
    assert "url" in response.json()["error"]
    too_many = [f"{host}/page-{n}" for n in range(MAX_COUNT_URLS + 1)]
    response = Client().get("/embed/counts", {"url": too_many})
    assert response.status_code == 400
    assert str(MAX_COUNT_URLS) in response.json()["error"]
    assert Client().post("/embed/counts", {"url": host}).status_code == 405
