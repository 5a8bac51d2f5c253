"""Webhook endpoints (configured in the admin) and their deliveries (the outbox)."""

from __future__ import annotations

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civility.webhooks.events import EVENTS


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(32)


def validate_events(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValidationError(_("Events must be a list of event names."))
    unknown = sorted(set(value) - set(EVENTS))
    if unknown:
        raise ValidationError(
            _("Unknown events: %(events)s."), params={"events": ", ".join(unknown)}
        )


class PayloadFormat(models.TextChoices):
    CIVILITY = "civility", _("Civility JSON (signed)")
    SLACK = "slack", _("Slack message")


class WebhookEndpoint(models.Model):
    """A receiver of signed event POSTs. Change it through civility.webhooks.services."""

    url = models.URLField(
        _("URL"),
        max_length=500,
        help_text=_("Where the events are POSTed, e.g. https://hooks.example.org/civility."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        validators=[validate_events],
        help_text=_("The events this endpoint receives (see docs/webhooks.md)."),
    )
    site = models.ForeignKey(
        "civility_sites.Site",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("site"),
        help_text=_("Only this site's events; blank: every site's, and account-wide ones."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=80,
        default=new_secret,
        editable=False,
        help_text=_("The receiver checks the Civility-Signature header with it."),
    )
    payload_format = models.CharField(
        _("format"),
        max_length=16,
        choices=PayloadFormat.choices,
        default=PayloadFormat.CIVILITY,
        help_text=_(
            "Civility's signed JSON for your own receiver, or a one-line message for a Slack "
            "(or Mattermost, or Rocket.Chat) incoming webhook."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(
        _("consecutive failures"),
        default=0,
        editable=False,
        help_text=_("Deliveries given up in a row; a successful one resets it."),
    )
    disabled_reason = models.CharField(
        _("why it was deactivated"), max_length=200, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENDING = "sending", _("sending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("given up")


# A delivery in one of these states will be sent when its next_attempt_at has passed.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class WebhookDelivery(models.Model):
    """One event for one endpoint, stored in the transaction of the change that caused it.

    A worker claims it by moving ``next_attempt_at`` to the end of its claim (``claimed_until``):
    "due" is then one condition for both a pending delivery and one whose worker died while
    sending, and one partial index serves it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
        # The outbox writes inside other apps' transactions, from a cached list of endpoints:
        # an endpoint deleted meanwhile must not make a moderator's decision fail at commit.
        # The sender drops deliveries whose endpoint is gone.
        db_constraint=False,
    )
    event = models.CharField(_("event"), max_length=64)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # Due deliveries (retry_due): only open ones are indexed, so the index stays as
            # small as the backlog however many delivered rows the table keeps.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="webhook_delivery_due",
            ),
            # The purge of finished deliveries, and the admin's newest-first list.
            models.Index(fields=["created_at"], name="webhook_delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
