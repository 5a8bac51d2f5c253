"""Models of the notifications app: web-push subscriptions and per-user preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PushSubscription(models.Model):
    """One browser that accepted push notifications (the PushSubscription the browser gave)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        help_text=_("empty for a signed-out browser: it gets breaking news only"),
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"push subscription {self.pk} of user {self.user_id}"

    def as_subscription_info(self) -> dict[str, object]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class NotificationSettings(models.Model):
    """What a user wants to hear about. Reply e-mails are opt-in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    push_replies = models.BooleanField(_("push: replies to my comments"), default=True)
    push_breaking = models.BooleanField(_("push: breaking news"), default=True)
    push_featured = models.BooleanField(
        _("push: my comment chosen as an editors' pick"), default=True
    )
    email_replies = models.BooleanField(_("e-mail: replies to my comments"), default=False)
    email_featured = models.BooleanField(
        _("e-mail: my comment chosen as an editors' pick"), default=False
    )
    # The statement of reasons for a removal, with the way to contest it: on unless the
    # reader turns it off. A moderator's removal, or the engine's when it decided after the
    # post (a worker); the engine's inline removals are shown as the reader posts.
    email_removals = models.BooleanField(
        _("e-mail: my comment was removed (with the reason)"), default=True
    )
    # Offered to moderators only (the settings form hides it from everyone else).
    email_moderation_digest = models.BooleanField(
        _("e-mail: a daily digest of the moderation queues (moderators)"), default=False
    )

    def __str__(self) -> str:
        return f"notification settings of user {self.user_id}"


class DigestDelivery(models.Model):
    """One digest e-mailed to one user for one day: a second beat, or a rerun of the job,
    finds the row and sends nothing."""

    MODERATION = "moderation"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "day"], name="one_digest_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.kind} digest of {self.day} to user {self.user_id}"
