"""A notice to readers above one discussion ("the trial is ongoing: keep to the facts"), set by
moderators on the moderation Articles page, shown on the article page and in the embed at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civility.discussion.services import thread_for_article, thread_for_url
from civility.moderation.models import AuditLog
from civility.moderation.services import ModerationError, update_thread

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

NOTICE = "The trial is ongoing: keep to the facts reported, and name no witnesses."


def test_moderators_set_and_clear_a_notice(moderator: Any, article: Any, settings: Any) -> None:
    from civility.ops import readcache

    settings.CIVILITY_READ_CACHE_SECONDS = 60.0
    readcache._thread_keys.clear()
    thread = thread_for_article(article)
    client = Client()
    client.force_login(moderator)
    reader_view = f"/news/{article.slug}/discussion/"
    assert "data-thread-notice" not in Client().get(reader_view).content.decode()
    assert Client().get(reader_view)["X-Civility-Cache"] == "hit"

    response = client.post(
        f"/moderation/threads/{thread.pk}/", {"notice": f"  {NOTICE}\n", "closed": ""}
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.notice == NOTICE and not thread.closed
    page = Client().get(reader_view).content.decode()
    assert "data-thread-notice" in page and NOTICE in page, "shown at once, cache or not"
    threads_page = client.get("/moderation/threads/").content.decode()
    assert f'value="{NOTICE}"' in threads_page

    entry = AuditLog.objects.get(action="thread.updated")
    assert entry.actor == moderator
    assert entry.before["notice"] == "" and entry.after["notice"] == NOTICE

    # A form without the field (an older page) keeps the notice.
    client.post(f"/moderation/threads/{thread.pk}/", {"closed": "1"})
    thread.refresh_from_db()
    assert thread.closed and thread.notice == NOTICE
    client.post(f"/moderation/threads/{thread.pk}/", {"notice": ""})
    thread.refresh_from_db()
    assert thread.notice == "" and not thread.closed


def test_the_embed_shows_the_notice_and_long_notices_are_refused(
    moderator: Any, settings: Any
) -> None:
    settings.CIVILITY_EMBED_ORIGINS = ["https://www.publisher.example"]
    url = "https://www.publisher.example/trial"
    thread = thread_for_url(url, title="Trial")
    update_thread(thread, by=moderator, closed=False, premoderated=False, notice=NOTICE)
    frame = Client().get("/embed/thread", {"url": url}).content.decode()
    assert NOTICE in frame and "From the newsroom:" in frame
    with pytest.raises(ModerationError):
        update_thread(thread, by=moderator, closed=False, premoderated=False, notice="x" * 501)
    client = Client()
    client.force_login(moderator)
    refused = client.post(f"/moderation/threads/{thread.pk}/", {"notice": "y" * 501}, follow=True)
    assert "at most 500 characters" in refused.content.decode()
    thread.refresh_from_db()
    assert thread.notice == NOTICE


def test_notices_are_escaped(moderator: Any, article: Any) -> None:
    thread = thread_for_article(article)
    update_thread(
        thread, by=moderator, closed=False, premoderated=False, notice="<script>x()</script>"
    )
    page = Client().get(f"/news/{article.slug}/").content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page
