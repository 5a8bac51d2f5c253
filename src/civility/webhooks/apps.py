"""Outgoing webhooks: the outbox is fed by every recorded audit row."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "civility.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from civility.moderation.audit import audit_recorded
        from civility.webhooks import outbox
        from civility.webhooks.models import WebhookEndpoint

        audit_recorded.connect(outbox.store_events, dispatch_uid="civility.webhooks.outbox")
        # Any change to an endpoint (the services, a shell) may change who subscribes to what.
        post_save.connect(
            outbox.forget_subscriptions,
            sender=WebhookEndpoint,
            dispatch_uid="civility.webhooks.endpoint_saved",
        )
        post_delete.connect(
            outbox.forget_subscriptions,
            sender=WebhookEndpoint,
            dispatch_uid="civility.webhooks.endpoint_deleted",
        )
