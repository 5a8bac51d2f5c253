"""Rendered comments kept in the process (discussion.fragments): a page built from kept
comments is byte for byte the page rendered afresh, for every kind of reader and after every
kind of change; and a change re-renders only what it touches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import timezone, translation

from civility.discussion import fragments, views
from civility.discussion.models import Comment
from civility.discussion.services import (
    delete_own_comment,
    edit_comment,
    post_comment,
    thread_for_article,
)
from tests.discussion.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]


@pytest.fixture(autouse=True)
def _empty_fragments() -> Iterator[None]:
    fragments.CACHE.clear()
    fragments.CACHE.enabled = True
    yield
    fragments.CACHE.clear()
    fragments.CACHE.enabled = True


# Masked afresh on every request, so two renderings of one form never match byte for byte.
CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


def section(slug: str, viewer: Any = None, language: str = "en") -> str:
    """The comment section as the view renders it (no read cache in between)."""
    request = RequestFactory().get(f"/news/{slug}/discussion/")
    request.user = viewer if viewer is not None else AnonymousUser()
    with translation.override(language):
        html = views.thread_section(request, slug).content.decode()
    return CSRF_VALUE.sub(r'\1(csrf)"', html)


def fresh_section(slug: str, viewer: Any = None, language: str = "en") -> str:
    fragments.CACHE.enabled = False
    try:
        return section(slug, viewer, language)
    finally:
        fragments.CACHE.enabled = True


def assert_same_as_fresh(slug: str, viewer: Any = None, language: str = "en") -> str:
    """Render twice through the cache (filling it, then reading it) and once without."""
    section(slug, viewer, language)
    kept = section(slug, viewer, language)
    assert kept == fresh_section(slug, viewer, language)
    return kept


@pytest.fixture
def busy_thread(article: Any) -> dict[str, Any]:
    """Three readers; roots with replies and replies to replies."""
    thread = thread_for_article(article)
    alice = make_user("alice@example.org", name="Alice")
    bob = make_user("bob@example.org", name="Bob")
    carol = make_user("carol@example.org", name="Carol")
    texts = iter(f"Point {n} about the treaty talks and the islands." for n in range(100))
    roots = [post_comment(author=alice, thread=thread, text=next(texts)).comment for _ in range(3)]
    replies = [
        post_comment(author=bob, thread=thread, text=next(texts), parent=root).comment
        for root in roots
    ]
    deep = post_comment(author=carol, thread=thread, text=next(texts), parent=replies[0]).comment
    return {
        "article": article,
        "thread": thread,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "roots": roots,
        "replies": replies,
        "deep": deep,
    }


def test_every_reader_gets_the_page_fresh_rendering_gives(busy_thread: dict[str, Any]) -> None:
    slug = busy_thread["article"].slug
    moderator = make_user("mod@example.org", moderator=True)
    unverified = make_user("new@example.org", verified=False)
    for viewer in (None, busy_thread["alice"], busy_thread["carol"], moderator, unverified):
        page = assert_same_as_fresh(slug, viewer)
        assert busy_thread["deep"].text in page
    # The author's own comments carry edit and delete controls: never taken from the cache.
    own = section(slug, busy_thread["alice"])
    assert own.count("comment__delete") == 3
    assert section(slug).count("comment__delete") == 0


def test_a_second_anonymous_reader_renders_nothing(busy_thread: dict[str, Any]) -> None:
    slug = busy_thread["article"].slug
    section(slug)
    misses = fragments.CACHE.misses
    section(slug)
    assert fragments.CACHE.misses == misses
    assert fragments.CACHE.hits >= 3  # the three roots, each with its replies


def test_a_new_reply_renders_only_its_branch(busy_thread: dict[str, Any]) -> None:
    slug = busy_thread["article"].slug
    section(slug)
    post_comment(
        author=busy_thread["carol"],
        thread=busy_thread["thread"],
        text="A new reply about the islands.",
        parent=busy_thread["roots"][2],
    )
    fragments.CACHE.hits = fragments.CACHE.misses = 0
    page = section(slug)
    assert "A new reply about the islands." in page
    # Missed: the third root and its new reply; the other two roots come whole from the cache.
    assert fragments.CACHE.misses == 2
    assert fragments.CACHE.hits == 3  # two roots, and the third root's older reply
    assert page == fresh_section(slug)


def test_edits_renames_and_deletions_show_at_once(busy_thread: dict[str, Any]) -> None:
    slug = busy_thread["article"].slug
    assert_same_as_fresh(slug)

    reply = busy_thread["replies"][1]
    edit_comment(comment=reply, author=busy_thread["bob"], text="Edited: the talks stalled.")
    page = assert_same_as_fresh(slug)
    assert "Edited: the talks stalled." in page

    busy_thread["carol"].display_name = "Carol Renamed"
    busy_thread["carol"].save(update_fields=["display_name"])
    page = assert_same_as_fresh(slug)
    assert "Carol Renamed" in page

    # A journalist's badge granted in the admin shows on the comments already kept.
    assert "data-staff" not in page
    busy_thread["carol"].staff_badge = True
    busy_thread["carol"].save(update_fields=["staff_badge"])
    page = assert_same_as_fresh(slug)
    assert page.count("data-staff") == 1

    # A deleted root with a reply under it becomes a tombstone.
    root = busy_thread["roots"][0]
    delete_own_comment(comment=Comment.objects.get(pk=root.pk), author=busy_thread["alice"])
    page = assert_same_as_fresh(slug)
    assert "This comment was deleted by its author." in page
    assert root.text not in page


def test_language_time_zone_and_reader_rights_are_part_of_the_key(
    busy_thread: dict[str, Any],
) -> None:
    slug = busy_thread["article"].slug
    english = assert_same_as_fresh(slug)
    russian = assert_same_as_fresh(slug, language="ru")
    assert english != russian
    with timezone.override("Asia/Tokyo"):
        tokyo = assert_same_as_fresh(slug)
    assert tokyo != english
    signed_in = assert_same_as_fresh(slug, make_user("dave@example.org"))
    assert 'data-action="report"' in signed_in
    assert 'data-action="report"' not in section(slug)


def test_the_cache_is_bounded_by_its_length_in_characters() -> None:
    kept = fragments.FragmentCache(max_chars=100)
    for n in range(10):
        kept.put(f"k{n}", "x" * 20)
    assert len(kept) == 5
    assert kept.get("k0") is None
    assert kept.get("k9") == "x" * 20
    kept.put("huge", "y" * 60)  # more than a quarter of the bound: not kept
    assert kept.get("huge") is None


def test_a_text_changed_without_an_edit_time_still_shows(busy_thread: dict[str, Any]) -> None:
    # The key reads the text itself, not only the bookkeeping an edit leaves behind
    # (a purge or a data migration rewrites rows without edited_at).
    slug = busy_thread["article"].slug
    assert_same_as_fresh(slug)
    Comment.objects.filter(pk=busy_thread["deep"].pk).update(text="Rewritten in place.")
    assert "Rewritten in place." in assert_same_as_fresh(slug)


def test_the_continue_link_counts_new_replies_beyond_the_depth_shown(
    busy_thread: dict[str, Any], settings: Any
) -> None:
    settings.CIVILITY_THREAD_MAX_DEPTH = 1
    slug = busy_thread["article"].slug
    assert "Continue this thread (1 reply)" in assert_same_as_fresh(slug)
    post_comment(
        author=busy_thread["alice"],
        thread=busy_thread["thread"],
        text="Another reply deep down.",
        parent=busy_thread["deep"],
    )
    page = assert_same_as_fresh(slug)
    assert "Continue this thread (2 replies)" in page


def test_own_held_comments_show_their_evidence_in_one_query(busy_thread: dict[str, Any]) -> None:
    """A page's rows leave the engine's verdict out; the viewer's own held comments read
    theirs, all in one query, and show the evidence highlighted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    slug = busy_thread["article"].slug
    alice = busy_thread["alice"]

    def hold(comment: Comment) -> None:
        Comment.objects.filter(pk=comment.pk).update(
            status="pending",
            verdict={
                "evidence": [
                    {"rule": "insult", "start": 0, "end": 5, "text": "Point", "explanation": "x"}
                ]
            },
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            section(slug, alice)
        return len(captured.captured_queries)

    hold(busy_thread["roots"][0])
    page = section(slug, alice)  # and fills the caches of counts that the page reads
    with_one = queries()
    assert page.count('<mark class="evidence" data-rule="insult"') == 1
    hold(busy_thread["roots"][1])
    hold(busy_thread["roots"][2])
    assert queries() == with_one
    assert section(slug, alice).count('<mark class="evidence" data-rule="insult"') == 3
    # Nobody else sees them, nor their evidence.
    assert "<mark" not in section(slug)


def test_the_embedded_thread_keeps_only_markup_without_forms(settings: Any) -> None:
    """Anonymous embed readers share kept comments; a signed-in reader's embedded comments
    carry reply and report forms with their CSRF token, and are never kept."""
    from civility.discussion import embed
    from civility.discussion.services import thread_for_url

    settings.CIVILITY_EMBED_ORIGINS = ["https://www.publisher.example"]
    url = "https://www.publisher.example/2026/bridge"
    thread = thread_for_url(url, title="Bridge reopens")
    author = make_user("erin@example.org", name="Erin")
    root = post_comment(author=author, thread=thread, text="The bridge looks great.").comment
    post_comment(author=author, thread=thread, text="And it opened on time.", parent=root)

    def embedded(viewer: Any) -> str:
        request = RequestFactory().get("/embed/thread", {"url": url})
        request.user = viewer
        html = embed.embed_thread(request).content.decode()
        return CSRF_VALUE.sub(r'\1(csrf)"', html)

    anonymous = AnonymousUser()
    embedded(anonymous)
    kept = embedded(anonymous)
    fragments.CACHE.enabled = False
    assert kept == embedded(anonymous)
    fragments.CACHE.enabled = True

    fragments.CACHE.clear()
    reader = make_user("frank@example.org")
    page = embedded(reader)
    assert 'name="csrfmiddlewaretoken"' in page.split('id="comment-', 1)[1]
    assert len(fragments.CACHE) == 0


def test_a_bound_of_zero_keeps_nothing(busy_thread: dict[str, Any], settings: Any) -> None:
    settings.CIVILITY_COMMENT_CACHE_CHARS = 0
    slug = busy_thread["article"].slug
    assert_same_as_fresh(slug)
    assert len(fragments.CACHE) == 0
    settings.CIVILITY_COMMENT_CACHE_CHARS = 20_000
    section(slug)
    assert len(fragments.CACHE) > 0
    assert fragments.CACHE.max_chars == 20_000
