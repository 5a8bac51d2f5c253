"""State changes made by moderators (and the automatic sanctions). One transaction and one
audit row each; e-mail goes out on commit."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civility.discussion.errors import DiscussionError, InvalidComment
from civility.discussion.models import Comment, CommentRevision, CommentStatus, HoldReason, Thread
from civility.moderation.audit import record
from civility.moderation.models import (
    Appeal,
    AppealStatus,
    Block,
    ContactMessage,
    EmailDomainAction,
    EmailDomainRule,
    ModeratorNote,
    PolicyVersion,
    ReviewRequest,
    ReviewStatus,
    Standing,
    Strike,
)
from civility.moderation.selectors import (
    email_domain_of,
    email_domain_rule_for,
    recent_rejection,
    review_window_open,
    unlock_refusal_reason,
)
from civility.ops.readcache import note_thread_changed
from civility.standards.policy import Policy
from civility.standards.rules import RULES_BY_SLUG, rule_label_or

if TYPE_CHECKING:
    from civility.sites.models import Site

logger = logging.getLogger(__name__)

MODERATOR = "moderator"


class ModerationError(DiscussionError):
    """A moderator action that cannot be done (unknown rule, empty reason...)."""


# --- Strikes and automatic pre-moderation -----------------------------------------------------


def add_strike(comment: Comment, *, rule: str, issued_by: str, moderator: Any = None) -> Strike:
    """Add to the author's strike ledger (caller holds the transaction)."""
    strike = Strike.objects.create(
        user_id=comment.author_id,
        comment=comment,
        rule=rule,
        issued_by=issued_by,
        moderator=moderator,
    )
    return strike


def _standing(user: Any) -> Standing:
    standing, _created = Standing.objects.select_for_update().get_or_create(user=user)
    return standing


def refresh_auto_premoderation(user: Any) -> None:
    """Put an author on pre-moderation when their recent rejection rate is high (caller holds
    the transaction). Only lifts what it set itself; a moderator's choice stays."""
    rejected, decided = recent_rejection(user.pk)
    high = (
        decided >= settings.CIVILITY_PREMOD_MIN_COMMENTS
        and rejected / decided >= settings.CIVILITY_PREMOD_REJECTION_RATE
    )
    standing = Standing.objects.filter(user=user).first()
    rates = {"rejected": rejected, "decided": decided, "automatic": True}
    if high and not (standing and standing.premoderated):
        _write_premoderation(user, on=True, automatically=True, data=rates)
    elif not high and standing and standing.premoderated and standing.premoderated_automatically:
        _write_premoderation(user, on=False, automatically=True, data=rates)


