"""Sites appear only here, in the admin: with one site the product looks as before."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civility.sites.models import ModeratorGrant, Site


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "domain",
        "path_prefix",
        "language",
        "majority_languages",
        "timezone",
        "close_comments_after_days",
        "review_first_comments",
        "premoderate_links",
        "is_default",
    ]
    search_fields = ["name", "domain", "path_prefix"]


@admin.register(ModeratorGrant)
class ModeratorGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "site", "created_at", "granted_by"]
    list_filter = ["site"]
    search_fields = ["user__email", "user__display_name"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "granted_by"]

    def save_model(
        self, request: HttpRequest, obj: ModeratorGrant, form: Any, change: bool
    ) -> None:
        if not change:
            obj.granted_by_id = request.user.pk
        super().save_model(request, obj, form, change)
