"""factory_boy factories for the news app."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone
from django.utils.text import slugify

from civility.news.models import Article, Tag


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda number: f"Topic {number}")
    slug = factory.LazyAttribute(lambda tag: slugify(tag.name))


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    headline = factory.Sequence(lambda number: f"Council reviews budget plan number {number}")
    lead = "Councillors met on Monday to discuss the plan."
    body = factory.LazyAttribute(lambda article: f"<p>{article.lead} The vote is next week.</p>")
    dateline = "Harbourton"
    published_at = factory.Sequence(lambda number: timezone.now() - timedelta(hours=number + 1))

    @factory.post_generation
    def tags(self, create: bool, extracted: Iterable[Any] | None, **kwargs: Any) -> None:
        """``tags=["Name", tag_object, ...]``: names become tags (created on first use)."""
        if not create or not extracted:
            return
        tags = [item if isinstance(item, Tag) else TagFactory(name=item) for item in extracted]
        self.tags.set(tags)
