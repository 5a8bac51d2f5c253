"""Webhook endpoints and deliveries in the admin. Every change goes through services.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from civility.webhooks import services
from civility.webhooks.addresses import RefusedAddress, check_url
from civility.webhooks.events import EVENT_CHOICES
from civility.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("The events this endpoint receives (see docs/webhooks.md)."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "payload_format", "events", "site", "active"]

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            check_url(url)
        except RefusedAddress as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = [
        "url",
        "payload_format",
        "site",
        "active",
        "event_list",
        "consecutive_failures",
        "created_at",
    ]
    list_filter = ["active", "site"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret", "consecutive_failures", "disabled_reason", "created_at"]
    actions = ["send_test_event", "enable", "rotate_secret"]

    @admin.display(description=_("events"))
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events or [])

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        services.save_endpoint(obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.delete_endpoint(obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.delete_endpoint(endpoint, by=request.user)

    @admin.action(description=_("Send a test event"), permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.send_test_event(endpoint, by=request.user)
        self.message_user(
            request,
            _("Test event sent; its outcome is in the webhook deliveries."),
            messages.SUCCESS,
        )

    @admin.action(description=_("Re-enable"), permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        enabled = sum(services.enable_endpoint(e, by=request.user) for e in queryset)
        self.message_user(
            request,
            ngettext("%(count)d endpoint enabled.", "%(count)d endpoints enabled.", enabled)
            % {"count": enabled},
            messages.SUCCESS,
        )

    @admin.action(description=_("Give a new signing secret"), permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.rotate_secret(endpoint, by=request.user)
        self.message_user(
            request,
            _("New secrets set: give them to the receivers, which refuse the old signatures."),
            messages.WARNING,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only: deliveries are written by the outbox and the sender."""

    list_display = [
        "created_at",
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "event", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["=id"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    readonly_fields = [
        "id",
        "endpoint",
        "event",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("webhooks.change_webhookendpoint"))

    @admin.action(description=_("Send again"), permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = services.send_again(
            queryset.exclude(status=DeliveryStatus.SENDING), by=request.user
        )
        self.message_user(
            request,
            ngettext("%(count)d delivery queued.", "%(count)d deliveries queued.", count)
            % {"count": count},
            messages.SUCCESS,
        )
