"""A site may close comments some days after an article's publication
(Site.close_comments_after_days; 0, the default, never closes them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civility.discussion.errors import CommentsClosed
from civility.discussion.models import Thread
from civility.discussion.selectors import comments_closed
from civility.discussion.services import post_comment, thread_for_article
from civility.sites.current import clear_cache, default_site_id
from civility.sites.models import Site
from tests.discussion.conftest import make_article

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

TEXT = "The talks on the peace treaty and the islands seem to be making slow progress."


def close_after(days: int) -> None:
    Site.objects.filter(pk=default_site_id()).update(close_comments_after_days=days)
    clear_cache()


def aged(slug: str, days: float) -> Any:
    return make_article(slug, published_at=timezone.now() - timedelta(days=days))


def test_old_articles_stay_open_by_default(reader: Any) -> None:
    old = aged("old-story", 400)
    assert post_comment(author=reader, thread=thread_for_article(old), text=TEXT).comment.pk
    assert not comments_closed(thread_for_article(old))


def test_comments_close_after_the_sites_limit(reader: Any, reader_client: Client) -> None:
    close_after(7)
    old, recent = aged("old-story", 8), aged("recent-story", 2)
    with pytest.raises(CommentsClosed):
        post_comment(author=reader, thread=thread_for_article(old), text=TEXT)
    assert post_comment(author=reader, thread=thread_for_article(recent), text=TEXT).comment.pk

    page = reader_client.get(f"/news/{old.slug}/").content.decode()
    assert "Comments are closed on this article." in page
    assert "data-comment-form" not in page
    assert "data-comment-form" in reader_client.get(f"/news/{recent.slug}/").content.decode()
    refused = reader_client.post(
        f"/news/{old.slug}/comments/", {"text": TEXT}, HTTP_ACCEPT="application/json"
    )
    assert refused.status_code == 403

    listed = {
        a["slug"]: a["comments_closed"] for a in Client().get("/api/articles").json()["items"]
    }
    assert listed == {"old-story": True, "recent-story": False}

    close_after(0)
    assert post_comment(author=reader, thread=thread_for_article(old), text=TEXT).comment.pk


def test_an_embedded_thread_counts_from_its_creation(reader: Any, settings: Any) -> None:
    settings.CIVILITY_EMBED_ORIGINS = ["https://www.publisher.example"]
    Client().get("/embed/thread", {"url": "https://www.publisher.example/story"})
    thread = Thread.objects.get()
    close_after(7)
    assert not comments_closed(thread)
    Thread.objects.filter(pk=thread.pk).update(created_at=timezone.now() - timedelta(days=8))
    thread.refresh_from_db()
    assert comments_closed(thread)
    with pytest.raises(CommentsClosed):
        post_comment(author=reader, thread=thread, text=TEXT)
