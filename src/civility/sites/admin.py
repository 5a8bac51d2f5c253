"""Sites appear only here, in the admin: with one site the product looks as before."""

from __future__ import annotations

from django.contrib import admin

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
        "is_default",
    ]
    search_fields = ["name", "domain", "path_prefix"]


@admin.register(ModeratorGrant)
class ModeratorGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "site", "created_at", "granted_by"]
    list_filter = ["site"]
    search_fields = ["user__email", "user__display_name"]
    raw_id_fields = ["user", "granted_by"]
    readonly_fields = ["created_at"]