def _write_premoderation(
    user: Any,
    *,
    on: bool,
    automatically: bool = False,
    by: Any = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Set the user's pre-moderation and audit it (``by`` None: the system did); the caller
    holds the transaction. ``automatically``: set by the rejection rate, so lifted by it too."""
    standing = _standing(user)
    before = {"premoderated": standing.premoderated}
    standing.premoderated = on
    standing.premoderated_automatically = automatically and on
    standing.save()
    record(
        "user.premoderation_on" if on else "user.premoderation_off",
        user,
        actor=by,  # None: record() names the actor "system"
        subject_user=user,
        before=before,
        after={"premoderated": on},
        data=data,
    )


def set_premoderation(user: Any, *, on: bool, by: Any) -> None:
    with transaction.atomic():
        _write_premoderation(user, on=on, by=by)


def add_user_note(user: Any, *, moderator: Any, text: str) -> ModeratorNote:
    """Keep a note about ``user`` for the other moderators. The audit row names the note,
    not its words (a purge erases the note; the audit log stays)."""
    text = (text or "").strip()
    if not text:
        raise ModerationError(_("The note is empty."))
    if len(text) > ModeratorNote.MAX_LENGTH:
        raise ModerationError(
            _("A note has at most %(limit)d characters.") % {"limit": ModeratorNote.MAX_LENGTH}
        )
    with transaction.atomic():
        note = ModeratorNote.objects.create(user=user, text=text, created_by=moderator)
        record(
            "user.note_added",
            user,
            actor=moderator,
            subject_user=user,
            data={"note": note.pk, "length": len(text)},
        )
    return note


def delete_user_note(note: ModeratorNote, *, moderator: Any) -> None:
    """Delete a note; its author or a staff member may."""
    if note.created_by_id != moderator.pk and not moderator.is_staff:
        raise ModerationError(_("Only the note's author or a staff member can delete it."))
    with transaction.atomic():
        record(
            "user.note_deleted",
            note.user,
            actor=moderator,
            subject_user=note.user,
            data={"note": note.pk},
        )
        note.delete()


# --- E-mail domain rules ---------------------------------------------------------------------

DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_email_domain(raw: str) -> str:
    """``raw`` as a rule's domain ("@Mail.Example.COM." -> "mail.example.com"), or a
    ModerationError saying what is wrong with it."""
    text = (raw or "").strip().lstrip("@").removeprefix("*.").rstrip(".")
    domain = email_domain_of(f"x@{text}")
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(DOMAIN_LABEL.match(x) for x in labels):
        raise ModerationError(
            _("“%(domain)s” is not an e-mail domain (for example: mailinator.com).")
            % {"domain": raw.strip()[:80]}
        )
    return domain


def set_email_domain_rule(
    domain: str, *, action: str, moderator: Any, note: str = ""
) -> EmailDomainRule:
    """Add the rule for ``domain``, or change what an existing one does."""
    if action not in EmailDomainAction.values:
        raise ModerationError(_("Choose what happens to new accounts at this domain."))
    domain = normalise_email_domain(domain)
    note = (note or "").strip()[:300]
    with transaction.atomic():
        rule = EmailDomainRule.objects.select_for_update().filter(domain=domain).first()
        before = {"action": rule.action, "note": rule.note} if rule else {}
        if rule is None:
            rule = EmailDomainRule.objects.create(
                domain=domain, action=action, note=note, created_by=moderator
            )
        else:
            rule.action, rule.note = action, note
            rule.save(update_fields=["action", "note"])
        record(
            "email_domain.changed" if before else "email_domain.added",
            rule,
            actor=moderator,
            before=before,
            after={"domain": domain, "action": action, "note": note},
        )
    return rule


def remove_email_domain_rule(rule: EmailDomainRule, *, moderator: Any) -> None:
    with transaction.atomic():
        record(
            "email_domain.removed",
            rule,
            actor=moderator,
            before={"domain": rule.domain, "action": rule.action, "note": rule.note},
        )
        rule.delete()


def premoderate_new_account_by_domain(user: Any) -> bool:
    """Hold a new account's comments for review when its address is at a domain the
    moderators pre-moderate. Called once, when the account is created."""
    rule = email_domain_rule_for(user.email)
    if rule is None or rule.action != EmailDomainAction.PREMODERATE:
        return False
    with transaction.atomic():
        _write_premoderation(user, on=True, data={"email_domain": rule.domain})
    return True


# --- Decisions on comments --------------------------------------------------------------------


def _lock(comment: Comment) -> Comment:
    return Comment.objects.select_for_update().select_related("author").get(pk=comment.pk)


def _resolve_reports(comment: Comment) -> int:
    return comment.reports.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())


def approve_comment(comment: Comment, *, moderator: Any, note: str = "") -> Comment:
    """Publish the comment (it was held, rejected, or reported). A strike it caused is revoked."""
    with transaction.atomic():
        comment = _lock(comment)
        if comment.status == CommentStatus.DELETED:
            raise ModerationError(_("The author deleted this comment."))
        before = {"status": comment.status, "rule": comment.rule}
        was_rejected = comment.status == CommentStatus.REJECTED
        comment.status = CommentStatus.PUBLISHED
        comment.hold_reason = HoldReason.AWAITING_ENGINE
        comment.rule = ""
        comment.decided_by = MODERATOR
        comment.decided_at = timezone.now()
        comment.moderator = moderator
        comment.save()
        resolved = _resolve_reports(comment)
        if was_rejected:
            Strike.objects.filter(comment=comment, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
        record(
            "comment.approved",
            comment,
            actor=moderator,
            subject_user=comment.author,
            before=before,
            after={"status": comment.status},
            data={"note": note, "reports_resolved": resolved},
            engine_version=comment.engine_version,
            policy_version=comment.policy_version,
        )
        refresh_auto_premoderation(comment.author)
        if was_rejected:
            # Published from a queue while the author's request waited: that answers it.
            open_review = ReviewRequest.objects.filter(
                comment=comment, status=ReviewStatus.OPEN
            ).first()
            if open_review is not None:
                _close_review(open_review, moderator=moderator, status=ReviewStatus.REINSTATED)
    return comment


def reject_comment(comment: Comment, *, moderator: Any, rule: str, note: str = "") -> Comment:
    """Remove the comment, naming the rule it breaks; the author gets a strike."""
    if rule not in RULES_BY_SLUG:
        raise ModerationError(_("Choose the rule the comment breaks."))
    with transaction.atomic():
        comment = _lock(comment)
        if comment.status == CommentStatus.DELETED:
            raise ModerationError(_("The author deleted this comment."))
        before = {"status": comment.status, "rule": comment.rule}
        already_struck = comment.status == CommentStatus.REJECTED
        comment.status = CommentStatus.REJECTED
        comment.featured_at = None  # a removed comment is no editors' pick, even if restored
        comment.featured_by = None
        comment.hold_reason = HoldReason.AWAITING_ENGINE
        comment.rule = rule
        comment.decided_by = MODERATOR
        comment.decided_at = timezone.now()
        comment.moderator = moderator
        comment.save()
        resolved = _resolve_reports(comment)
        if already_struck:
            Strike.objects.filter(comment=comment, revoked_at__isnull=True).update(rule=rule)
        else:
            add_strike(comment, rule=rule, issued_by=MODERATOR, moderator=moderator)
        record(
            "comment.rejected",
            comment,
            actor=moderator,
            subject_user=comment.author,
            rule=rule,
            before=before,
            after={"status": comment.status, "rule": rule},
            data={"note": note, "reports_resolved": resolved},
            engine_version=comment.engine_version,
            policy_version=comment.policy_version,
        )
        refresh_auto_premoderation(comment.author)
    return comment


def edit_comment_as_moderator(
    comment: Comment, *, moderator: Any, text: str, reason: str
) -> Comment:
    """Change a comment's text. The reason is required; the history keeps both versions."""
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_("Say why the comment is edited."))
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidComment(_("The comment is empty."))
    with transaction.atomic():
        comment = _lock(comment)
        if text == comment.text:
            return comment
        CommentRevision.objects.create(
            comment=comment,
            editor=moderator,
            by_moderator=True,
            reason=reason[:300],
            text_before=comment.text,
            text_after=text,
        )
        before = {"text": comment.text}
        comment.text = text
        comment.edited_at = timezone.now()
        comment.save(update_fields=["text", "edited_at"])
        record(
            "comment.edited_by_moderator",
            comment,
            actor=moderator,
            subject_user=comment.author,
            before=before,
            after={"text": text},
            data={"reason": reason},
        )
    return comment


