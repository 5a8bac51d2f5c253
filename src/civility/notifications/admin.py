from __future__ import annotations

from django.contrib import admin

from civility.notifications.models import NotificationSettings, PushSubscription


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("pk", "user", "created_at", "last_sent_at", "failures")
    readonly_fields = (
        "user",
        "endpoint",
        "p256dh",
        "auth",
        "user_agent",
        "created_at",
        "last_sent_at",
        "failures",
    )


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "push_replies",
        "push_featured",
        "push_breaking",
        "email_replies",
        "email_featured",
    )
