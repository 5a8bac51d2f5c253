"""Policy admin: versioned policies in the database feed the engine; Replay shows what a
draft would change before it is saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civility.discussion.engine import current_engines
from civility.discussion.models import Comment
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation.models import AuditLog, PolicyVersion
from civility.standards.rules import RULES

pytestmark = pytest.mark.django_db

SHOUT = "THIS TREATY IS A COMPLETE DISGRACE AND EVERY MINISTER INVOLVED SHOULD RESIGN TODAY"


def form_for(overrides: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """The policy form as the page would post it, every rule off unless ``overrides``."""
    data: dict[str, Any] = {"languages": "en", "replay_count": "50", "note": "test"}
    for rule in RULES:
        data[f"queue_{rule.slug}"] = "0.5"
        data[f"reject_{rule.slug}"] = "0.9"
    for slug, values in (overrides or {}).items():
        if values.get("enabled"):
            data[f"enabled_{slug}"] = "on"
        for key in ("queue", "reject"):
            if key in values:
                data[f"{key}_{slug}"] = str(values[key])
    data.update(extra)
    return data


def test_policy_page_shows_every_rule(moderator_client: Client) -> None:
    page = moderator_client.get("/moderation/policy/").content.decode()
    for rule in RULES:
        assert f'name="queue_{rule.slug}"' in page


def test_save_makes_a_new_active_version_that_feeds_the_engine(
    moderator_client: Client, moderator: Any
) -> None:
    response = moderator_client.post(
        "/moderation/policy/",
        form_for({"shouting": {"enabled": True, "queue": 0.3, "reject": 0.4}}, action="save"),
    )
    assert response.status_code == 302
    version = PolicyVersion.objects.get(is_active=True)
    assert version.policy["rules"]["shouting"] == {"enabled": True, "queue": 0.3, "reject": 0.4}
    assert version.policy["rules"]["insult"]["enabled"] is False
    assert version.created_by == moderator
    engines = current_engines()
    assert engines.policy.version == version.digest
    assert engines.full.policy.rule("shouting").queue == 0.3
    entry = AuditLog.objects.get(action="policy.saved")
    assert "rules.shouting" in entry.data["changes"]
    moderator_client.post("/moderation/policy/", form_for(action="save", languages="en, ru"))
    assert PolicyVersion.objects.count() == 2
    assert PolicyVersion.objects.filter(is_active=True).count() == 1
    assert current_engines().policy.languages == ("en", "ru")


def test_invalid_policy_is_refused_with_a_message(moderator_client: Client) -> None:
    response = moderator_client.post(
        "/moderation/policy/",
        form_for({"insult": {"enabled": True, "queue": 0.9, "reject": 0.2}}, action="save"),
    )
    assert response.status_code == 400
    assert "queue" in response.content.decode()
    assert not PolicyVersion.objects.exists()
    response = moderator_client.post("/moderation/policy/", form_for(action="save", languages=""))
    assert response.status_code == 400


def test_premoderate_every_comment(moderator_client: Client, reader: Any, article: Any) -> None:
    moderator_client.post("/moderation/policy/", form_for(action="save", premoderate_all="on"))
    outcome = post_comment(
        author=reader, thread=thread_for_article(article), text="A calm remark on the talks."
    )
    assert outcome.status == "pending"
    assert outcome.comment.hold_reason == "premoderation"


def test_replay_shows_what_a_draft_would_change_without_saving(
    moderator_client: Client, reader: Any, article: Any
) -> None:
    moderator_client.post("/moderation/policy/", form_for(action="save"))  # everything off
    thread = thread_for_article(article)
    for n in range(3):
        post_comment(author=reader, thread=thread, text=f"{SHOUT} NUMBER {n}")
    post_comment(
        author=reader, thread=thread, text="A calm, well-formed remark on the treaty talks."
    )
    assert set(Comment.objects.values_list("status", flat=True)) == {"published"}
    active_before = PolicyVersion.objects.get(is_active=True).pk

    draft = form_for({"shouting": {"enabled": True, "queue": 0.3, "reject": 0.35}}, action="replay")
    page = moderator_client.post("/moderation/policy/", draft).content.decode()
    assert "Replay over the last 4 comments" in page
    assert "data-replay-changed>3<" in page
    assert "publish" in page and "reject" in page
    assert "19. Written-language rules" in page
    assert PolicyVersion.objects.get(is_active=True).pk == active_before  # nothing saved
    assert PolicyVersion.objects.count() == 1
