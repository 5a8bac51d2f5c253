"""Batch moderation: a backlog decided by check_many in batches, each decision written once,
and the batch context answering the cross-comment rules as the database would."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from civility.discussion import tasks
from civility.discussion.context import DatabaseContext
from civility.discussion.models import Comment, CommentStatus, HoldReason
from civility.discussion.services import thread_for_article
from civility.moderation.models import AuditLog
from tests.concurrency import run_in_threads

pytestmark = pytest.mark.django_db

CLEAN = "The talks on the peace treaty and the islands seem to be making slow progress."


def pending(thread: Any, author: Any, count: int, *, minutes_ago: int = 10) -> list[Comment]:
    start = timezone.now() - timedelta(minutes=minutes_ago)
    return Comment.objects.bulk_create(
        Comment(
            thread=thread,
            site_id=thread.site_id,  # bulk_create skips save(), which takes it from the thread
            author=author,
            text=f"{CLEAN} Point {n}.",
            created_at=start + timedelta(seconds=n),
        )
        for n in range(count)
    )


def decisions(comments: list[Comment]) -> list[int]:
    ids = [str(c.pk) for c in comments]
    return [
        AuditLog.objects.filter(action="comment.engine_decision", target_id=pk).count()
        for pk in ids
    ]


@pytest.mark.usefixtures("lenient_policy")
def test_a_batch_decides_each_comment_once(reader: Any, article: Any) -> None:
    comments = pending(thread_for_article(article), reader, 7)
    ids = [c.pk for c in comments]
    assert tasks.moderate_batch(ids) == 7
    assert set(Comment.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        CommentStatus.PUBLISHED
    }
    # Delivered again (a worker died before acknowledging), or raced by the single task:
    assert tasks.moderate_batch(ids) == 0
    assert tasks.moderate_comment_task.apply(args=[ids[0]]).result is None
    assert decisions(comments) == [1] * 7


@pytest.mark.usefixtures("lenient_policy")
def test_a_comment_the_engine_refuses_does_not_hold_up_its_batch(reader: Any, article: Any) -> None:
    thread = thread_for_article(article)
    comments = pending(thread, reader, 3)
    too_long = Comment.objects.create(thread=thread, author=reader, text="word " * 20_000)
    assert tasks.moderate_batch([c.pk for c in comments] + [too_long.pk]) == 4
    too_long.refresh_from_db()
    assert too_long.status == CommentStatus.PENDING and too_long.hold_reason == HoldReason.ENGINE
    assert all(
        c.status == CommentStatus.PUBLISHED
        for c in Comment.objects.filter(author=reader)
        if c.pk != too_long.pk
    )


@pytest.mark.usefixtures("lenient_policy")
def test_the_sweeper_queues_stale_comments_in_batches(
    reader: Any, article: Any, monkeypatch: Any
) -> None:
    thread = thread_for_article(article)
    stale = pending(thread, reader, 5, minutes_ago=30)
    fresh = pending(thread, reader, 2, minutes_ago=0)
    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    sent: list[list[int]] = []
    original = tasks.moderate_comments_task.delay

    def delay(batch: list[int]) -> Any:
        sent.append(batch)
        return original(batch)  # eager in the test suite: decided here

    monkeypatch.setattr(tasks.moderate_comments_task, "delay", delay)
    assert tasks.moderate_stale_pending_task.apply().result == 5
    assert sent == [[c.pk for c in stale[0:2]], [c.pk for c in stale[2:4]], [stale[4].pk]]
    assert decisions(stale) == [1] * 5 and decisions(fresh) == [0, 0]


def test_the_batch_context_answers_as_the_database(
    reader: Any, other_reader: Any, article: Any
) -> None:
    thread = thread_for_article(article)
    pending(thread, reader, 30, minutes_ago=20)
    pending(thread, other_reader, 30, minutes_ago=15)
    database = DatabaseContext()
    contexts = [
        tasks.BatchContext(DatabaseContext()),
        # The batch's authors read together at the first per-author question.
        tasks.BatchContext(
            DatabaseContext(),
            authors=[str(reader.pk), str(other_reader.pk)],
            read_authors=DatabaseContext().recent_comments_by_author,
        ),
    ]
    now = timezone.now()
    for batch in contexts:
        # Oldest comment first, as a batch asks: each question's moment is later than the last.
        for minutes in (25, 18, 16, 15, 14, 5):
            since = now - timedelta(minutes=minutes)
            for author in (None, str(reader.pk), str(other_reader.pk)):
                for limit in (10, 45):
                    expected = database.recent_comments(since=since, author_id=author, limit=limit)
                    got = batch.recent_comments(since=since, author_id=author, limit=limit)
                    assert [c.id for c in got] == [c.id for c in expected], (
                        minutes,
                        author,
                        limit,
                    )
                    assert [c.article_key for c in got] == [c.article_key for c in expected]


def test_the_batch_authors_are_read_in_one_query(
    reader: Any, other_reader: Any, article: Any, django_assert_num_queries: Any
) -> None:
    from tests.discussion.conftest import make_user

    thread = thread_for_article(article)
    authors = [reader, other_reader, make_user("third@example.com")]
    for n, author in enumerate(authors):
        pending(thread, author, 5 + n, minutes_ago=10)
    since = timezone.now() - timedelta(minutes=20)
    batch = tasks.BatchContext(
        DatabaseContext(),
        authors=[str(a.pk) for a in authors],
        read_authors=DatabaseContext().recent_comments_by_author,
    )
    with django_assert_num_queries(1):
        counts = [
            len(batch.recent_comments(since=since, author_id=str(a.pk), limit=200)) for a in authors
        ]
    assert counts == [5, 6, 7]
    # An author outside the batch, or a question from before the first: read on its own.
    with django_assert_num_queries(2):
        assert batch.recent_comments(since=since, author_id="999999", limit=200) == []
        earlier = since - timedelta(minutes=5)
        assert len(batch.recent_comments(since=earlier, author_id=str(reader.pk))) == 5


def test_the_batch_author_read_keeps_to_its_site(reader: Any, article: Any) -> None:
    from civility.sites.models import Site
    from tests.discussion.conftest import make_article

    other_site = Site.objects.create(name="Elsewhere", path_prefix="elsewhere", language="en")
    here = pending(thread_for_article(article), reader, 3)
    pending(thread_for_article(make_article("elsewhere", site=other_site)), reader, 4)
    since = timezone.now() - timedelta(hours=1)
    found = DatabaseContext(here[0].site_id).recent_comments_by_author([str(reader.pk)], since, 2)
    expected = DatabaseContext(here[0].site_id).recent_comments(
        since=since, author_id=str(reader.pk), limit=2
    )
    assert [c.id for c in found[str(reader.pk)]] == [c.id for c in expected]
    assert {c.id for c in expected} <= {str(c.pk) for c in here}


@pytest.mark.usefixtures("lenient_policy")
def test_each_site_judges_its_comments_with_its_own_policy(reader: Any, article: Any) -> None:
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy
    from civility.sites.models import Site
    from civility.standards.policy import Policy
    from tests.discussion.conftest import make_article

    other_site = Site.objects.create(name="Short comments", path_prefix="short", language="en")
    rules = {slug: {"enabled": False} for slug in site_default_policy().rules}
    base = site_default_policy()
    save_policy(
        Policy.from_dict({"rules": rules, "max_length": 40}, base=base), by=None, site=other_site
    )
    here = pending(thread_for_article(article), reader, 2)
    there = pending(thread_for_article(make_article("short", site=other_site)), reader, 2)
    assert tasks.moderate_batch([c.pk for c in here + there]) == 4
    for comment in here:
        comment.refresh_from_db()
        assert comment.status == CommentStatus.PUBLISHED  # this site takes long comments
    for comment in there:
        comment.refresh_from_db()  # too long for the other site's policy: a moderator decides
        assert (comment.status, comment.hold_reason) == (CommentStatus.PENDING, HoldReason.ENGINE)


def made_verdict(decision: Any, fired: str = "") -> Any:
    from civility.standards.rules import RULES_BY_SLUG
    from civility.standards.types import RuleResult, Verdict

    results = {
        slug: RuleResult(
            slug=slug,
            number=n,
            score=0.95 if slug == fired else 0.0,
            queue_threshold=0.5,
            reject_threshold=0.9,
            enabled=True,
            fired=slug == fired,
        )
        for n, slug in enumerate(RULES_BY_SLUG, start=1)
    }
    return Verdict(decision, results, (), "engine-test", "policy-test")


def decision_mix() -> list[Any]:
    """Publish, queue and reject, as the engine could answer."""
    from civility.standards.rules import RULES_BY_SLUG
    from civility.standards.types import Decision

    rule = next(iter(RULES_BY_SLUG))
    return [
        made_verdict(Decision.PUBLISH),
        made_verdict(Decision.QUEUE, rule),
        made_verdict(Decision.REJECT, rule),
        made_verdict(Decision.PUBLISH),
    ]


def outcome(comments: list[Comment]) -> list[tuple[Any, ...]]:
    """What a decision wrote, comment by comment, without ids and times."""
    from civility.moderation.models import Strike

    rows = []
    for comment in Comment.objects.filter(pk__in=[c.pk for c in comments]).order_by("created_at"):
        entries = [
            (e.action, e.actor_label, e.subject_user_id, e.rule, e.before, e.after, e.data)
            for e in AuditLog.objects.filter(
                action="comment.engine_decision", target_id=str(comment.pk)
            )
        ]
        rows.append(
            (
                comment.status,
                comment.hold_reason,
                comment.rule,
                comment.verdict,
                comment.fired_rules,
                comment.engine_version,
                comment.decided_by,
                comment.decided_at is not None,
                entries,
                list(Strike.objects.filter(comment=comment).values_list("rule", "issued_by")),
            )
        )
    return rows


def test_a_batch_writes_what_the_single_path_writes(
    reader: Any, other_reader: Any, article: Any
) -> None:
    from civility.discussion import services
    from civility.moderation.services import set_premoderation

    thread = thread_for_article(article)
    set_premoderation(other_reader, on=True, by=None)
    verdicts = decision_mix()
    one_by_one = pending(thread, reader, 4) + pending(thread, other_reader, 4)
    together = pending(thread, reader, 4) + pending(thread, other_reader, 4)
    for comment, verdict in zip(one_by_one, verdicts * 2, strict=True):
        services.apply_engine_verdict(comment.pk, verdict, stage="full")
    decided = services.apply_engine_verdicts(
        [(c.pk, v) for c, v in zip(together, verdicts * 2, strict=True)]
    )
    assert outcome(together) == outcome(one_by_one)
    assert sorted(decided.values()) == sorted(
        Comment.objects.filter(pk__in=[c.pk for c in one_by_one]).values_list("status", flat=True)
    )
    held = [row[1] for row in outcome(together)]
    assert held.count(HoldReason.PREMODERATION) == 2  # the pre-moderated author's publishes


def test_a_second_run_of_a_batch_decides_nothing(reader: Any, article: Any) -> None:
    from civility.discussion import services
    from civility.moderation.models import Strike

    comments = pending(thread_for_article(article), reader, 4)
    batch = [(c.pk, v) for c, v in zip(comments, decision_mix(), strict=True)]
    assert len(services.apply_engine_verdicts(batch)) == 4
    assert services.apply_engine_verdicts(batch) == {}
    assert decisions(comments) == [1] * 4
    assert Strike.objects.filter(comment__in=comments).count() == 1


def test_a_batch_of_fifty_takes_a_bounded_number_of_queries(
    reader: Any, other_reader: Any, article: Any, django_assert_max_num_queries: Any
) -> None:
    from civility.discussion import services

    thread = thread_for_article(article)
    comments = pending(thread, reader, 25) + pending(thread, other_reader, 25)
    batch = [(c.pk, v) for c, v in zip(comments, decision_mix() * 13, strict=False)]
    # Was about 10 per comment (500); now a fixed number, whatever the batch's size (two of
    # them read the removed comments and whether their authors want the removal e-mailed).
    with django_assert_max_num_queries(14):
        assert len(services.apply_engine_verdicts(batch)) == 50


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_two_batches_racing_on_the_same_comments_write_each_decision_once(
    reader: Any, other_reader: Any, article: Any, monkeypatch: Any
) -> None:
    """A batch delivered twice at once (redelivered while its first worker still runs): both
    judge every comment, then write at the same moment; the row locks let one write."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (set CIVILITY_TEST_DATABASE_URL)")
    from civility.discussion import services
    from civility.moderation.models import Strike

    thread = thread_for_article(article)
    comments = pending(thread, reader, 6) + pending(thread, other_reader, 6)
    ids = [c.pk for c in comments]
    services.current_engines()  # both threads share the loaded engine, as a worker's tasks do
    barrier = threading.Barrier(2)
    apply = services.apply_engine_verdicts

    def apply_together(*args: Any, **kwargs: Any) -> dict[int, str]:
        barrier.wait(timeout=60)
        return apply(*args, **kwargs)

    monkeypatch.setattr(services, "apply_engine_verdicts", apply_together)
    results = run_in_threads(lambda: tasks.moderate_batch(ids))
    assert sorted(results) == [0, len(ids)]
    assert decisions(comments) == [1] * len(ids)
    assert not Comment.objects.filter(pk__in=ids, status=CommentStatus.PENDING).exists()
    rejected = Comment.objects.filter(pk__in=ids, status=CommentStatus.REJECTED).count()
    assert Strike.objects.filter(comment_id__in=ids).count() == rejected


