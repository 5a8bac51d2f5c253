"""/metrics: Prometheus text with request rate and latency by route, decisions by rule, engine
latency, pending count and queue lag."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from civility.discussion.models import Comment
from civility.discussion.services import post_comment, thread_for_article

CLEAN = "The talks on the peace treaty and the islands seem to be making slow progress."


def scrape() -> dict[str, list[Any]]:
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = text_string_to_metric_families(response.content.decode())
    return {family.name: family.samples for family in families}


def value(samples: list[Any], name: str, **labels: str) -> float:
    total = 0.0
    for sample in samples:
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
            total += sample.value
    return total


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_requests_are_counted_and_timed_by_route(article: Any) -> None:
    before = scrape()
    route = "/api/articles/<slug>/comments"
    count_before = value(
        before.get("civility_http_requests", []),
        "civility_http_requests_total",
        route=route,
        status="200",
        method="GET",
    )
    for _ in range(3):
        assert Client().get(f"/api/articles/{article.slug}/comments").status_code == 200
    Client().get("/no/such/page/")
    after = scrape()
    requests = after["civility_http_requests"]
    assert (
        value(requests, "civility_http_requests_total", route=route, status="200", method="GET")
        == count_before + 3
    )
    assert value(requests, "civility_http_requests_total", route="unmatched", status="404") >= 1
    latency = after["civility_http_request_duration_seconds"]
    assert value(latency, "civility_http_request_duration_seconds_count", route=route) >= 3
    assert any(
        s.name.endswith("_bucket") and s.labels.get("le") == "0.05" and s.labels["route"] == route
        for s in latency
    )


@pytest.mark.django_db
def test_decisions_by_rule_and_engine_latency(reader: Any, article: Any) -> None:
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy
    from civility.standards.policy import Policy

    save_policy(
        Policy.from_dict({"deny_words": ["bridgewater"]}, base=site_default_policy()), by=None
    )
    before = scrape()
    thread = thread_for_article(article)
    rejected = post_comment(author=reader, thread=thread, text="bridgewater bridgewater")
    published = post_comment(author=reader, thread=thread, text=CLEAN)
    after = scrape()

    decisions_before = before.get("civility_moderation_decisions", [])
    decisions = after["civility_moderation_decisions"]
    name = "civility_moderation_decisions_total"
    for outcome in (rejected, published):
        assert outcome.comment.status in ("published", "rejected", "pending")
        decision = outcome.comment.verdict["decision"]
        rules = outcome.comment.verdict.get("rules") or ["none"]
        for rule in rules:
            labels = {"decided_by": "engine", "decision": decision, "rule": rule}
            assert value(decisions, name, **labels) >= value(decisions_before, name, **labels) + 1
    assert rejected.comment.status == "rejected" and rejected.comment.rule
    assert (
        value(decisions, name, decided_by="engine", decision="reject", rule=rejected.comment.rule)
        >= 1
    )
    engine = after["civility_engine_check_seconds"]
    assert (
        value(engine, "civility_engine_check_seconds_count", stage="full")
        >= value(
            before.get("civility_engine_check_seconds", []),
            "civility_engine_check_seconds_count",
            stage="full",
        )
        + 2
    )
    assert value(after["civility_comments_posted"], "civility_comments_posted_total") >= 2
    assert (
        value(
            after["civility_moderation_decision_lag_seconds"],
            "civility_moderation_decision_lag_seconds_count",
        )
        >= 2
    )


@pytest.mark.django_db
def test_pending_count_and_queue_lag_come_from_the_database(reader: Any, article: Any) -> None:
    thread = thread_for_article(article)
    Comment.objects.create(
        thread=thread, author=reader, text=CLEAN, created_at=timezone.now() - timedelta(minutes=7)
    )
    Comment.objects.create(thread=thread, author=reader, text=CLEAN + " Two.")
    Comment.objects.create(
        thread=thread, author=reader, text=CLEAN + " Held.", hold_reason="engine"
    )
    metrics = scrape()
    pending = metrics["civility_comments_pending"]
    assert value(pending, "civility_comments_pending", hold_reason="awaiting_engine") == 2
    assert value(pending, "civility_comments_pending", hold_reason="engine") == 1
    assert value(pending, "civility_comments_pending", hold_reason="premoderation") == 0
    lag = value(
        metrics["civility_moderation_queue_lag_seconds"], "civility_moderation_queue_lag_seconds"
    )
    assert 7 * 60 <= lag < 60 * 60


@pytest.mark.django_db
def test_queue_lag_is_zero_when_nothing_waits() -> None:
    metrics = scrape()
    assert (
        value(
            metrics["civility_moderation_queue_lag_seconds"],
            "civility_moderation_queue_lag_seconds",
        )
        == 0
    )


@pytest.mark.django_db
def test_broker_queue_length_is_exported_with_a_redis_broker(celery_broker: Any) -> None:
    import redis

    _app, queue = celery_broker
    from tests.ops.conftest import redis_url

    client = redis.Redis.from_url(redis_url())
    client.rpush(queue, b"{}", b"{}")
    from django.test import override_settings

    with override_settings(CELERY_TASK_DEFAULT_QUEUE=queue):
        metrics = scrape()
    assert (
        value(metrics["civility_broker_queue_length"], "civility_broker_queue_length", queue=queue)
        == 2
    )


@pytest.mark.django_db
def test_metrics_can_be_restricted_to_known_addresses(settings: Any) -> None:
    settings.CIVILITY_METRICS_ALLOWED_IPS = ["10.0.0.5"]
    assert Client().get("/metrics").status_code == 403
    assert Client(REMOTE_ADDR="10.0.0.5").get("/metrics").status_code == 200


def test_multiprocess_mode_adds_up_every_process(tmp_path: Any) -> None:
    """Under gunicorn, each worker writes its own file and /metrics sums them."""
    import os
    import subprocess
    import sys

    script = "from prometheus_client import Counter\nCounter('civility_probe', 'probe').inc(2)\n"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env=env, check=True)
    reader_script = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='civility.config.settings'\n"
        "from civility.ops import metrics\n"
        "print(metrics.render(include_database=False).decode())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", reader_script], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "civility_probe_total 4.0" in out


@pytest.mark.django_db
def test_recommendations_and_editors_picks_are_counted(
    reader: Any, other_reader: Any, moderator: Any, article: Any
) -> None:
    from civility.discussion.services import recommend_comment
    from civility.moderation.services import set_featured

    comment = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    name = "civility_comment_engagement_total"
    before = scrape().get("civility_comment_engagement", [])
    recommend_comment(comment=comment, reader=other_reader)
    recommend_comment(comment=comment, reader=other_reader, recommend=False)
    set_featured(comment, moderator=moderator, featured=True)
    after = scrape()["civility_comment_engagement"]
    for action in ("recommended", "recommendation_withdrawn", "featured"):
        assert value(after, name, action=action) == value(before, name, action=action) + 1
    assert value(after, name, action="unfeatured") == value(before, name, action="unfeatured")
