"""Moderation on post: saved pending first, then decided inline or by a Celery worker, and
never left without a decision."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.utils import timezone

from civility.discussion import services
from civility.discussion.context import DatabaseContext
from civility.discussion.models import Comment, CommentStatus, HoldReason
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation.models import AuditLog, Standing

CLEAN = "The talks on the peace treaty and the islands seem to be making slow progress."


def redis_url() -> str:
    return (
        os.environ.get("CIVILITY_TEST_REDIS_URL")
        or os.environ.get("CIVILITY_REDIS_URL")
        or "redis://127.0.0.1:6379/15"
    )


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(redis_url(), socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


@pytest.fixture
def broker(settings: Any) -> Iterator[Any]:
    """The Celery app pointed at a real Redis broker, on a queue private to this test."""
    if not redis_available():
        pytest.skip("no Redis broker reachable (set CIVILITY_TEST_REDIS_URL)")
    from civility.config.celery import app

    saved = {
        key: app.conf.get(key)
        for key in ("task_always_eager", "broker_url", "task_default_queue", "result_backend")
    }
    queue = f"civility-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(
        task_always_eager=False,
        broker_url=redis_url(),
        task_default_queue=queue,
        result_backend=None,
    )
    app.conf.task_routes = {}
    yield app
    app.conf.update(**saved)
    import redis

    redis.Redis.from_url(redis_url()).delete(queue)


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_inline_by_default_the_decision_comes_with_the_response(reader: Any, article: Any) -> None:
    outcome = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    assert outcome.status == "published"
    actions = list(
        AuditLog.objects.filter(target_type="discussion.comment", target_id=str(outcome.comment.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["comment.posted", "comment.engine_decision"]
    entry = AuditLog.objects.get(
        action="comment.engine_decision", target_id=str(outcome.comment.pk)
    )
    assert entry.engine_version and entry.policy_version
    assert outcome.comment.verdict["engine_version"] == entry.engine_version


@pytest.mark.django_db
def test_engine_failure_holds_the_comment_for_a_moderator(
    reader: Any, article: Any, monkeypatch: Any
) -> None:
    engines = services.current_engines()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("detector crashed")

    monkeypatch.setattr(engines.full, "check", broken)
    outcome = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    assert outcome.status == "pending"
    assert outcome.comment.hold_reason == HoldReason.ENGINE
    assert "detector crashed" in outcome.comment.verdict["error"]


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_sweeper_decides_comments_a_lost_task_left_waiting(reader: Any, article: Any) -> None:
    thread = thread_for_article(article)
    stuck = Comment.objects.create(
        thread=thread, author=reader, text=CLEAN, created_at=timezone.now() - timedelta(minutes=10)
    )
    fresh = Comment.objects.create(thread=thread, author=reader, text=CLEAN + " Again.")
    assert services.moderate_stale_pending() == 1
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == CommentStatus.PUBLISHED
    assert fresh.status == CommentStatus.PENDING
    assert services.moderate_comment(stuck.pk) is None  # decided once only


@pytest.mark.django_db
def test_management_command_runs_the_sweeper(reader: Any, article: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("moderate_pending", "--older-than", "0", stdout=out)
    assert "decided" in out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_with_a_broker_the_worker_decides(broker: Any, reader: Any, article: Any) -> None:
    from celery.contrib.testing.worker import start_worker

    outcome = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    assert outcome.status == "pending"  # saved first; the task waits in Redis for a worker
    with start_worker(broker, pool="solo", perform_ping_check=False, shutdown_timeout=5):
        deadline = time.monotonic() + 120  # the worker loads the engine first; a busy host is slow
        comment = outcome.comment
        while time.monotonic() < deadline:
            try:
                comment.refresh_from_db()
            except OperationalError:  # SQLite's shared in-memory test database: table locked
                time.sleep(0.2)
                continue
            if comment.status != CommentStatus.PENDING:
                break
            time.sleep(0.2)
    assert comment.status == CommentStatus.PUBLISHED
    assert AuditLog.objects.filter(
        action="comment.engine_decision", target_id=str(comment.pk)
    ).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_with_a_broker_and_no_worker_the_sweeper_still_decides(
    broker: Any, reader: Any, article: Any
) -> None:
    outcome = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    assert outcome.status == "pending"
    assert services.moderate_stale_pending(older_than_seconds=0) == 1
    outcome.comment.refresh_from_db()
    assert outcome.comment.status == CommentStatus.PUBLISHED


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_the_cheap_rules_still_decide_inline(
    broker: Any, reader: Any, article: Any
) -> None:
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy
    from civility.standards.policy import Policy

    base = site_default_policy()
    strict = Policy.from_dict({"deny_words": ["bridgewater"]}, base=base)
    save_policy(strict, by=None)
    engines = services.current_engines()
    screen_verdict = engines.screen.check(
        services._engine_comment(
            Comment(text="bridgewater " * 3, thread=thread_for_article(article))
        )
    )
    outcome = post_comment(
        author=reader,
        thread=thread_for_article(article),
        text="bridgewater bridgewater bridgewater",
    )
    if screen_verdict.decision.value == "reject":
        assert outcome.status == "rejected"
    else:
        assert outcome.status == "pending"


@pytest.mark.django_db
def test_database_context_returns_recent_comments_newest_first(
    reader: Any, other_reader: Any, article: Any
) -> None:
    thread = thread_for_article(article)
    old = Comment.objects.create(
        thread=thread, author=reader, text="old", created_at=timezone.now() - timedelta(hours=3)
    )
    first = Comment.objects.create(
        thread=thread, author=reader, text="first", created_at=timezone.now() - timedelta(minutes=5)
    )
    second = Comment.objects.create(thread=thread, author=other_reader, text="second")
    context = DatabaseContext()
    recent = context.recent_comments(since=timezone.now() - timedelta(hours=1))
    assert [c.id for c in recent] == [str(second.pk), str(first.pk)]
    assert str(old.pk) not in {c.id for c in recent}
    mine = context.recent_comments(
        since=timezone.now() - timedelta(hours=1), author_id=str(reader.pk)
    )
    assert [c.text for c in mine] == ["first"]
    assert recent[0].article_key == f"article:{article.slug}"


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_high_rejection_rate_puts_the_author_on_premoderation(
    reader: Any, moderator: Any, article: Any, settings: Any
) -> None:
    from civility.moderation.services import reject_comment

    settings.CIVILITY_PREMOD_MIN_COMMENTS = 3
    settings.CIVILITY_PREMOD_REJECTION_RATE = 0.5
    thread = thread_for_article(article)
    for n in range(3):
        comment = post_comment(
            author=reader, thread=thread, text=f"Comment number {n} on the treaty talks."
        ).comment
        reject_comment(comment, moderator=moderator, rule="insult")
    assert Standing.objects.get(user=reader).premoderated
    held = post_comment(author=reader, thread=thread, text="A calm remark on the treaty talks.")
    assert held.status == "pending"
    assert held.comment.hold_reason == HoldReason.PREMODERATION
    assert AuditLog.objects.filter(action="user.premoderation_on", subject_user=reader).exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_hide_restore_and_purge_comments_of_a_user(
    reader: Any, other_reader: Any, article: Any
) -> None:
    thread = thread_for_article(article)
    parent = post_comment(author=reader, thread=thread, text=CLEAN).comment
    post_comment(author=other_reader, thread=thread, text="A reply on the treaty.", parent=parent)
    from civility.discussion.models import CommentRevision
    from civility.discussion.selectors import build_tree, public_comments

    services.edit_comment(comment=parent, author=reader, text=CLEAN + " Edited once.")
    assert services.hide_comments_of(reader) == 1
    assert not public_comments().filter(author=reader).exists()
    roots = build_tree(thread)
    assert roots[0].tombstone and roots[0].children  # the reply keeps its place
    assert services.restore_comments_of(reader) == 1
    assert public_comments().filter(author=reader).exists()
    assert services.purge_comments_of(reader) == 1
    parent.refresh_from_db()
    assert parent.text == "" and parent.purged
    assert (
        not CommentRevision.objects.filter(comment=parent)
        .exclude(text_before="", text_after="")
        .exists()
    )
    for entry in AuditLog.objects.filter(
        target_type="discussion.comment", target_id=str(parent.pk)
    ):
        assert "slow progress" not in str(entry.before) + str(entry.after) + str(entry.data)
    assert build_tree(thread)[0].tombstone


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_comments_of_inactive_users_leave_public_listings(reader: Any, article: Any) -> None:
    from django.test import Client

    post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    reader.is_active = False
    reader.save()
    assert Client().get(f"/api/articles/{article.slug}/comments").json()["count"] == 0
    assert "slow progress" not in Client().get(article.get_absolute_url()).content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_rate_limit_on_posting_per_user(reader_client: Any, article: Any, settings: Any) -> None:
    settings.CIVILITY_RATE_POST = "2/60"
    codes = [
        reader_client.post(f"/news/{article.slug}/comments/", {"text": f"{CLEAN} {n}"}).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_rate_limit_on_posting_per_ip(
    reader: Any, other_reader: Any, article: Any, settings: Any
) -> None:
    from django.test import Client

    settings.CIVILITY_RATE_POST = "2/60"
    codes = []
    for n, user in enumerate([reader, other_reader, other_reader]):
        client = Client(REMOTE_ADDR="203.0.113.9")
        client.force_login(user)
        codes.append(
            client.post(f"/news/{article.slug}/comments/", {"text": f"{CLEAN} {n}"}).status_code
        )
    assert codes == [302, 302, 429]