def test_the_decision_rows_hold_every_decision_field_as_decided(reader: Any, article: Any) -> None:
    """The batch writes its rows itself (one UPDATE a row): each of DECISION_FIELDS read back
    equals what the decision set on the instance, JSON and times included."""
    from civility.discussion import services

    comments = pending(thread_for_article(article), reader, 4)
    batch = [(c.pk, v) for c, v in zip(comments, decision_mix(), strict=True)]
    decided = services._apply_verdicts(batch, stage="full")
    assert len(decided) == 4
    written = {c.pk: c for c in Comment.objects.filter(pk__in=[c.pk for c in comments])}
    for comment in decided:
        for name in services.DECISION_FIELDS:
            assert getattr(written[comment.pk], name) == getattr(comment, name), name
    assert {c.status for c in decided} == {
        CommentStatus.PUBLISHED,
        CommentStatus.PENDING,
        CommentStatus.REJECTED,
    }


@pytest.mark.usefixtures("lenient_policy")
def test_a_partly_decided_batch_decides_and_audits_the_rest_once(reader: Any, article: Any) -> None:
    comments = pending(thread_for_article(article), reader, 6)
    ids = [c.pk for c in comments]
    # Two of them decided by their single tasks before the batch arrives.
    assert tasks.moderate_comment_task.apply(args=[ids[1]]).result == "published"
    assert tasks.moderate_comment_task.apply(args=[ids[4]]).result == "published"
    assert tasks.moderate_batch(ids) == 4
    assert decisions(comments) == [1] * 6
    assert AuditLog.objects.filter(
        action="comment.engine_decision", target_id__in=[str(i) for i in ids]
    ).count() == len(ids)


