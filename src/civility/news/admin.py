"""Editors manage articles and tags here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from civility.news.models import Article, Tag
from civility.sites.current import is_single_site


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(article_total=Count("articles"))

    @admin.display(description=_("articles"), ordering="article_total")
    def article_count(self, tag: Tag) -> int:
        return tag.article_total  # type: ignore[attr-defined]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "headline",
        "published_at",
        "dateline",
        "breaking",
        "recommended",
        "short_link",
        "share_count",
    ]
    list_filter = ["published_at", "breaking", "recommended", "tags"]
    list_editable = ["recommended"]
    search_fields = ["headline", "lead", "body_text", "slug", "short_code", "source_id"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["headline"]}
    filter_horizontal = ["tags"]
    readonly_fields = ["short_code", "source_id", "updated_at", "share_count"]
    fieldsets = [
        (
            None,
            {"fields": ["headline", "slug", "dateline", "published_at", "lead", "body", "tags"]},
        ),
        (_("Photo"), {"fields": ["image", "image_alt", "image_credit"]}),
        (_("Promotion"), {"fields": ["recommended"]}),
        (
            _("Links and counts"),
            {"fields": ["short_code", "source_id", "share_count", "updated_at"]},
        ),
    ]

    # With one site the admin stays as it was; with several, each article names its site.
    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if is_single_site():
            return fieldsets
        (title, options), *rest = fieldsets
        return [(title, {**options, "fields": ["site", *options["fields"]]}), *rest]

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if is_single_site() else [*shown, "site"]

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        return filters if is_single_site() else ["site", *filters]

    @admin.display(description=_("short link"), ordering="short_code")
    def short_link(self, article: Article) -> str:
        return format_html('<a href="{}">{}</a>', article.get_short_url(), article.get_short_url())