def set_featured(comment: Comment, *, moderator: Any, featured: bool) -> Comment:
    """Make a published comment an editors' pick (shown above its thread), or take it back.
    Doing what is already done changes nothing and writes no audit row."""
    with transaction.atomic():
        comment = _lock(comment)
        if featured and comment.status != CommentStatus.PUBLISHED:
            raise ModerationError(_("Only a published comment can be featured."))
        if featured == (comment.featured_at is not None):
            return comment
        before = {"featured_at": comment.featured_at.isoformat() if comment.featured_at else None}
        comment.featured_at = timezone.now() if featured else None
        comment.featured_by = moderator if featured else None
        comment.save(update_fields=["featured_at", "featured_by"])
        record(
            "comment.featured" if featured else "comment.unfeatured",
            comment,
            actor=moderator,
            subject_user=comment.author,
            before=before,
            after={"featured_at": comment.featured_at.isoformat() if comment.featured_at else None},
        )
    return comment


def bulk_decide(comments: list[Comment], *, moderator: Any, action: str, rule: str = "") -> int:
    done = 0
    for comment in comments:
        try:
            if action == "approve":
                approve_comment(comment, moderator=moderator)
            elif action == "reject":
                reject_comment(comment, moderator=moderator, rule=rule)
            else:
                raise ModerationError(_("Unknown action %(action)r.") % {"action": action})
        except ModerationError:
            if action not in ("approve", "reject"):
                raise
            continue
        done += 1
    return done