def test_a_comment_edited_after_the_engine_read_it_waits_for_its_new_text(
    reader: Any, article: Any
) -> None:
    """The verdict on the old text is not written onto the new one: the comment keeps waiting
    (the edit queued its own task; the sweeper would find it too) and is judged again."""
    from civility.discussion import services

    comments = pending(thread_for_article(article), reader, 2)
    judged = {c.pk: c.edited_at for c in comments}
    # The author edits the first one while the batch is in the engine.
    Comment.objects.filter(pk=comments[0].pk).update(
        text=f"{CLEAN} Edited.", edited_at=timezone.now(), hold_reason=HoldReason.EDITED
    )
    batch = [(c.pk, v) for c, v in zip(comments, decision_mix()[::3], strict=True)]
    assert services.apply_engine_verdicts(batch, judged=judged) == {
        comments[1].pk: CommentStatus.PUBLISHED
    }
    edited = Comment.objects.get(pk=comments[0].pk)
    assert (edited.status, edited.hold_reason) == (CommentStatus.PENDING, HoldReason.EDITED)
    assert decisions(comments) == [0, 1]
    assert tasks.moderate_batch([c.pk for c in comments]) == 1
    assert decisions(comments) == [1, 1]


ABUSIVE = "You are a fucking idiot, shut the fuck up and go away."


