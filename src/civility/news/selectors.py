"""Reads of the news app that need care (ordering, related articles)."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q

from civility.news.models import Article, ArticleQuerySet, Tag
from civility.sites.current import current_site


def site_articles(
    site_id: int | None = None, now: datetime.datetime | None = None
) -> ArticleQuerySet:
    """Published articles of one site (None: the site of the current request) by ``now``
    (default: the clock)."""
    site_id = site_id if site_id is not None else int(current_site().pk)
    return Article.objects.published(now).filter(site_id=site_id)


def latest_articles(site_id: int | None = None) -> ArticleQuerySet:
    """The site's published news, newest first, with tags ready for listing."""
    return site_articles(site_id).prefetch_related("tags").order_by("-published_at", "-id")


def recommended_articles(site_id: int | None = None) -> ArticleQuerySet:
    """The articles the site's editors recommend, newest first."""
    return latest_articles(site_id).filter(recommended=True)


def articles_tagged(tag: Tag) -> ArticleQuerySet:
    return latest_articles().filter(tags=tag)


def related_articles(article: Article, *, limit: int = 5) -> list[Article]:
    """Other articles sharing most tags with ``article`` first, then the most recent ones."""
    tag_ids = list(article.tags.values_list("id", flat=True))
    others = site_articles(article.site_id).exclude(pk=article.pk)
    related: list[Article] = []
    if tag_ids:
        related = list(
            others.filter(tags__in=tag_ids)
            .annotate(shared_tags=Count("tags", filter=Q(tags__in=tag_ids), distinct=True))
            .order_by("-shared_tags", "-published_at", "-id")
            .prefetch_related("tags")[:limit]
        )
    if len(related) < limit:
        seen = [item.pk for item in related]
        related += list(
            others.exclude(pk__in=seen)
            .order_by("-published_at", "-id")
            .prefetch_related("tags")[: limit - len(related)]
        )
    return related
