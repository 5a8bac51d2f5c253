"""An Atom feed of each article's latest public comments (Isso and Remark42 offer one too):
readers follow a discussion in their feed reader, without an account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext

from civility.discussion import selectors
from civility.discussion.models import Comment
from civility.discussion.rendering import render_comment_html

FEED_SIZE = 50


class ArticleCommentsFeed(Feed):  # type: ignore[type-arg]  # generic only in django-stubs
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str) -> Any:
        return selectors.get_published_article_or_404(slug)

    def title(self, article: Any) -> str:
        return gettext("Comments on “%(headline)s”") % {"headline": article.headline}

    def link(self, article: Any) -> str:
        return f"{article.get_absolute_url()}#comments"

    def subtitle(self, article: Any) -> str:
        return gettext("The latest published comments, newest first.")

    def items(self, article: Any) -> list[Comment]:
        return list(
            selectors.public_comments()
            .filter(thread__article=article)
            .select_related("author")
            .defer("verdict")
            .order_by("-created_at", "-id")[:FEED_SIZE]
        )

    def item_title(self, item: Comment) -> str:
        return gettext("%(name)s wrote") % {"name": item.author.public_name()}

    def item_description(self, item: Comment) -> str:
        return str(render_comment_html(item.text))

    def item_link(self, item: Comment) -> str:
        return item.get_absolute_url()

    def item_author_name(self, item: Comment) -> str:
        return str(item.author.public_name())

    def item_pubdate(self, item: Comment) -> datetime:
        return item.created_at

    def item_updateddate(self, item: Comment) -> datetime:
        return item.edited_at or item.created_at