def test_a_removal_made_by_a_worker_is_e_mailed_and_one_made_as_the_author_posts_is_not(
    reader: Any, article: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    from civility.discussion.services import moderate_comment, post_comment
    from civility.notifications.services import update_settings

    thread = thread_for_article(article)
    # Decided inline: the author reads the removal on the page as they post.
    with django_capture_on_commit_callbacks(execute=True):
        shown = post_comment(author=reader, thread=thread, text=ABUSIVE).comment
    assert shown.status == CommentStatus.REJECTED
    assert mail.outbox == []
    audit = AuditLog.objects.get(action="comment.engine_decision", target_id=str(shown.pk))
    assert audit.data["at_posting"] is True

    # Decided by a worker after the post (a batch, then a single task): e-mailed, once each.
    batched, single = Comment.objects.bulk_create(
        Comment(thread=thread, site_id=thread.site_id, author=reader, text=f"{ABUSIVE} {n}")
        for n in range(2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.moderate_batch([batched.pk]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert moderate_comment(single.pk) == CommentStatus.REJECTED
        assert moderate_comment(single.pk) is None  # delivered twice: decided and told once
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.to == [reader.email]
    assert message.subject.endswith("Your comment was removed")
    assert "Our automatic moderation removed your comment" in message.body
    assert "Rule:" in message.body and f"/my/comments/{batched.pk}/review/" in message.body
    assert (
        AuditLog.objects.get(action="comment.engine_decision", target_id=str(single.pk)).data[
            "at_posting"
        ]
        is False
    )

    # Turned off in the notification settings: no e-mail.
    update_settings(reader, email_removals=False)
    [quiet] = pending(thread, reader, 1)
    Comment.objects.filter(pk=quiet.pk).update(text=ABUSIVE + " Again.")
    with django_capture_on_commit_callbacks(execute=True):
        assert moderate_comment(quiet.pk) == CommentStatus.REJECTED
    assert len(mail.outbox) == 2
