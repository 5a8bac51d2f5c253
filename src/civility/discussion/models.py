"""Models of the discussion app: threads, comments, their edit history, reports, API tokens.

A :class:`Thread` is what comments hang on: either a news article of this site, or a page of
another site that embeds the discussion (keyed by its canonical URL). Per-thread switches
(comments closed, pre-moderation) live here so the news app stays unaware of moderation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civility.sites.models import default_site_pk


class Thread(models.Model):
    # The article's site, or for an embedding page the site whose embed created it.
    site = models.ForeignKey(
        "civility_sites.Site",
        on_delete=models.PROTECT,
        default=default_site_pk,
        related_name="threads",
    )
    article = models.OneToOneField(
        "news.Article",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="discussion_thread",
    )
    canonical_url = models.URLField(max_length=500, null=True, blank=True, unique=True)
    title = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed = models.BooleanField(_("comments closed"), default=False)
    premoderated = models.BooleanField(_("pre-moderated"), default=False)
    # The newsroom's word to this discussion's readers, shown above it ("Keep to the facts of
    # the case: the trial is ongoing."), like Coral's message box.
    notice = models.CharField(_("notice to readers"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(article__isnull=False) | Q(canonical_url__isnull=False),
                name="thread_has_article_or_url",
            )
        ]

    def __str__(self) -> str:
        return self.display_title

    def get_absolute_url(self) -> str:
        if self.article is not None:
            return f"{self.article.get_absolute_url()}#comments"
        return str(self.canonical_url or "")

    @property
    def display_title(self) -> str:
        if self.article is not None:
            return str(self.article.headline)
        return self.title or str(self.canonical_url or "")

    @property
    def key(self) -> str:
        """A stable id for the engine (per-article caches) and the embed."""
        from civility.discussion.context import thread_key

        return thread_key(
            self.article.slug if self.article is not None else None, self.canonical_url
        )


class CommentStatus(models.TextChoices):
    PENDING = "pending", _("held for review")
    PUBLISHED = "published", _("published")
    REJECTED = "rejected", _("removed")
    DELETED = "deleted", _("deleted by its author")


class HoldReason(models.TextChoices):
    AWAITING_ENGINE = "", _("awaiting the engine")
    ENGINE = "engine", _("held by the engine")
    PREMODERATION = "premoderation", _("pre-moderation")
    EDITED = "edited", _("edited, awaiting the engine")


class Comment(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="comments")
    # Always the thread's site (set on save), kept here so that the moderation queues of one
    # site read one index instead of joining threads and articles over a million comments.
    site = models.ForeignKey(
        "civility_sites.Site",
        on_delete=models.PROTECT,
        default=default_site_pk,
        related_name="+",
        db_index=False,  # the composite indexes below start with it
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    text = models.TextField()
    depth = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=CommentStatus.choices, default=CommentStatus.PENDING, db_index=True
    )
    hold_reason = models.CharField(max_length=16, choices=HoldReason.choices, blank=True)
    # The rule a rejection names (engine's strongest rule or the moderator's choice).
    rule = models.CharField(max_length=32, blank=True)
    # The engine's last verdict (Verdict.to_dict()), kept so moderators see scores and evidence.
    verdict = models.JSONField(default=dict, blank=True)
    # The engine's fired rules as ",slug,slug," so queues filter by rule on every database.
    fired_rules = models.CharField(max_length=400, blank=True)
    engine_version = models.CharField(max_length=64, blank=True)
    policy_version = models.CharField(max_length=64, blank=True)
    engine_checked_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=16, blank=True, help_text=_("'engine' or 'moderator'"))
    decided_at = models.DateTimeField(null=True, blank=True)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Idempotency key chosen by the client: the same token never creates a second comment.
    client_token = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # The author's account was deleted: out of public view, status kept for a restore.
    author_hidden = models.BooleanField(default=False)
    # The text was erased for good (account purge): the comment stays as a tombstone.
    purged = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # An editors' pick: set by a moderator (moderation.services.set_featured), shown above the
    # thread while the comment stays public.
    featured_at = models.DateTimeField(_("featured at"), null=True, blank=True)
    featured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Readers who recommend it (Recommendation rows), counted here so that a page shows and
    # sorts by the figure without counting.
    recommendations = models.PositiveIntegerField(_("recommendations"), default=0)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_token"],
                condition=~Q(client_token=""),
                name="comment_client_token_unique_per_author",
            )
        ]
        indexes = [
            models.Index(fields=["thread", "status", "created_at"]),
            models.Index(fields=["author", "created_at"]),
            models.Index(fields=["status", "decided_at"]),
            # The moderation queues of one site, in the order moderators work through them.
            # On PostgreSQL these three also carry the rule columns (INCLUDE, migration 0005):
            # a page's ids, filtered by rule or not, come from the index alone.
            models.Index(fields=["site", "status", "created_at", "id"], name="comment_site_queue"),
            models.Index(
                fields=["site", "status", "decided_at", "id"], name="comment_site_decided"
            ),
            models.Index(fields=["site", "created_at", "id"], name="comment_site_created"),
            # A thread page's top-level comments in order, without walking the replies.
            models.Index(
                fields=["thread", "status", "created_at", "id"],
                condition=Q(parent__isnull=True),
                name="comment_thread_top",
            ),
            # A thread's replies with what "most replies" needs to count them (parent, author,
            # status, flags): the count is an index-only scan of the replies alone, without
            # the thread's top-level comments or the rows' text. Key columns, not INCLUDE:
            # the same index on SQLite.
            models.Index(
                fields=["thread", "parent", "id", "author", "status", "author_hidden", "purged"],
                condition=Q(parent__isnull=False),
                name="comment_thread_replies",
            ),
            # Editors' picks, newest first: a thread's (above it) and a site's (the moderators'
            # Featured queue), each without reading any other comment.
            models.Index(
                fields=["thread", "-featured_at"],
                condition=Q(featured_at__isnull=False),
                name="comment_thread_featured",
            ),
            models.Index(
                fields=["site", "-featured_at", "-id"],
                condition=Q(featured_at__isnull=False),
                name="comment_site_featured",
            ),
            # A thread page's top-level comments, most recommended first.
            models.Index(
                fields=["thread", "status", "-recommendations", "created_at", "id"],
                condition=Q(parent__isnull=True),
                name="comment_thread_recommended",
            ),
        ]

    # The status the row held when this instance was read or last saved (ops.readcache).
    status_as_saved: str | None = None

    def __str__(self) -> str:
        return f"comment {self.pk} by {self.author_id} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and self.thread_id is not None:
            self.site_id = self.thread.site_id
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("discussion:comment", args=[self.pk])

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Any, values: Any, *, fetch_mode: Any = None
    ) -> Comment:
        comment = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        # The status the row holds, for ops.readcache: a save that keeps a comment pending
        # changes nothing an anonymous reader sees (None: status deferred, unknown).
        comment.status_as_saved = comment.__dict__.get("status")
        return comment

    @property
    def is_tombstone(self) -> bool:
        return self.status == CommentStatus.DELETED or self.purged or self.author_hidden

    @property
    def evidence(self) -> list[dict[str, Any]]:
        return list(self.verdict.get("evidence", [])) if self.verdict else []


class Recommendation(models.Model):
    """A reader recommends a comment (one recommendation per reader and comment)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recommendations"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "user"], name="recommendation_once_per_reader"
            )
        ]
        # The reader's recommendations on a page, and in their data export.
        indexes = [models.Index(fields=["user", "comment"], name="recommendation_user")]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")

    def __str__(self) -> str:
        return f"recommendation of comment {self.comment_id} by {self.user_id}"