# --- Sanctions ---------------------------------------------------------------------------------


def block_user(user: Any, *, moderator: Any, reason: str = "") -> Block:
    """Block posting at once, without notice. The second block is final."""
    with transaction.atomic():
        standing = _standing(user)
        if standing.blocked:
            current = Block.objects.filter(user=user, lifted_at__isnull=True).first()
            if current is not None:
                return current
        previous = Block.objects.filter(user=user).count()
        block = Block.objects.create(
            user=user, reason=reason[:500], final=previous >= 1, created_by=moderator
        )
        standing.blocked = True
        standing.save()
        # Open unlock requests from before this block are moot.
        Appeal.objects.filter(user=user, status=AppealStatus.OPEN).update(
            status=AppealStatus.REFUSED,
            decided_at=timezone.now(),
            decided_by=moderator,
            response="Superseded by a new block.",
        )
        record(
            "user.blocked",
            user,
            actor=moderator,
            subject_user=user,
            before={"blocked": False},
            after={"blocked": True, "final": block.final},
            data={"reason": reason, "block": block.pk, "block_number": previous + 1},
        )
    return block


def restore_access(user: Any, *, moderator: Any, reason: str = "") -> None:
    """Lift the current block (not possible for a final one)."""
    with transaction.atomic():
        standing = _standing(user)
        block = Block.objects.select_for_update().filter(user=user, lifted_at__isnull=True).first()
        if block is not None and block.final:
            raise ModerationError(_("A second block is final: access can no longer be restored."))
        if block is not None:
            block.lifted_at = timezone.now()
            block.lifted_by = moderator
            block.save()
        standing.blocked = False
        standing.save()
        record(
            "user.access_restored",
            user,
            actor=moderator,
            subject_user=user,
            before={"blocked": True},
            after={"blocked": False},
            data={"reason": reason, "block": block.pk if block else None},
        )


# The lengths a moderator picks from (hours); the service takes any from 1 hour to a year.
SUSPENSION_CHOICES_HOURS = (1, 24, 72, 168, 720)
MAX_SUSPENSION_HOURS = 24 * 365


def suspend_user(user: Any, *, moderator: Any, hours: int, reason: str = "") -> Standing:
    """Bar ``user`` from posting for ``hours`` (a later suspension replaces the current one).
    It ends by itself; unlike a block it does not count towards the final second block. The
    user is e-mailed when it starts."""
    if not 1 <= hours <= MAX_SUSPENSION_HOURS:
        raise ModerationError(_("A suspension lasts from one hour to one year."))
    with transaction.atomic():
        standing = _standing(user)
        before = standing.suspended_until
        standing.suspended_until = timezone.now() + timedelta(hours=hours)
        standing.suspension_reason = reason.strip()[:500]
        standing.save()
        record(
            "user.suspended",
            user,
            actor=moderator,
            subject_user=user,
            before={"suspended_until": before.isoformat() if before else None},
            after={"suspended_until": standing.suspended_until.isoformat()},
            data={"hours": hours, "reason": standing.suspension_reason},
        )
        if user.email and user.is_active:
            transaction.on_commit(
                partial(
                    _mail_suspension,
                    user,
                    until=standing.suspended_until,
                    reason=standing.suspension_reason,
                )
            )
    return standing


