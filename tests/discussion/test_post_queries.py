"""The post path's database work: a post reads the policy, the thread and its article once,
and the decision is written onto the comment at hand rather than read back."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.discussion.test_api import CLEAN, post_json, token_for

pytestmark = pytest.mark.django_db


def queries_of_a_post(
    client: Client, token: str, path: str, text: str, status: str, **fields: Any
) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = post_json(client, path, {"text": text, **fields}, token)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == status
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.mark.usefixtures("lenient_policy")
@pytest.mark.parametrize(("with_broker", "most"), [(True, 7), (False, 12)])
def test_a_post_takes_a_bounded_number_of_queries(
    reader: Any, article: Any, settings: Any, with_broker: bool, most: int
) -> None:
    client = Client()
    token = token_for(client, reader.email)
    path = f"/api/articles/{article.slug}/comments"
    queries_of_a_post(client, token, path, CLEAN + " First.", "published")  # caches warm up
    settings.CELERY_TASK_ALWAYS_EAGER = not with_broker
    # With a broker the screen publishes nothing: the worker decides, after the commit.
    status = "pending" if with_broker else "published"
    queries = queries_of_a_post(client, token, path, CLEAN + " Second.", status)
    # Before: 12 with a broker, 18 inline (savepoints aside), on SQLite and PostgreSQL alike;
    # then 9 and 14, until the article, its thread, the author's verified address, block and
    # client_token came in one query (services.post_context).
    assert len(queries) <= most, "\n".join(queries)
    assert sum("moderation_policyversion" in q for q in queries) == 1
    assert sum('FROM "news_article"' in q for q in queries) == 1


@pytest.mark.usefixtures("lenient_policy")
def test_with_a_broker_a_post_reads_its_token_once_and_no_recent_comments(
    reader: Any, article: Any, settings: Any
) -> None:
    client = Client()
    token = token_for(client, reader.email)
    path = f"/api/articles/{article.slug}/comments"
    queries_of_a_post(client, token, path, CLEAN + " First.", "published")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queries = queries_of_a_post(
        client, token, path, CLEAN + " Second.", "pending", client_token="second"
    )
    # The consent middleware and the API's authentication share one look-up of the token.
    assert sum('FROM "discussion_apitoken"' in q for q in queries) == 1
    # The client_token is looked up once, by the API, with the author's other facts.
    assert sum('"client_token" =' in q for q in queries) == 1
    assert sum('FROM "account_emailaddress"' in q for q in queries) == 1
    assert sum('FROM "moderation_standing"' in q for q in queries) == 1
    # The inline screen runs no cross-comment rule: no read of the recent comments.
    assert not any('"discussion_comment"."created_at" >=' in q for q in queries), queries


def test_author_facts_and_post_context_read_the_facts_as_they_are(
    reader: Any, moderator: Any, article: Any
) -> None:
    """The facts a post checks, read through the prepared queries (ops.prepared): the same
    for an author whose standing changes between posts in one process."""
    from civility.discussion.services import author_facts, post_comment, post_context
    from civility.moderation.services import block_user
    from tests.discussion.conftest import make_user

    unverified = make_user("unverified@example.org", verified=False)
    assert author_facts(unverified) == author_facts(unverified, "any")
    assert not author_facts(unverified).verified
    facts = author_facts(reader, "tok-1")
    assert facts.verified and not facts.blocked and facts.existing_comment_id is None
    thread, from_context = post_context(article.slug, reader, "tok-1")
    assert from_context == facts and thread.article == article

    outcome = post_comment(author=reader, thread=thread, text=CLEAN, client_token="tok-1")
    assert author_facts(reader, "tok-1").existing_comment_id == outcome.comment.pk
    assert post_context(article.slug, reader, "tok-1")[1].existing_comment_id == outcome.comment.pk
    assert author_facts(reader, "tok-2").existing_comment_id is None
    assert author_facts(moderator, "tok-1").existing_comment_id is None  # another author's

    block_user(reader, moderator=moderator, reason="test")
    assert author_facts(reader).blocked and post_context(article.slug, reader)[1].blocked
    reader.is_active = False
    assert not author_facts(reader).verified


def test_post_context_404s_for_an_unknown_or_scheduled_article(reader: Any) -> None:
    import datetime

    from django.http import Http404
    from django.utils import timezone

    from civility.discussion.services import post_context
    from tests.discussion.conftest import make_article

    scheduled = make_article("not-yet", published_at=timezone.now() + datetime.timedelta(hours=1))
    for slug in ("no-such-article", scheduled.slug):
        with pytest.raises(Http404):
            post_context(slug, reader)
