"""Reviews of removals: the author of a removed comment asks a person to look again (the
complaint against a moderation decision of the EU's Digital Services Act, art. 20). A moderator
of the comment's site reinstates it or upholds the removal with a reason; the reader is
e-mailed either way, in their language, and each step is in the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation import services
from civility.moderation.models import AuditLog, ReviewRequest, ReviewStatus, Strike
from civility.moderation.services import ModerationError, ReviewRefused
from tests.discussion.conftest import make_article
from tests.discussion.test_api import token_for
from tests.sites.conftest import ru_moderator, ru_moderator_client, ru_site  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

CLEAN = "The talks on the peace treaty and the islands seem to be making slow progress."
EXPLANATION = "I called the minister's plan naive, which is criticism of a policy, not an insult."


def removed_by_engine(author: Any, article: Any, text: str = CLEAN) -> Comment:
    """A comment the engine removed for an insult, with its strike, as the pipeline leaves it."""
    comment = post_comment(author=author, thread=thread_for_article(article), text=text).comment
    Comment.objects.filter(pk=comment.pk).update(
        status=CommentStatus.REJECTED,
        rule="insult",
        fired_rules=",insult,",
        decided_by="engine",
        decided_at=timezone.now(),
        verdict={"decision": "reject", "rules": ["insult"], "scores": {"insult": 0.93}},
    )
    comment.refresh_from_db()
    Strike.objects.create(user=author, comment=comment, rule="insult", issued_by="engine")
    return comment


def ask(client: Client, comment: Comment, explanation: str = EXPLANATION) -> Any:
    return client.post(f"/my/comments/{comment.pk}/review/", {"explanation": explanation})


def decide(client: Client, review: ReviewRequest, decision: str, message: str = "") -> Any:
    return client.post(
        f"/moderation/reviews/{review.pk}/decide/", {"decision": decision, "message": message}
    )


def test_the_author_asks_and_a_moderator_reinstates(
    reader: Any,
    reader_client: Client,
    moderator: Any,
    moderator_client: Client,
    article: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    comment = removed_by_engine(reader, article)
    mine = reader_client.get("/my/comments/").content.decode()
    assert f'href="/my/comments/{comment.pk}/review/"' in mine

    form = reader_client.get(f"/my/comments/{comment.pk}/review/")
    assert form.status_code == 200
    assert "The automatic moderation removed it" in form.content.decode()
    response = ask(reader_client, comment)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/my/comments/#my-comment-{comment.pk}")
    review = ReviewRequest.objects.get(comment=comment)
    assert (review.status, review.rule, review.removed_by) == ("open", "insult", "engine")
    assert review.site_id == comment.site_id
    assert AuditLog.objects.filter(
        action="comment.review_requested", target_id=str(review.pk), actor=reader
    ).exists()
    mine = reader_client.get("/my/comments/").content.decode()
    assert 'data-review-status="open"' in mine and "data-ask-review" not in mine

    detail = moderator_client.get(f"/moderation/comments/{comment.pk}/").content.decode()
    assert 'data-review-section="open"' in detail and "criticism of a policy" in detail
    assert "comment.review_requested" in detail  # the request's audit row, on the comment
    queue = moderator_client.get("/moderation/reviews/").content.decode()
    assert f'data-review="{review.pk}"' in queue
    assert "Removed by the automatic moderation" in queue and "criticism of a policy" in queue
    assert '<span class="badge" data-count="reviews">1</span>' in queue

    with django_capture_on_commit_callbacks(execute=True):
        assert decide(moderator_client, review, "reinstate").status_code == 302
    comment.refresh_from_db()
    review.refresh_from_db()
    assert comment.status == CommentStatus.PUBLISHED
    assert review.status == ReviewStatus.REINSTATED and review.decided_by == moderator
    assert Strike.objects.get(comment=comment).revoked_at is not None
    actions = set(AuditLog.objects.filter(actor=moderator).values_list("action", flat=True))
    assert {"comment.approved", "comment.review_decided"} <= actions
    [message] = mail.outbox
    assert message.to == [reader.email]
    assert "reinstated it" in message.body and article.headline in message.body
    assert "/my/comments/" in message.body
    assert (
        'data-count="reviews">0<' in moderator_client.get("/moderation/reviews/").content.decode()
    )


def test_upholding_needs_a_reason_which_the_reader_is_told(
    reader: Any,
    reader_client: Client,
    moderator_client: Client,
    article: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    comment = removed_by_engine(reader, article)
    ask(reader_client, comment)
    review = ReviewRequest.objects.get(comment=comment)
    decide(moderator_client, review, "uphold")
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN  # refused: no reason given
    reason = "Calling another reader an idiot is an insult, whatever the topic."
    with django_capture_on_commit_callbacks(execute=True):
        decide(moderator_client, review, "uphold", reason)
    review.refresh_from_db()
    comment.refresh_from_db()
    assert (review.status, review.response) == (ReviewStatus.UPHELD, reason)
    assert comment.status == CommentStatus.REJECTED
    assert Strike.objects.get(comment=comment).revoked_at is None
    [message] = mail.outbox
    assert "upheld it" in message.body and reason in message.body and "Insult" in message.body
    mine = reader_client.get("/my/comments/").content.decode()
    assert 'data-review-status="upheld"' in mine and reason in mine
    with pytest.raises(ModerationError):
        services.decide_review(review, moderator=None, reinstate=True, message="")


def test_the_outcome_mail_is_in_the_readers_language(
    reader: Any,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    reader.language = "fr"
    reader.save(update_fields=["language"])
    comment = removed_by_engine(reader, article)
    review = services.request_review(comment, user=reader, explanation=EXPLANATION)
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_review(review, moderator=moderator, reinstate=True, message="")
    [message] = mail.outbox
    assert "modérat" in message.body.lower(), message.body


def test_one_review_per_removal_and_only_for_the_author_of_a_removed_comment(
    reader: Any,
    reader_client: Client,
    other_reader: Any,
    article: Any,
) -> None:
    comment = removed_by_engine(reader, article)
    # Too short an explanation: refused with the reason, nothing stored.
    short = ask(reader_client, comment, "Not fair.")
    assert short.status_code == 400 and "at least 20 characters" in short.content.decode()
    assert not ReviewRequest.objects.exists()
    # Another reader's comment is not found.
    other = Client()
    other.force_login(other_reader)
    assert ask(other, comment).status_code == 404
    with pytest.raises(ReviewRefused):
        services.request_review(comment, user=other_reader, explanation=EXPLANATION)
    # A published comment has nothing to review.
    published = post_comment(
        author=reader, thread=thread_for_article(article), text=CLEAN + " Again."
    ).comment
    assert ask(reader_client, published).status_code == 409
    assert reader_client.get(f"/my/comments/{published.pk}/review/").status_code == 200
    # Once per removal.
    assert ask(reader_client, comment).status_code == 302
    again = ask(reader_client, comment)
    assert again.status_code == 409
    assert ReviewRequest.objects.count() == 1
    # Too late: the window is counted from the removal.
    late = removed_by_engine(reader, article, CLEAN + " Late.")
    Comment.objects.filter(pk=late.pk).update(decided_at=timezone.now() - timedelta(days=200))
    late.refresh_from_db()
    with pytest.raises(ReviewRefused, match="within 183 days"):
        services.request_review(late, user=reader, explanation=EXPLANATION)
    assert (
        "data-ask-review"
        not in reader_client.get("/my/comments/")
        .content.decode()
        .split(f'id="my-comment-{late.pk}"')[1]
        .split("</li>")[0]
    )


def test_approving_from_a_queue_answers_the_request_and_a_deleted_comment_withdraws_it(
    reader: Any,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = removed_by_engine(reader, article)
    review = services.request_review(first, user=reader, explanation=EXPLANATION)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_comment(first, moderator=moderator)
    review.refresh_from_db()
    assert review.status == ReviewStatus.REINSTATED
    assert len(mail.outbox) == 1

    second = removed_by_engine(reader, article, CLEAN + " Second.")
    review = services.request_review(second, user=reader, explanation=EXPLANATION)
    Comment.objects.filter(pk=second.pk).update(status=CommentStatus.DELETED)
    with django_capture_on_commit_callbacks(execute=True):
        decided = services.decide_review(review, moderator=moderator, reinstate=True, message="")
    assert decided.status == ReviewStatus.WITHDRAWN
    assert len(mail.outbox) == 1  # nothing to tell about a comment the author deleted
    with pytest.raises(ModerationError):
        services.decide_review(review, moderator=moderator, reinstate=False, message="No.")


def test_each_sites_moderators_see_only_their_sites_requests(
    reader: Any,
    reader_client: Client,
    moderator_client: Client,
    article: Any,
    request: pytest.FixtureRequest,
) -> None:
    russian_moderator: Client = request.getfixturevalue("ru_moderator_client")
    russian_site = request.getfixturevalue("ru_site")
    comment = removed_by_engine(reader, article)
    ask(reader_client, comment)
    review = ReviewRequest.objects.get()
    russian = russian_moderator.get("/ru/moderation/reviews/")
    assert russian.status_code == 200
    assert f'data-review="{review.pk}"' not in russian.content.decode()
    assert decide(russian_moderator, review, "reinstate").status_code == 403
    response = russian_moderator.post(
        f"/ru/moderation/reviews/{review.pk}/decide/", {"decision": "reinstate"}
    )
    assert response.status_code == 404
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN
    assert (
        f'data-review="{review.pk}"'
        in moderator_client.get("/moderation/reviews/").content.decode()
    )
    ru_article = make_article("ru-review", site=russian_site)
    assert ru_article.site_id != comment.site_id


def test_the_api_files_a_request_and_reports_it_on_the_comment(reader: Any, article: Any) -> None:
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(client, reader.email)}"}
    comment = removed_by_engine(reader, article)
    status = client.get(f"/api/comments/{comment.pk}", **headers).json()
    assert status["status"] == "rejected" and status["review"] is None
    url = f"/api/comments/{comment.pk}/review"

    def post(path: str, explanation: str, **extra: Any) -> Any:
        return client.post(
            path, {"explanation": explanation}, content_type="application/json", **extra
        )

    short = post(url, "No.", **headers)
    assert short.status_code == 400 and short.json()["detail"]
    created = post(url, EXPLANATION, **headers)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["comment_id"], body["status"], body["decided_at"]) == (comment.pk, "open", None)
    again = post(url, EXPLANATION, **headers)
    assert again.status_code == 409 and "already" in again.json()["message"]
    status = client.get(f"/api/comments/{comment.pk}", **headers).json()
    assert status["review"]["status"] == "open"
    assert post("/api/comments/999999999/review", EXPLANATION, **headers).status_code == 404
    assert post(url, EXPLANATION).status_code == 401


def test_the_request_is_in_the_readers_data_and_goes_with_the_purge(
    reader: Any, reader_client: Client, article: Any
) -> None:
    from civility.accounts.services import delete_account, export_user_data, purge_account

    comment = removed_by_engine(reader, article)
    ask(reader_client, comment)
    exported = export_user_data(reader)
    [row] = exported["moderation.reviewrequest"]
    assert row["explanation"] == EXPLANATION
    delete_account(reader)
    reader.refresh_from_db()
    purge_account(reader)
    assert not ReviewRequest.objects.exists()


def test_a_moderators_removal_is_e_mailed_with_the_rule_and_the_way_to_contest_it(
    reader: Any,
    reader_client: Client,
    moderator: Any,
    article: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    comment = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    assert comment.status == CommentStatus.PUBLISHED
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_comment(comment, moderator=moderator, rule="insult", note="internal")
    [message] = mail.outbox
    assert message.to == [reader.email]
    assert message.subject.endswith("A moderator removed your comment")
    assert "rule 5, Insult" in message.body and CLEAN[:30] in message.body
    assert f"/my/comments/{comment.pk}/review/" in message.body
    assert "internal" not in message.body  # the moderator's note stays with the moderators
    # A new rule for a comment already removed tells nobody again.
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_comment(comment, moderator=moderator, rule="trolling")
    assert len(mail.outbox) == 1

    # Turned off in the notification settings: no e-mail.
    form = reader_client.get("/notifications/").content.decode()
    assert (
        'name="email_removals"' in form and "checked" in form.split('name="email_removals"')[1][:40]
    )
    from civility.notifications.services import update_settings

    update_settings(reader, email_removals=False)
    second = post_comment(
        author=reader, thread=thread_for_article(article), text=CLEAN + " Again."
    ).comment
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_comment(second, moderator=moderator, rule="insult")
    assert len(mail.outbox) == 1