def lift_suspension(user: Any, *, moderator: Any) -> bool:
    """End ``user``'s suspension now; returns False when there was none to end."""
    with transaction.atomic():
        standing = _standing(user)
        until = standing.suspended_until
        if until is None or until <= timezone.now():
            return False
        standing.suspended_until = None
        standing.suspension_reason = ""
        standing.save()
        record(
            "user.suspension_lifted",
            user,
            actor=moderator,
            subject_user=user,
            before={"suspended_until": until.isoformat()},
            after={"suspended_until": None},
        )
    return True


def _mail_suspension(user: Any, *, until: Any, reason: str) -> None:
    from civility.notifications.services import send_templated_mail

    send_templated_mail(
        "moderation/email/suspended",
        user.email,
        {"user": user, "until": until, "reason": reason},
    )


def submit_unlock_request(
    *, claimed_user_id: str, explanation: str, signed_in_user: Any = None, email: str = ""
) -> Appeal:
    """File an unlock request. Refused (with the reason) when the account is not blocked, or
    when its block is final."""
    explanation = (explanation or "").strip()
    minimum = settings.CIVILITY_UNLOCK_MIN_EXPLANATION
    if len(explanation) < minimum:
        raise InvalidComment(
            _("Please explain what happened in at least %(minimum)d characters.")
            % {"minimum": minimum}
        )
    User = get_user_model()
    if signed_in_user is not None and getattr(signed_in_user, "is_authenticated", False):
        user = signed_in_user
    else:
        claimed = str(claimed_user_id or "").strip()
        user = User.objects.filter(pk=int(claimed)).first() if claimed.isdigit() else None
        if user is None:
            raise InvalidComment(_("No account has this user id."))
    reason = unlock_refusal_reason(user)
    if reason:
        raise InvalidComment(reason)
    with transaction.atomic():
        existing = Appeal.objects.filter(user=user, status=AppealStatus.OPEN).first()
        if existing is not None:
            return existing
        appeal = Appeal.objects.create(
            user=user,
            claimed_user_id=str(user.pk),
            email=email or user.email,
            explanation=explanation,
            block=Block.objects.filter(user=user, lifted_at__isnull=True).first(),
        )
        record(
            "appeal.submitted",
            appeal,
            actor=user if getattr(signed_in_user, "is_authenticated", False) else None,
            actor_label="" if getattr(signed_in_user, "is_authenticated", False) else "anonymous",
            subject_user=user,
            data={"subject": Appeal.SUBJECT},
        )
    return appeal


def decide_unlock_request(appeal: Appeal, *, moderator: Any, restore: bool, message: str) -> Appeal:
    """Restore access or refuse, with a message e-mailed to the user."""
    message = (message or "").strip()
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update(of=("self",)).select_related("user").get(pk=appeal.pk)
        )
        if appeal.status != AppealStatus.OPEN:
            raise ModerationError(_("This request was already decided."))
        if restore and appeal.user is not None:
            restore_access(appeal.user, moderator=moderator, reason=message)
        appeal.status = AppealStatus.RESTORED if restore else AppealStatus.REFUSED
        appeal.response = message
        appeal.decided_at = timezone.now()
        appeal.decided_by = moderator
        appeal.save()
        record(
            "appeal.restored" if restore else "appeal.refused",
            appeal,
            actor=moderator,
            subject_user=appeal.user,
            before={"status": AppealStatus.OPEN},
            after={"status": appeal.status},
            data={"message": message},
        )
        recipient = appeal.email or (appeal.user.email if appeal.user else "")
        if recipient:
            transaction.on_commit(
                lambda: _mail_appeal_outcome(recipient, restore, message, appeal.pk)
            )
    return appeal


