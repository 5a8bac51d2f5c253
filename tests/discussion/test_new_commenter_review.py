"""A site may have a moderator review each commenter's first comments
(Site.review_first_comments; 0, the default, reviews nobody's)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civility.discussion.models import CommentStatus, HoldReason
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation.services import approve_comment
from civility.sites.current import clear_cache, default_site_id
from civility.sites.models import Site
from tests.discussion.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

TEXTS = [
    "The talks on the peace treaty and the islands seem to be making slow progress.",
    "Both ministers sounded cautious, which is probably wise at this stage.",
    "A date for the next round would be the first real sign of change.",
]


def review_first(count: int) -> None:
    Site.objects.filter(pk=default_site_id()).update(review_first_comments=count)
    clear_cache()


def test_nobody_is_reviewed_by_default(reader: Any, article: Any) -> None:
    comment = post_comment(author=reader, thread=thread_for_article(article), text=TEXTS[0]).comment
    assert comment.status == CommentStatus.PUBLISHED


def test_a_new_commenters_first_comments_wait_until_enough_are_published(
    reader: Any, moderator: Any, article: Any
) -> None:
    review_first(2)
    thread = thread_for_article(article)
    first = post_comment(author=reader, thread=thread, text=TEXTS[0]).comment
    assert (first.status, first.hold_reason) == (CommentStatus.PENDING, HoldReason.PREMODERATION)
    queue = Client()
    queue.force_login(moderator)
    assert TEXTS[0][:40] in queue.get("/moderation/queue/pending/").content.decode()

    approve_comment(first, moderator=moderator)
    second = post_comment(author=reader, thread=thread, text=TEXTS[1]).comment
    assert second.status == CommentStatus.PENDING, "one published of the two reviewed"
    approve_comment(second, moderator=moderator)
    third = post_comment(author=reader, thread=thread, text=TEXTS[2]).comment
    assert third.status == CommentStatus.PUBLISHED, "two published: no longer new"


def test_commenters_with_published_comments_are_not_new(reader: Any, article: Any) -> None:
    thread = thread_for_article(article)
    for text in TEXTS[:2]:
        post_comment(author=reader, thread=thread, text=text)
    review_first(2)
    newcomer = make_user("nina@example.org", name="Nina")
    assert post_comment(author=reader, thread=thread, text=TEXTS[2]).comment.status == (
        CommentStatus.PUBLISHED
    )
    held = post_comment(author=newcomer, thread=thread, text=TEXTS[2]).comment
    assert held.status == CommentStatus.PENDING


def test_the_engine_still_removes_what_breaks_the_rules(
    reader: Any, article: Any, settings: Any
) -> None:
    """Review holds what the engine would publish; a rejection stays a rejection."""
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy

    save_policy(site_default_policy(), by=None)  # every rule on again
    review_first(3)
    insult = post_comment(
        author=reader,
        thread=thread_for_article(article),
        text="You are a worthless idiot and everyone here hates you",
    ).comment
    assert insult.status == CommentStatus.REJECTED


def test_a_site_may_review_every_comment_with_a_link(reader: Any, article: Any) -> None:
    thread = thread_for_article(article)
    linked = "The full text of the treaty is at www.mofa.go.jp/treaty, worth reading."
    bare = "Background on the islands: see kurils.example.com/history for maps."
    assert post_comment(author=reader, thread=thread, text=linked).comment.status == (
        CommentStatus.PUBLISHED
    ), "off by default"
    Site.objects.filter(pk=default_site_id()).update(premoderate_links=True)
    clear_cache()
    for text in (linked + " Again.", bare):
        held = post_comment(author=reader, thread=thread, text=text).comment
        assert (held.status, held.hold_reason) == (
            CommentStatus.PENDING,
            HoldReason.PREMODERATION,
        ), text
    plain = post_comment(
        author=reader, thread=thread, text="Small steps first, e.g. a ferry. It may end.Next year."
    ).comment
    assert plain.status == CommentStatus.PUBLISHED, "e.g. and end.Next are not links"