class IgnoredAuthor(models.Model):
    """A reader's choice not to read another reader's comments: on the reader's pages each
    shows as a one-line notice (the replies below it stay), and that author's replies to the
    reader notify nobody. Nobody else sees the choice, the ignored author included."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ignored_authors"
    )
    ignored = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "ignored"], name="ignored_author_once"),
            models.CheckConstraint(
                condition=~models.Q(user=models.F("ignored")), name="ignored_author_not_self"
            ),
        ]
        ordering = ["-created_at", "-id"]
        verbose_name = _("ignored commenter")
        verbose_name_plural = _("ignored commenters")

    def __str__(self) -> str:
        return f"user {self.user_id} ignores user {self.ignored_id}"


class CommentRevision(models.Model):
    """One edit of a comment, by its author or a moderator; kept to show the history as a diff."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_moderator = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True)
    text_before = models.TextField()
    text_after = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"revision of comment {self.comment_id} at {self.created_at:%Y-%m-%d %H:%M}"


class Report(models.Model):
    """A reader's flag on a comment, naming the rule it breaks."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_reports"
    )
    rule = models.CharField(max_length=32)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "reporter"], name="one_report_per_reader")
        ]
        # The Reported queue reads only open reports.
        indexes = [
            models.Index(
                fields=["comment"], condition=Q(resolved_at__isnull=True), name="report_open"
            )
        ]

    def __str__(self) -> str:
        return f"report on comment {self.comment_id}: {self.rule}"


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; revoking sets revoked_at."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.prefix}… of user {self.user_id}"


class ReplyInbox(models.Model):
    """Where a reader stopped reading the replies to their comments (My replies): the header
    counts the replies published since."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reply_inbox"
    )
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"replies of user {self.user_id} read until {self.seen_at}"