def _mail_appeal_outcome(recipient: str, restored: bool, message: str, appeal_id: int) -> None:
    if restored:
        subject = _("Your access has been restored")
        body = _("A moderator reviewed your unlock request and restored your access.") + "\n"
    else:
        subject = _("Your unlock request was refused")
        body = _("A moderator reviewed your unlock request and refused it.") + "\n"
    if message:
        body += "\n" + _("Message from the moderators:") + f"\n{message}\n"
    try:
        send_mail(f"{Appeal.SUBJECT}: {subject}", body, None, [recipient])
    except Exception:
        # The recipient's address stays out of the logs: the appeal id finds it.
        logger.exception("could not e-mail the outcome of appeal %s", appeal_id)


# --- Reviews of removed comments (a reader's complaint against a removal) ---------------------


class ReviewRefused(DiscussionError):
    """The comment cannot be put up for review (already asked, not removed, too late)."""

    status_code = 409


def review_refusal_reason(comment: Comment, user: Any) -> str:
    """Why ``user`` may not ask for a review of ``comment`` now; "" when they may."""
    if comment.author_id != getattr(user, "pk", None):
        return _("You can only ask for a review of your own comments.")
    if ReviewRequest.objects.filter(comment=comment).exists():
        return _("You already asked for a review of this decision.")
    if comment.status != CommentStatus.REJECTED:
        return _("Only a removed comment can be reviewed.")
    if not review_window_open(comment):
        return _("A removal can be reviewed within %(days)d days; this one is older.") % {
            "days": int(settings.CIVILITY_REVIEW_REQUEST_DAYS)
        }
    return ""


def request_review(comment: Comment, *, user: Any, explanation: str) -> ReviewRequest:
    """File the author's request that a moderator review the removal of their comment."""
    explanation = (explanation or "").strip()
    minimum = int(settings.CIVILITY_REVIEW_MIN_EXPLANATION)
    maximum = int(settings.CIVILITY_REVIEW_MAX_EXPLANATION)
    if len(explanation) < minimum:
        raise InvalidComment(
            _(
                "Please explain why the comment keeps to the standards in at least %(minimum)d characters."
            )
            % {"minimum": minimum}
        )
    if len(explanation) > maximum:
        raise InvalidComment(
            _("The explanation is too long (%(maximum)d characters at most).")
            % {"maximum": maximum}
        )
    with transaction.atomic():
        comment = _lock(comment)
        reason = review_refusal_reason(comment, user)
        if reason:
            raise ReviewRefused(reason)
        review = ReviewRequest.objects.create(
            comment=comment,
            site_id=comment.site_id,
            user=user,
            explanation=explanation,
            rule=comment.rule,
            removed_by=comment.decided_by,
        )
        record(
            "comment.review_requested",
            review,
            actor=user,
            subject_user=user,
            rule=comment.rule,
            data={"comment_id": comment.pk, "removed_by": comment.decided_by},
        )
    return review


