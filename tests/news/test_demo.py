from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from civility.news.demo_content import DEMO_MODERATOR, DEMO_READER, demo_records, load_demo
from civility.news.models import Article, Tag
from civility.news.search import search_articles

pytestmark = pytest.mark.django_db


def test_demo_has_enough_varied_cross_linked_articles() -> None:
    records = demo_records()
    assert len(records) >= 12
    assert len({record.source_id for record in records}) == len(records)
    tag_use: dict[str, int] = {}
    for record in records:
        for tag in record.tags:
            tag_use[tag] = tag_use.get(tag, 0) + 1
    assert len(tag_use) >= 10
    # Every article shares at least one tag with another, so related lists mean something.
    for record in records:
        assert any(tag_use[tag] > 1 for tag in record.tags), record.headline


def test_loading_is_idempotent_and_creates_working_accounts(client: Client) -> None:
    added, accounts = load_demo()
    assert added == len(demo_records())
    assert all(created for _, created in accounts)
    again, accounts_again = load_demo()
    assert again == 0 and not any(created for _, created in accounts_again)
    assert Article.objects.count() == len(demo_records())
    assert all(article.image for article in Article.objects.all())
    user_model = get_user_model()
    moderator = user_model.objects.get(email=DEMO_MODERATOR.email)
    assert moderator.groups.filter(name="moderators").exists()
    assert not user_model.objects.get(email=DEMO_READER.email).groups.exists()
    assert client.login(username=DEMO_READER.email, password=DEMO_READER.password)


def test_every_demo_headline_is_found_and_pages_render(client: Client) -> None:
    load_demo()
    for article in Article.objects.all():
        assert search_articles(article.headline)[0] == article, article.headline
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200
        assert len(response.context["related"]) >= 3
        assert client.get(article.image.url).status_code == 200
    for tag in Tag.objects.all():
        assert client.get(tag.get_absolute_url()).status_code == 200


def test_inline_read_more_links_point_at_demo_articles(client: Client) -> None:
    load_demo()
    slugs = set(Article.objects.values_list("slug", flat=True))
    for article in Article.objects.all():
        assert 'class="read-more"' in article.body
        linked = article.body.split('href="/news/', 1)[1].split("/", 1)[0]
        assert linked in slugs
