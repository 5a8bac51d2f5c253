"""Models of the moderation app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civility.sites.models import default_site_pk


class AuditLog(models.Model):
    """One row per state change, by the engine or a human (design.md). Never updated."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The site the change happened on; empty for account-wide changes (accounts are shared).
    site = models.ForeignKey(
        "civility_sites.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # audit_site_created starts with it
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=120, blank=True, help_text=_("'engine', 'system' or the user")
    )
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, db_index=True)
    target_id = models.CharField(max_length=64, db_index=True)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("the user the change is about, for the per-user audit view"),
    )
    rule = models.CharField(max_length=32, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    engine_version = models.CharField(max_length=64, blank=True)
    policy_version = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "created_at"]),
            models.Index(fields=["site", "created_at"], name="audit_site_created"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"


class PolicyVersion(models.Model):
    """One saved version of a site's policy. The site's active one feeds its engine.

    ``policy`` holds ``Policy.to_dict()``; ``digest`` is ``Policy.version`` (a content hash), so
    the verdicts and the audit log can name the policy that decided.
    """

    site = models.ForeignKey(
        "civility_sites.Site",
        on_delete=models.PROTECT,
        default=default_site_pk,
        related_name="policy_versions",
    )
    policy = models.JSONField()
    digest = models.CharField(max_length=64, db_index=True)
    # Hold every comment for a moderator, whatever the engine says.
    premoderate_all = models.BooleanField(_("pre-moderate every comment"), default=False)
    note = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site"],
                condition=models.Q(is_active=True),
                name="one_active_policy_per_site",
            )
        ]

    def __str__(self) -> str:
        return f"policy #{self.pk} ({self.digest})"


class Standing(models.Model):
    """A user's standing with the moderators: block state and pre-moderation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="standing"
    )
    blocked = models.BooleanField(default=False)
    # Set by a moderator, or automatically when the recent rejection rate is high.
    premoderated = models.BooleanField(default=False)
    premoderated_automatically = models.BooleanField(default=False)
    # A suspension: no posting until then; it ends by itself and is not a block (it does not
    # count towards the final second block, and there is nothing to appeal).
    suspended_until = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"standing of user {self.user_id}"


class Strike(models.Model):
    """One entry of a user's strike ledger: a comment removed for breaking a rule."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="strikes"
    )
    comment = models.ForeignKey(
        "discussion.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.CharField(max_length=32, blank=True)
    issued_by = models.CharField(max_length=16, help_text=_("'engine' or 'moderator'"))
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"strike on user {self.user_id}: {self.rule}"


class Block(models.Model):
    """A block of a user's access to posting. The second block is final."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks"
    )
    reason = models.CharField(max_length=500, blank=True)
    final = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"block of user {self.user_id} ({'final' if self.final else 'first'})"


class AppealStatus(models.TextChoices):
    OPEN = "open", _("open")
    RESTORED = "restored", _("access restored")
    REFUSED = "refused", _("refused")


class Appeal(models.Model):
    """An unlock request: "restoration of account / unlock access"."""

    SUBJECT = "restoration of account / unlock access"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appeals",
    )
    claimed_user_id = models.CharField(max_length=64)
    email = models.EmailField(blank=True)
    explanation = models.TextField()
    block = models.ForeignKey(
        Block, null=True, blank=True, on_delete=models.SET_NULL, related_name="appeals"
    )
    status = models.CharField(
        max_length=16, choices=AppealStatus.choices, default=AppealStatus.OPEN, db_index=True
    )
    response = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"unlock request {self.pk} ({self.status})"


class ModeratorNote(models.Model):
    """A moderator's note about a user, for the other moderators (never shown to readers;
    included in the user's own data export, erased when the account is purged)."""

    MAX_LENGTH = 2000

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderator_notes"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note {self.pk} on user {self.user_id}"


class EmailDomainAction(models.TextChoices):
    REFUSE_SIGNUP = "refuse_signup", _("Refuse new accounts")
    PREMODERATE = "premoderate", _("Pre-moderate new accounts")


class EmailDomainRule(models.Model):
    """What happens to new accounts whose e-mail address is at ``domain`` or one of its
    subdomains (disposable-address services, a troll farm's domain). Accounts that exist
    already are left as they are: the moderators deal with those one by one."""

    domain = models.CharField(_("domain"), max_length=253, unique=True)
    action = models.CharField(_("action"), max_length=16, choices=EmailDomainAction.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return f"{self.domain}: {self.action}"


class ContactMessage(models.Model):
    """A message to the moderators from the contact form."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"message {self.pk}: {self.subject}"


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("open")
    REINSTATED = "reinstated", _("comment reinstated")
    UPHELD = "upheld", _("removal upheld")
    WITHDRAWN = "withdrawn", _("withdrawn")


class ReviewRequest(models.Model):
    """A reader's request that a moderator look again at the removal of their comment: the
    complaint against a moderation decision that the EU's Digital Services Act (art. 20) has
    platforms offer. One per comment: a removal is reviewed once, by a person."""

    comment = models.OneToOneField(
        "discussion.Comment", on_delete=models.CASCADE, related_name="review_request"
    )
    # The comment's site, so that each site's moderators read their own requests on one index.
    site = models.ForeignKey(
        "civility_sites.Site", on_delete=models.CASCADE, default=default_site_pk, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_requests"
    )
    explanation = models.TextField()
    # The removal under review, as it stood when the reader asked.
    rule = models.CharField(max_length=32, blank=True)
    removed_by = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    response = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["site", "status", "created_at", "id"], name="review_site_status"),
        ]

    def __str__(self) -> str:
        return f"review request {self.pk} ({self.status})"
