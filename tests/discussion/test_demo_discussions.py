"""The demo discussions `make run` loads: real threads, judged by the real engine."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from civility.discussion.demo_content import (
    DEMO_READER_DOMAIN,
    DemoComment,
    demo_comments,
    load_demo_discussions,
)
from civility.discussion.models import Comment, CommentStatus
from civility.news.demo_content import DEMO_MODERATOR, load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded() -> dict[str, int]:
    load_demo()
    return load_demo_discussions()


def by_key() -> dict[str, Comment]:
    comments = {c.text: c for c in Comment.objects.all()}
    return {item.key: comments[item.text] for item in demo_comments() if item.text in comments}


def posted_pairs() -> list[tuple[DemoComment, Comment, dict[str, Comment]]]:
    """Each demo comment as written, as posted, and every posted one by key."""
    comments = by_key()
    return [(item, comments[item.key], comments) for item in demo_comments()]


def test_every_demo_comment_is_posted_and_decided(loaded: dict[str, int]) -> None:
    items = demo_comments()
    assert len(items) >= 30
    assert len({item.author for item in items}) >= 10
    assert sum(loaded.values()) == Comment.objects.count() == len(items)
    # Judged by the engine, all: published and removed ones decided, held ones awaiting a
    # moderator.
    assert not Comment.objects.filter(engine_checked_at__isnull=True).exists()


def test_the_engine_publishes_the_civil_comments_and_holds_the_others(
    loaded: dict[str, int],
) -> None:
    for item, comment, _ in posted_pairs():
        if item.expected == "published":
            assert comment.status == CommentStatus.PUBLISHED, (item.key, comment.fired_rules)
        else:
            assert comment.status in (CommentStatus.PENDING, CommentStatus.REJECTED), item.key
            if item.rule:
                assert f",{item.rule}," in comment.fired_rules, (item.key, comment.fired_rules)


def test_replies_hang_under_their_parents_and_times_follow_the_article(
    loaded: dict[str, int],
) -> None:
    for item, comment, comments in posted_pairs():
        article = comment.thread.article
        assert article.slug == item.article
        assert article.published_at <= comment.created_at
        assert comment.engine_checked_at is not None
        assert comment.engine_checked_at >= comment.created_at
        if item.reply_to:
            assert comment.parent_id == comments[item.reply_to].pk


def test_loading_twice_adds_nothing_and_nobody_signs_in_as_a_demo_reader(
    loaded: dict[str, int],
) -> None:
    count = Comment.objects.count()
    assert load_demo_discussions() == {}
    assert Comment.objects.count() == count
    readers = get_user_model().objects.filter(email__endswith=f"@{DEMO_READER_DOMAIN}")
    assert readers.count() >= 10
    assert not any(reader.has_usable_password() for reader in readers)


def test_the_demo_moderator_finds_the_held_comments_in_the_queue(
    loaded: dict[str, int], client: Client
) -> None:
    assert client.login(username=DEMO_MODERATOR.email, password=DEMO_MODERATOR.password)
    page = client.get("/moderation/queue/pending/").content.decode()
    held = Comment.objects.filter(status=CommentStatus.PENDING)
    assert held.count() >= 3
    for comment in held:
        assert f'id="comment-{comment.pk}"' in page or f"/moderation/comments/{comment.pk}/" in page
    thread = Client().get("/news/neighbours-agree-to-resume-peace-treaty-talks/").content
    assert thread.decode().count("data-comment-id=") >= 4


def test_the_article_page_shows_the_thread(loaded: dict[str, Any]) -> None:
    page = Client().get("/news/coastal-city-unveils-flood-barrier-plan/").content.decode()
    assert "Restoring the salt marshes" in page
    assert "stopthebarrier.example" not in page  # the petition is held, all three copies


def test_the_demo_moderator_has_picked_comments_shown_above_their_thread(
    loaded: dict[str, int],
) -> None:
    moderator = get_user_model().objects.get(email=DEMO_MODERATOR.email)
    picked = [(item, comment) for item, comment, _ in posted_pairs() if item.featured]
    assert len(picked) >= 2
    for item, comment in picked:
        assert comment.featured_by == moderator and comment.featured_at is not None
        page = Client().get(f"/news/{item.article}/").content.decode()
        assert 'class="featured-comments"' in page
        assert f'data-featured-id="{comment.pk}"' in page
    assert Comment.objects.filter(featured_at__isnull=False).count() == len(picked)


def test_demo_readers_recommend_some_comments(loaded: dict[str, int]) -> None:
    recommended = [(item, comment) for item, comment, _ in posted_pairs() if item.recommended_by]
    assert recommended
    for item, comment in recommended:
        assert comment.recommendations == len(set(item.recommended_by)), item.key
        assert item.author not in item.recommended_by


def test_the_demo_moderator_finds_a_readers_request_to_review_a_removal(
    loaded: dict[str, int], client: Client
) -> None:
    from civility.moderation.models import ReviewRequest

    review = ReviewRequest.objects.select_related("comment").get()
    assert review.comment.status == CommentStatus.REJECTED
    assert review.rule == "foreign_language" and review.removed_by == "engine"
    assert client.login(username=DEMO_MODERATOR.email, password=DEMO_MODERATOR.password)
    page = client.get("/moderation/reviews/").content.decode()
    assert f'data-review="{review.pk}"' in page and "out of habit" in page
