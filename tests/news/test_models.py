from __future__ import annotations

import pytest

from civility.news.html import html_to_text, sanitize_body
from civility.news.models import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH, Article, Tag
from tests.news.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_saving_an_article_fills_slug_and_short_code() -> None:
    article = Article.objects.create(
        headline="Ferry crossing reopens after repairs", body="<p>Text.</p>"
    )
    assert article.slug == "ferry-crossing-reopens-after-repairs"
    assert len(article.short_code) == SHORT_CODE_LENGTH
    assert set(article.short_code) <= set(SHORT_CODE_ALPHABET)
    assert article.get_absolute_url() == "/news/ferry-crossing-reopens-after-repairs/"
    assert article.get_short_url() == f"/s/{article.short_code}"


def test_short_codes_are_unique_and_stable() -> None:
    articles = ArticleFactory.create_batch(30)
    codes = {article.short_code for article in articles}
    assert len(codes) == 30
    first = articles[0]
    code = first.short_code
    first.headline = "Edited headline"
    first.save()
    first.refresh_from_db()
    assert first.short_code == code


def test_body_is_sanitised_and_indexed_as_text() -> None:
    article = ArticleFactory(
        body='<p onclick="x()">Safe <a href="javascript:alert(1)">link</a></p><script>alert(1)</script>'
        '<p class="read-more">Read more: <a href="/news/other/">Other</a></p>'
    )
    assert "script" not in article.body
    assert "onclick" not in article.body
    assert "javascript:" not in article.body
    assert 'class="read-more"' in article.body
    assert article.body_text == "Safe link\nRead more: Other"


def test_sanitiser_keeps_article_markup_and_drops_unknown_classes() -> None:
    cleaned = sanitize_body(
        '<h2>Sub</h2><blockquote class="x">Quote</blockquote><ul><li>One</li></ul>'
    )
    assert cleaned == "<h2>Sub</h2><blockquote>Quote</blockquote><ul><li>One</li></ul>"
    assert html_to_text("<p>a &amp; b</p><p>c<br>d</p>") == "a & b\nc\nd"


def test_tag_slug_comes_from_its_name() -> None:
    tag = Tag.objects.create(name="Public services")
    assert tag.slug == "public-services"
    assert tag.get_absolute_url() == "/tags/public-services/"


def test_scheduled_articles_are_not_published() -> None:
    from datetime import timedelta

    from django.utils import timezone

    visible = ArticleFactory()
    ArticleFactory(published_at=timezone.now() + timedelta(days=1))
    assert list(Article.objects.published()) == [visible]
