"""Language versions: each site has its articles, comments, policy, moderators and language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from civility.discussion.models import Comment
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation.models import AuditLog, PolicyVersion
from tests.discussion.conftest import make_article, make_user

pytestmark = pytest.mark.django_db

ENGLISH = (
    "The ministers should publish the draft treaty, so that readers in both countries can "
    "judge the compromise on the islands for themselves."
)


def test_a_single_site_behaves_as_before(client: Client, en_article: Any) -> None:
    from civility.sites.current import all_sites

    assert [site.is_default for site in all_sites()] == [True]
    response = client.get(en_article.get_absolute_url())
    assert response.status_code == 200
    assert response.wsgi_request.site.is_default  # type: ignore[attr-defined]
    assert reverse("news:front") == "/"


def test_the_same_english_comment_is_published_on_the_english_site_and_flagged_on_the_russian(
    reader: Any, en_article: Any, ru_article: Any
) -> None:
    on_english = post_comment(author=reader, thread=thread_for_article(en_article), text=ENGLISH)
    on_russian = post_comment(author=reader, thread=thread_for_article(ru_article), text=ENGLISH)

    assert on_english.status == "published"
    assert "foreign_language" not in on_english.comment.verdict["rules"]
    # Rule 20: held for review or removed, as the Russian site's policy says.
    assert on_russian.status in ("pending", "rejected")
    assert "foreign_language" in on_russian.comment.verdict["rules"]
    assert on_russian.comment.site_id == ru_article.site_id
    assert on_english.comment.site_id == en_article.site_id
    assert on_russian.comment.policy_version != on_english.comment.policy_version


def test_a_russian_comment_is_flagged_on_the_english_site(
    reader: Any, en_article: Any, ru_article: Any
) -> None:
    text = (
        "Министры должны опубликовать проект договора, чтобы читатели обеих стран могли сами "
        "оценить компромисс по островам."
    )
    outcome = post_comment(author=reader, thread=thread_for_article(en_article), text=text)
    assert outcome.status in ("pending", "rejected")
    assert "foreign_language" in outcome.comment.verdict["rules"]


def test_each_site_has_its_own_policy_history(en_site: Any, ru_site: Any) -> None:
    from civility.discussion.engine import current_engines
    from civility.moderation.selectors import active_policy, site_default_policy
    from civility.moderation.services import save_policy
    from civility.standards.policy import Policy

    base = site_default_policy(ru_site)
    assert base.languages == ("ru",)
    strict = Policy.from_dict({"deny_words": ["болван"]}, base=base)
    save_policy(strict, by=None, site=ru_site)

    assert active_policy(ru_site)[0].deny_words == ("болван",)
    assert active_policy(en_site)[1] is None  # the English site keeps the shipped default
    assert current_engines(ru_site).policy.version == strict.version
    assert current_engines(en_site).policy.languages == ("en",)
    assert PolicyVersion.objects.filter(site=ru_site, is_active=True).count() == 1
    assert AuditLog.objects.get(action="policy.saved").site_id == ru_site.pk


def test_path_prefix_site_serves_its_own_articles_in_its_language(
    client: Client, en_article: Any, ru_article: Any
) -> None:
    page = client.get(f"/ru/news/{ru_article.slug}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="ru"' in html
    assert page.wsgi_request.site.pk == ru_article.site_id  # type: ignore[attr-defined]
    # reverse() in the page carries the prefix.
    assert 'href="/ru/' in html
    # Each site lists and serves only its own articles.
    assert client.get(f"/ru/news/{en_article.slug}/").status_code == 404
    assert client.get(f"/news/{ru_article.slug}/").status_code == 404
    front = client.get("/ru/").content.decode()
    assert ru_article.headline in front and en_article.headline not in front
    # The reader's own language choice does not override a site's fixed language.
    english = client.get(f"/ru/news/{ru_article.slug}/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="ru"' in english.content.decode()


def test_domain_site_is_chosen_by_host(client: Client, settings: Any, en_article: Any) -> None:
    from civility.sites.models import Site

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "ru.example.org"]
    site = Site.objects.create(name="RU", domain="ru.example.org", language="ru")
    ru_only = make_article("ru-only", site=site, headline="Только на русском сайте")
    assert client.get("/news/ru-only/", HTTP_HOST="ru.example.org").status_code == 200
    assert client.get("/news/ru-only/").status_code == 404
    assert ru_only.site_id == site.pk


def test_a_russian_site_moderator_cannot_see_the_english_site(
    ru_moderator_client: Client, reader: Any, en_article: Any, ru_article: Any
) -> None:
    english = post_comment(author=reader, thread=thread_for_article(en_article), text=ENGLISH)
    russian = post_comment(author=reader, thread=thread_for_article(ru_article), text=ENGLISH)
    # English-site pages: 403 for a moderator of the Russian site only.
    for path in ("/moderation/", "/moderation/queue/pending/", "/moderation/audit/"):
        assert ru_moderator_client.get(path).status_code == 403, path
    assert ru_moderator_client.get(f"/moderation/comments/{english.comment.pk}/").status_code == 403
    # On the Russian site: its own queue; another site's comment is a 404.
    queue = ru_moderator_client.get("/ru/moderation/queue/all/")
    assert queue.status_code == 200
    html = queue.content.decode()
    assert f'data-comment-id="{russian.comment.pk}"' in html
    assert f'data-comment-id="{english.comment.pk}"' not in html
    assert (
        ru_moderator_client.get(f"/ru/moderation/comments/{english.comment.pk}/").status_code == 404
    )
    assert (
        ru_moderator_client.post(
            f"/ru/moderation/comments/{english.comment.pk}/approve/"
        ).status_code
        == 404
    )
    audit = ru_moderator_client.get("/ru/moderation/audit/").context["page"].object_list
    shown = {(entry.target_type, entry.target_id) for entry in audit}
    assert ("discussion.comment", str(russian.comment.pk)) in shown
    assert ("discussion.comment", str(english.comment.pk)) not in shown
    assert {entry.site_id for entry in audit} == {ru_article.site_id}
    # Account-wide actions are for moderators of every site.
    assert ru_moderator_client.get("/ru/moderation/appeals/").status_code == 403
    assert ru_moderator_client.post(f"/ru/moderation/users/{reader.pk}/block/").status_code == 403


def test_queue_counts_are_per_site(
    reader: Any, en_article: Any, ru_article: Any, ru_site: Any, en_site: Any
) -> None:
    from civility.moderation.queues import queue_counts

    post_comment(author=reader, thread=thread_for_article(en_article), text=ENGLISH)
    for n in range(2):
        post_comment(author=reader, thread=thread_for_article(ru_article), text=f"{ENGLISH} {n}")
    assert queue_counts(en_site.pk)["all"] == 1
    assert queue_counts(ru_site.pk)["all"] == 2
    assert Comment.objects.filter(site=ru_site).count() == 2


def test_group_moderators_and_all_site_grants_moderate_every_site(
    reader: Any, en_site: Any, ru_site: Any
) -> None:
    from civility.moderation.permissions import is_moderator, moderates_all_sites
    from civility.sites.models import ModeratorGrant

    group_member = make_user("mona@example.org", moderator=True)
    everywhere = make_user("eve@example.org")
    ModeratorGrant.objects.create(user=everywhere, site=None)
    for user in (group_member, everywhere):
        assert is_moderator(user, en_site) and is_moderator(user, ru_site)
        assert moderates_all_sites(user)
    assert not is_moderator(reader, ru_site)


def test_dashboard_and_engine_context_count_only_the_sites_comments(
    reader: Any, en_article: Any, ru_article: Any, ru_site: Any, make_user: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from civility.discussion.context import DatabaseContext
    from civility.moderation import stats

    for n in range(3):
        post_comment(author=reader, thread=thread_for_article(en_article), text=f"{ENGLISH} {n}")
    russian = post_comment(author=reader, thread=thread_for_article(ru_article), text=ENGLISH)
    since = timezone.now() - timedelta(hours=1)
    # Flash mobs and floods on one site say nothing about another.
    on_russian = DatabaseContext(ru_site.pk).recent_comments(since=since)
    assert [c.id for c in on_russian] == [str(russian.comment.pk)]
    assert len(DatabaseContext(en_article.site_id).recent_comments(since=since)) == 3
    assert sum(n for _day, n in stats.comments_per_day(ru_site.pk)) == 1
    assert stats.dashboard(ru_site.pk)["queues"]["all"] == 1
    assert stats.dashboard(en_article.site_id)["queues"]["all"] == 3