def decide_review(
    review: ReviewRequest, *, moderator: Any, reinstate: bool, message: str
) -> ReviewRequest:
    """Reinstate the comment (it is published, its strike revoked) or uphold the removal, which
    needs the reason the reader is told. The reader is e-mailed either way. A request whose
    comment the author deleted meanwhile is closed as withdrawn."""
    message = (message or "").strip()
    if not reinstate and not message:
        raise ModerationError(_("Tell the reader why the removal stands."))
    with transaction.atomic():
        review = ReviewRequest.objects.select_for_update().get(pk=review.pk)
        if review.status != ReviewStatus.OPEN:
            raise ModerationError(_("This request was already decided."))
        comment = _lock(review.comment)
        if comment.status == CommentStatus.DELETED:
            return _close_review(review, moderator=moderator, status=ReviewStatus.WITHDRAWN)
        if reinstate:
            # Closed first, so that approve_comment finds no open request to answer.
            _close_review(
                review, moderator=moderator, status=ReviewStatus.REINSTATED, message=message
            )
            if comment.status != CommentStatus.PUBLISHED:
                approve_comment(comment, moderator=moderator, note=message)
            return review
        if comment.status != CommentStatus.REJECTED:
            raise ModerationError(
                _("The comment is no longer removed: reinstate it, or remove it again first.")
            )
        return _close_review(
            review, moderator=moderator, status=ReviewStatus.UPHELD, message=message
        )


def _close_review(
    review: ReviewRequest, *, moderator: Any, status: str, message: str = ""
) -> ReviewRequest:
    """Record the outcome of an open request and e-mail it to the reader (caller holds the
    transaction)."""
    review.status = status
    review.response = message
    review.decided_at = timezone.now()
    review.decided_by = moderator
    review.save()
    record(
        "comment.review_decided",
        review,
        actor=moderator,
        subject_user=review.user,
        rule=review.rule,
        before={"status": ReviewStatus.OPEN},
        after={"status": status},
        data={"comment_id": review.comment_id, "message": message},
    )
    if status != ReviewStatus.WITHDRAWN:
        review_id = review.pk
        transaction.on_commit(lambda: _mail_review_outcome(review_id))
    return review


def _mail_review_outcome(review_id: int) -> None:
    from civility.notifications.services import send_templated_mail

    review = (
        ReviewRequest.objects.select_related("user", "comment__thread").filter(pk=review_id).first()
    )
    if review is None or not review.user.email:
        return
    try:
        send_templated_mail(
            "moderation/email/review_outcome",
            review.user.email,
            {
                "user": review.user,
                "review": review,
                "reinstated": review.status == ReviewStatus.REINSTATED,
                "rule": rule_label_or(review.rule, ""),
                "thread_title": review.comment.thread.display_title,
                "path": reverse("discussion:my_comments"),
            },
        )
    except Exception:
        # The address stays out of the logs: the request's id finds it.
        logger.exception("could not e-mail the outcome of review request %s", review_id)


def send_contact_message(
    *, subject: str, body: str, user: Any = None, name: str = "", email: str = ""
) -> ContactMessage:
    subject = (subject or "").strip()
    body = (body or "").strip()
    if not subject or not body:
        raise InvalidComment(_("Please write a subject and a message."))
    if len(body) > 5000:
        raise InvalidComment(_("The message is too long (5000 characters at most)."))
    signed_in = getattr(user, "is_authenticated", False)
    with transaction.atomic():
        message = ContactMessage.objects.create(
            user=user if signed_in else None,
            name=name[:120],
            email=email or (user.email if signed_in else ""),
            subject=subject[:200],
            body=body,
        )
        record(
            "contact.received",
            message,
            actor=user if signed_in else None,
            actor_label="" if signed_in else "anonymous",
            subject_user=user if signed_in else None,
        )
    return message


def mark_message_handled(message: ContactMessage, *, moderator: Any) -> None:
    with transaction.atomic():
        message.handled_at = timezone.now()
        message.handled_by = moderator
        message.save(update_fields=["handled_at", "handled_by"])
        record("contact.handled", message, actor=moderator, subject_user=message.user)


