"""Accounts: Civility's user model, consents and privacy-policy versions.

The e-mail address is the sign-in name; ``display_name`` is what readers see next to a comment.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    # When the reader last changed it themselves (at most once per
    # CIVILITY_DISPLAY_NAME_CHANGE_DAYS, so that a name cannot be shed after every removal).
    display_name_changed_at = models.DateTimeField(null=True, blank=True)
    # Deletion is a state, not a row removal: the account can be restored for 30 days.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, db_index=True)
    deleted_by_label = models.CharField(
        _("deleted by"),
        max_length=120,
        blank=True,
        help_text=_("'self', 'consent' or the moderator"),
    )
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True)
    last_login_ip = models.GenericIPAddressField(_("last sign-in IP"), null=True, blank=True)
    signup_ip = models.GenericIPAddressField(_("sign-up IP"), null=True, blank=True)
    # The interface language the user last signed in with: mail sent later (by a worker, with
    # no request to read it from) is written in it.
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    staff_badge = models.BooleanField(
        _("newsroom staff badge"),
        default=False,
        help_text=_(
            "Show a “Staff” badge beside this person's name on their comments: the newsroom's "
            "journalists and editors who take part in the discussion."
        ),
    )

    def public_name(self) -> str:
        if self.purged_at:
            return str(_("deleted account"))
        return self.display_name or self.username or _("reader")  # type: ignore[return-value]

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __str__(self) -> str:
        return self.public_name()


class PrivacyPolicyVersionQuerySet(models.QuerySet["PrivacyPolicyVersion"]):
    def published(self) -> PrivacyPolicyVersionQuerySet:
        return self.filter(published_at__isnull=False, published_at__lte=timezone.now())


class PrivacyPolicyVersion(models.Model):
    """One version of the privacy policy in one language.

    Each language has its own version history: the newest published version in the reader's
    language is in force for them, and English stands in where a language has none.
    """

    # A code from settings.LANGUAGES (the admin offers those; no choices here, so adding a
    # language needs no migration).
    language = models.CharField(_("language"), max_length=8, default="en", db_index=True)
    version = models.CharField(_("version"), max_length=32)
    title = models.CharField(_("title"), max_length=200, default="Privacy policy")
    text = models.TextField(_("text"), help_text=_("Plain text; blank lines separate paragraphs."))
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(
        _("published at"),
        null=True,
        blank=True,
        help_text=_("Empty = draft. Publishing asks every signed-in user to consent again."),
    )

    objects = PrivacyPolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("privacy policy version")
        constraints = [
            models.UniqueConstraint(
                fields=["language", "version"], name="accounts_privacy_language_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version} ({self.language})"

    def paragraphs(self) -> list[str]:
        return [block.strip() for block in self.text.split("\n\n") if block.strip()]


class Consent(models.Model):
    """What a user agreed to (or refused), which version, and when. Never updated."""

    class Kind(models.TextChoices):
        STANDARDS = "standards", _("community standards")
        PRIVACY = "privacy", _("privacy policy")

    class Choice(models.TextChoices):
        AGREED = "agreed", _("agreed")
        REFUSED = "refused", _("refused")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.CharField(max_length=64)
    # The language of the text the user saw: with ``version``, names that exact text.
    language = models.CharField(max_length=8, default="en")
    choice = models.CharField(max_length=16, choices=Choice.choices, default=Choice.AGREED)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A restore brings back consents that a deletion withdrew.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} v{self.version} ({self.language}) {self.choice}"
