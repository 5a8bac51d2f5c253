"""Atom feed of the latest articles."""

from __future__ import annotations

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from civility.news.models import Article
from civility.news.selectors import latest_articles

FEED_SIZE = 30


class LatestArticlesFeed(Feed):  # type: ignore[type-arg]  # generic only in django-stubs
    feed_type = Atom1Feed
    title = _("Civility: all news")
    link = reverse_lazy("news:front")
    subtitle = _("The latest articles.")

    def items(self) -> list[Article]:
        return list(latest_articles()[:FEED_SIZE])

    def item_title(self, item: Article) -> str:
        return item.headline

    def item_description(self, item: Article) -> str:
        return item.lead or item.body_text[:300]

    def item_pubdate(self, item: Article) -> datetime:
        return item.published_at

    def item_updateddate(self, item: Article) -> datetime:
        return item.updated_at

    def item_categories(self, item: Article) -> list[str]:
        return [tag.name for tag in item.tags.all()]
