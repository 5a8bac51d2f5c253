"""Turn publishing events of other apps into notifications, without those apps calling us.

* A reply becomes published (by the engine or a moderator): its parent's author is told,
  unless they ignore the replier.
* A comment becomes an editors' pick (a moderator features it): its author is told (push,
  and e-mail if they opted in).
* A moderator removes a published or held comment (the audit log's ``comment.rejected``), or
  the engine removes one after the author posted it (a worker's ``comment.engine_decision``,
  not one made while the author waited): its author is e-mailed the rule and the link to ask
  for a review, unless they turned it off.
* An article is marked breaking (a boolean ``breaking`` or ``is_breaking`` field turns on):
  every subscribed browser is told.

Each instance remembers the value it was loaded with (post_init), so only a transition
notifies; a cache key makes sure a given reply or article notifies once.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_init, post_save

NOTIFIED_TTL_SECONDS = 30 * 24 * 3600
BREAKING_FIELDS = ("breaking", "is_breaking")


def _remember_comment_status(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._civility_loaded_status = instance.__dict__.get("status")


def _reply_published(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    from civility.discussion.models import CommentStatus

    if instance.status != CommentStatus.PUBLISHED or not instance.parent_id:
        return
    loaded = getattr(instance, "_civility_loaded_status", None)
    # Not created here and loaded without its status (deferred), or already published: no news.
    if not created and loaded in (None, CommentStatus.PUBLISHED):
        return
    instance._civility_loaded_status = instance.status
    parent = type(instance).objects.select_related("author").filter(pk=instance.parent_id).first()
    if parent is None or parent.author_id == instance.author_id:
        return
    ignored = apps.get_model("discussion", "IgnoredAuthor")
    if ignored.objects.filter(user_id=parent.author_id, ignored_id=instance.author_id).exists():
        return  # the parent's author chose not to read this replier
    if not cache.add(f"civility:notified:reply:{instance.pk}", 1, timeout=NOTIFIED_TTL_SECONDS):
        return
    from civility.notifications.services import notify_reply

    notify_reply(
        recipient=parent.author,
        replier_name=str(instance.author.public_name()),
        article_title=str(instance.thread.display_title),
        url=f"{settings.SITE_URL}{instance.get_absolute_url()}",
        excerpt=instance.text[:200],
    )


def _comment_featured(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A save that writes ``featured_at`` (moderation.services.set_featured) and sets it."""
    update_fields = kwargs.get("update_fields") or ()
    if "featured_at" not in update_fields or instance.featured_at is None:
        return
    key = f"civility:notified:featured:{instance.pk}"
    if not cache.add(key, 1, timeout=NOTIFIED_TTL_SECONDS):
        return  # picked before: taken back and picked again tells nobody twice
    from civility.notifications.services import notify_featured

    notify_featured(
        recipient=instance.author,
        article_title=str(instance.thread.display_title),
        url=f"{settings.SITE_URL}{instance.get_absolute_url()}",
        excerpt=instance.text[:200],
    )


def _unseen_removal_by(row: Any) -> str | None:
    """Who made the removal an audit row records, when its author did not see it happen:
    "moderator" for a moderator's removal of a published or held comment, "engine" for a
    worker's (not one made while the author waited on the post); None for any other row,
    including a moderator's that only changes the rule of a removed comment."""
    if not str(row.target_id).isdigit():
        return None
    if row.action == "comment.rejected":
        return "moderator" if (row.before or {}).get("status") != "rejected" else None
    data = row.data if isinstance(row.data, dict) else {}
    if (
        row.action == "comment.engine_decision"
        and data.get("decision") == "reject"
        and data.get("at_posting") is False
    ):
        return "engine"
    return None


def _comments_removed(sender: Any, rows: list[Any], **kwargs: Any) -> None:
    """Removals that took a comment out of public view or the queue, by a moderator or by the
    engine's worker, each e-mailed to the comment's author once."""
    removed_by = {int(row.target_id): by for row in rows if (by := _unseen_removal_by(row))}
    if not removed_by:
        return
    from django.urls import reverse

    from civility.notifications.services import batched_mail, notify_removal, wanting_removal_emails
    from civility.standards.rules import rule_label_or

    comment_model = apps.get_model("discussion", "Comment")
    removed = list(
        comment_model.objects.filter(pk__in=list(removed_by)).select_related(
            "author", "thread", "thread__article"
        )
    )
    wanting = wanting_removal_emails(c.author_id for c in removed)
    with batched_mail():
        for comment in removed:
            notify_removal(
                recipient=comment.author,
                article_title=str(comment.thread.display_title),
                rule_label=rule_label_or(comment.rule, ""),
                review_url=settings.SITE_URL
                + reverse("discussion:request_review", args=[comment.pk]),
                excerpt=comment.text[:200],
                by_engine=removed_by[comment.pk] == "engine",
                wants_email=comment.author_id in wanting,
            )


def _breaking_field(model: Any) -> str | None:
    names = {field.name for field in model._meta.get_fields()}
    return next((name for name in BREAKING_FIELDS if name in names), None)


def _remember_breaking(sender: Any, instance: Any, **kwargs: Any) -> None:
    field = _breaking_field(sender)
    if field:
        instance._civility_loaded_breaking = bool(instance.__dict__.get(field))


def _article_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    field = _breaking_field(sender)
    if not field or not getattr(instance, field):
        return
    if getattr(instance, "_civility_loaded_breaking", False) and not created:
        return
    instance._civility_loaded_breaking = True
    if not cache.add(f"civility:notified:breaking:{instance.pk}", 1, timeout=NOTIFIED_TTL_SECONDS):
        return
    from civility.notifications.services import notify_breaking_news

    notify_breaking_news(
        title=str(instance),
        url=f"{settings.SITE_URL}{instance.get_absolute_url()}",
        summary=str(getattr(instance, "lead", "") or ""),
    )


def connect() -> None:
    if apps.is_installed("civility.discussion"):
        comment = apps.get_model("discussion", "Comment")
        post_init.connect(
            _remember_comment_status, sender=comment, dispatch_uid="civility-notify-reply-init"
        )
        post_save.connect(_reply_published, sender=comment, dispatch_uid="civility-notify-reply")
        post_save.connect(
            _comment_featured, sender=comment, dispatch_uid="civility-notify-featured"
        )
    if apps.is_installed("civility.moderation") and apps.is_installed("civility.discussion"):
        from civility.moderation.audit import audit_recorded

        audit_recorded.connect(_comments_removed, dispatch_uid="civility-notify-removed")
    if apps.is_installed("civility.news"):
        article = apps.get_model("news", "Article")
        if _breaking_field(article):
            post_init.connect(
                _remember_breaking, sender=article, dispatch_uid="civility-notify-breaking-init"
            )
            post_save.connect(
                _article_saved, sender=article, dispatch_uid="civility-notify-breaking"
            )