def delete_account(user: Any, *, moderator: Any) -> None:
    """Delete an account as a moderator: through the accounts app when it provides the flow
    (disable, e-mail a restore link, hide comments), else disable and hide comments here."""
    accounts_delete_account: Callable[..., Any] | None
    try:
        from civility.accounts.services import delete_account as flow
    except ImportError:
        accounts_delete_account = None
    else:
        accounts_delete_account = flow
    if accounts_delete_account is not None:
        try:
            # It disables the account, hides the comments and writes the audit row itself.
            accounts_delete_account(user, by=moderator, reason="deleted by a moderator")
        except ValueError as exc:  # AccountStateError: already deleted
            raise ModerationError(str(exc)) from exc
        return
    from civility.discussion.services import hide_comments_of

    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        hidden = hide_comments_of(user)
        record(
            "account.deleted_by_moderator",
            user,
            actor=moderator,
            subject_user=user,
            before={"is_active": True},
            after={"is_active": False},
            data={"comments_hidden": hidden},
        )


# --- Policy and threads ---------------------------------------------------------------------


def save_policy(
    policy: Policy,
    *,
    by: Any,
    premoderate_all: bool = False,
    note: str = "",
    site: Site | int | None = None,
) -> PolicyVersion:
    """Store a new version of a site's policy (default: the request's site, else the default
    site) and make it the active one. Its languages become the site's majority languages."""
    from civility.moderation.selectors import active_policy, policy_site
    from civility.sites.current import clear_cache
    from civility.sites.models import Site as SiteModel

    site = policy_site(site)
    current, current_version = active_policy(site)
    with transaction.atomic():
        if tuple(policy.languages) != tuple(site.language_codes):
            SiteModel.objects.filter(pk=site.pk).update(
                majority_languages=", ".join(policy.languages)
            )
            clear_cache()
        PolicyVersion.objects.filter(site_id=site.pk, is_active=True).update(is_active=False)
        version = PolicyVersion.objects.create(
            site_id=site.pk,
            policy=policy.to_dict(),
            digest=policy.version,
            premoderate_all=premoderate_all,
            note=note[:300],
            is_active=True,
            created_by=by,
        )
        changes = policy_changes(current, policy)
        if current_version is None or current_version.premoderate_all != premoderate_all:
            changes["premoderate_all"] = [
                bool(current_version and current_version.premoderate_all),
                premoderate_all,
            ]
        record(
            "policy.saved",
            version,
            actor=by,
            before={"digest": current.version},
            after={"digest": policy.version},
            data={"changes": changes, "note": note},
            policy_version=policy.version,
        )
    return version


def policy_changes(old: Policy, new: Policy) -> dict[str, Any]:
    """What differs between two policies, key by key (rules per slug)."""
    old_data, new_data = old.to_dict(), new.to_dict()
    changes: dict[str, Any] = {}
    for key in sorted(set(old_data) | set(new_data)):
        if key == "rules":
            for slug in sorted(set(old_data["rules"]) | set(new_data["rules"])):
                if old_data["rules"].get(slug) != new_data["rules"].get(slug):
                    changes[f"rules.{slug}"] = [
                        old_data["rules"].get(slug),
                        new_data["rules"].get(slug),
                    ]
        elif old_data.get(key) != new_data.get(key):
            changes[key] = [old_data.get(key), new_data.get(key)]
    return changes


def update_thread(
    thread: Thread, *, by: Any, closed: bool, premoderated: bool, notice: str | None = None
) -> Thread:
    """Close or pre-moderate a discussion, and set its notice to readers (None: keep it)."""
    notice = thread.notice if notice is None else " ".join(notice.split())
    limit = Thread._meta.get_field("notice").max_length or 500
    if len(notice) > limit:
        raise ModerationError(
            _("A notice to readers has at most %(limit)d characters.") % {"limit": limit}
        )
    with transaction.atomic():
        before = {
            "closed": thread.closed,
            "premoderated": thread.premoderated,
            "notice": thread.notice,
        }
        thread.closed = closed
        thread.premoderated = premoderated
        thread.notice = notice
        thread.save(update_fields=["closed", "premoderated", "notice"])
        record(
            "thread.updated",
            thread,
            actor=by,
            before=before,
            after={"closed": closed, "premoderated": premoderated, "notice": notice},
        )
        note_thread_changed(thread.pk)
    return thread
