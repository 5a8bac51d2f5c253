"""Notifications: web-push subscriptions, sending pushes, notification e-mails.

Senders queue work on transaction commit; the work itself (:func:`deliver_push`) is a plain
function that runs inline, or as a Celery task when a broker is configured.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from pywebpush import WebPushException, webpush

from civility.moderation.audit import record
from civility.notifications.models import DigestDelivery, NotificationSettings, PushSubscription
from civility.notifications.vapid import vapid

logger = logging.getLogger(__name__)

GONE_STATUSES = {404, 410}
RETRY_ALONE_AFTER_SECONDS = 30  # a mail of a batch that the server refused, sent again alone


class InvalidSubscription(ValueError):
    """The browser sent something that is not a usable push subscription."""


def settings_for(user: Any) -> NotificationSettings:
    notification_settings, _created = NotificationSettings.objects.get_or_create(user=user)
    return notification_settings


def wanting_removal_emails(user_ids: Iterable[int]) -> set[int]:
    """Of ``user_ids``, those who get removal e-mails (on unless turned off), in one query:
    a worker's batch may remove dozens of comments at once."""
    ids = set(user_ids)
    turned_off = NotificationSettings.objects.filter(user_id__in=ids, email_removals=False)
    return ids - set(turned_off.values_list("user_id", flat=True))


@transaction.atomic
def update_settings(user: Any, **choices: bool) -> NotificationSettings:
    notification_settings = settings_for(user)
    before = {name: getattr(notification_settings, name) for name in choices}
    for name, value in choices.items():
        setattr(notification_settings, name, bool(value))
    notification_settings.save()
    record(
        "notifications.settings",
        notification_settings,
        actor=user,
        subject_user=user,
        before=before,
        after=choices,
    )
    return notification_settings


def _validate(endpoint: str, p256dh: str, auth: str) -> None:
    parsed = urlparse(endpoint or "")
    allowed = {"https", "http"} if settings.CIVILITY_PUSH_ALLOW_HTTP_ENDPOINTS else {"https"}
    if parsed.scheme not in allowed or not parsed.netloc:
        raise InvalidSubscription(gettext("The push endpoint must be an https:// URL."))
    if len(endpoint) > 1000 or not p256dh or not auth or len(p256dh) > 200 or len(auth) > 100:
        raise InvalidSubscription(gettext("The push subscription keys are missing or too long."))


@transaction.atomic
def subscribe(
    *, user: Any, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Store (or refresh) the subscription of one browser."""
    _validate(endpoint, p256dh, auth)
    owner = user if getattr(user, "is_authenticated", False) else None
    subscription, created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={
            "user": owner,
            "p256dh": p256dh,
            "auth": auth,
            "user_agent": user_agent[:300],
            "failures": 0,
        },
    )
    record(
        "push.subscribe" if created else "push.resubscribe",
        subscription,
        actor=owner,
        actor_label="" if owner else "anonymous",
        subject_user=owner,
    )
    return subscription


@transaction.atomic
def unsubscribe(*, endpoint: str, user: Any = None) -> int:
    rows = PushSubscription.objects.filter(endpoint=endpoint)
    subscription = rows.first()
    if subscription is None:
        return 0
    record(
        "push.unsubscribe",
        subscription,
        actor=user if getattr(user, "pk", None) else None,
        subject_user=subscription.user,
    )
    deleted, _ = rows.delete()
    return deleted


def deliver_push(subscription_id: int, payload: dict[str, Any]) -> str:
    """Send one push now. Returns "sent", "gone" (subscription removed), "failed" or "missing"."""
    subscription = PushSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return "missing"
    try:
        webpush(
            subscription_info=subscription.as_subscription_info(),
            data=json.dumps(payload),
            vapid_private_key=vapid(),
            vapid_claims={"sub": settings.CIVILITY_VAPID_SUBJECT},
            ttl=settings.CIVILITY_PUSH_TTL_SECONDS,
            timeout=settings.CIVILITY_PUSH_TIMEOUT_SECONDS,
        )
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in GONE_STATUSES:
            # The browser unsubscribed or the subscription expired: the push service says so.
            PushSubscription.objects.filter(pk=subscription_id).delete()
            logger.info("push subscription %s is gone (%s); removed", subscription_id, status)
            return "gone"
        PushSubscription.objects.filter(pk=subscription_id).update(
            failures=subscription.failures + 1
        )
        logger.warning("push to subscription %s failed: %s", subscription_id, status or error)
        return "failed"
    except OSError as error:  # connection refused, DNS, timeout
        PushSubscription.objects.filter(pk=subscription_id).update(
            failures=subscription.failures + 1
        )
        logger.warning("push to subscription %s failed: %s", subscription_id, error)
        return "failed"
    PushSubscription.objects.filter(pk=subscription_id).update(
        last_sent_at=timezone.now(), failures=0
    )
    return "sent"


def _queue_pushes(subscription_ids: list[int], payload: dict[str, Any]) -> None:
    """Deliver after commit: via Celery when a broker is configured, else inline."""

    def send() -> None:
        from civility.notifications.tasks import deliver_push_task

        for subscription_id in subscription_ids:
            if settings.CELERY_TASK_ALWAYS_EAGER:
                deliver_push(subscription_id, payload)
                continue
            try:
                deliver_push_task.delay(subscription_id, payload)
            except Exception:  # broker down: deliver inline rather than drop the notification
                logger.exception("broker unavailable; pushing inline")
                deliver_push(subscription_id, payload)

    transaction.on_commit(send)


def notify_breaking_news(*, title: str, url: str, summary: str = "") -> int:
    """Push a breaking-news alert to every subscribed browser that wants them."""
    subscriptions = PushSubscription.objects.exclude(user__is_active=False).exclude(
        user__notification_settings__push_breaking=False
    )
    ids = list(subscriptions.values_list("pk", flat=True))
    _queue_pushes(
        ids,
        {
            "kind": "breaking",
            "title": title,
            "body": summary[:200],
            "url": url,
            "tag": f"breaking:{url}",
        },
    )
    return len(ids)


def _in_language_of(recipient: Any, translate: Callable[[], str]) -> str:
    """``translate()`` (a gettext call) in the recipient's language: a push leaves after the
    request, so the request's language is not theirs."""
    from civility.accounts.adapter import mail_language

    with translation.override(mail_language(recipient.email or "", {"user": recipient})):
        return translate()


def _reply_title(recipient: Any, replier_name: str) -> str:
    return _in_language_of(
        recipient, lambda: gettext("%(name)s replied to your comment") % {"name": replier_name}
    )


def _push_to(recipient: Any, *, kind: str, title: str, url: str, excerpt: str) -> int:
    """Queue one push about ``url`` to each of ``recipient``'s browsers; returns how many."""
    ids = list(PushSubscription.objects.filter(user=recipient).values_list("pk", flat=True))
    _queue_pushes(
        ids,
        {"kind": kind, "title": title, "body": excerpt[:200], "url": url, "tag": f"{kind}:{url}"},
    )
    return len(ids)


def _notify(
    recipient: Any,
    *,
    kind: str,
    push: bool,
    email: bool,
    title: str,
    url: str,
    excerpt: str,
    mail_context: dict[str, Any],
) -> int:
    """Queue a push (``push``: the recipient wants this kind by push) and an e-mail on commit
    (``email``: they opted in); returns how many messages were queued. ``title``: the push's
    title, in the recipient's language. The caller has checked that the recipient is active."""
    queued = 0
    if push:
        queued += _push_to(recipient, kind=kind, title=title, url=url, excerpt=excerpt)
    if email and recipient.email:
        context = {"url": url, "excerpt": excerpt, **mail_context}
        _queue_mail(f"notifications/email/{kind}", recipient, context)
        queued += 1
    return queued


def _queue_mail(template_prefix: str, recipient: Any, context: dict[str, Any]) -> None:
    """Mail ``recipient`` after commit: as a Celery task when a broker is configured, else
    inline (and inline when the broker is down). ``context``: JSON values only (the task's
    arguments); the template also gets the recipient as ``user``. Inside
    :func:`batched_mail`, the mails go out together, as one task.

    Why a task: a worker that decides a batch of 200 comments would otherwise render and send
    the removal e-mails of the batch itself, one SMTP connection after the other, before it
    takes the next batch (measured: 70% of the time a batch spent writing its decisions, with
    mail to the console alone); and a mail server that refuses now gets the message again
    later (the task retries with backoff) instead of the message being logged and lost."""
    mail = OutgoingMail(template_prefix, recipient, context)
    batch: list[OutgoingMail] | None = getattr(_batched, "mails", None)
    if batch is not None:
        batch.append(mail)
        return
    # robust: a mail server that refuses must not fail what was already committed (a worker's
    # batch of decisions, a moderator's removal); Django logs the error.
    transaction.on_commit(lambda: _send_or_queue([mail]), robust=True)


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    template_prefix: str
    recipient: Any
    context: dict[str, Any]

    def task_arguments(self) -> list[Any]:
        return [self.template_prefix, self.recipient.email, self.recipient.pk, self.context]

    def send_now(self) -> None:
        context = {"user": self.recipient, **self.context}
        send_templated_mail(self.template_prefix, self.recipient.email, context)


_batched = threading.local()


@contextmanager
def batched_mail() -> Iterator[None]:
    """Mails queued inside (by :func:`notify_removal` and the like) leave after commit as one
    task instead of one task each: publishing a task costs about 1 ms, which a worker's batch
    of 200 decisions paid once per removal."""
    if getattr(_batched, "mails", None) is not None:  # nested: the outer block sends them
        yield
        return
    _batched.mails = []
    try:
        yield
        mails: list[OutgoingMail] = _batched.mails
    finally:
        _batched.mails = None
    if mails:
        transaction.on_commit(lambda: _send_or_queue(mails), robust=True)


def _send_or_queue(mails: list[OutgoingMail]) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _send_each(mails)
        return
    from civility.notifications.tasks import (
        send_notification_mail_task,
        send_notification_mails_task,
    )

    try:
        if len(mails) == 1:
            send_notification_mail_task.delay(*mails[0].task_arguments())
        else:
            send_notification_mails_task.delay([mail.task_arguments() for mail in mails])
    except Exception:  # broker down: mail inline rather than drop the notification
        logger.exception("broker unavailable; mailing inline")
        _send_each(mails)


def _send_each(mails: list[OutgoingMail]) -> None:
    for mail in mails:
        try:
            mail.send_now()
        except Exception:  # one refusal must not keep the others from being sent
            logger.exception("notification mail to user %s failed", mail.recipient.pk)


def send_notification_mails(jobs: list[list[Any]]) -> int:
    """Send the mails of one :func:`batched_mail` block (each as :func:`send_notification_mail`
    takes it); a mail the server refuses or that cannot reach it is queued again alone, as a
    task that retries with backoff. Returns how many were sent now.

    The batch reads its recipients in one query and sends on one mail session: to an SMTP
    server, one connection and handshake (TLS included) for the batch instead of one for each
    of up to 200 removal mails. After a failure the session is opened anew, in case the
    failure broke it."""
    from django.contrib.auth import get_user_model
    from django.core.mail import mailers

    from civility.notifications.tasks import send_notification_mail_task

    users = (
        get_user_model()
        .objects.filter(pk__in={user_id for _, _, user_id, _ in jobs}, is_active=True)
        .in_bulk()
    )
    connection = mailers.default
    _open_quietly(connection)
    sent = 0
    try:
        for template_prefix, email, user_id, context in jobs:
            try:
                sent += send_notification_mail(
                    template_prefix, email, user_id, context, users=users, connection=connection
                )
            except (smtplib.SMTPException, OSError):
                logger.warning("notification mail to user %s refused; retried alone", user_id)
                connection.close()
                _open_quietly(connection)
                try:
                    send_notification_mail_task.apply_async(
                        (template_prefix, email, user_id, context),
                        countdown=RETRY_ALONE_AFTER_SECONDS,
                    )
                except Exception:  # the broker too: the rest of the batch still goes out
                    logger.exception("notification mail to user %s could not be queued", user_id)
    finally:
        connection.close()
    return sent


def _open_quietly(connection: Any) -> None:
    """Open the batch's mail session; where the server cannot be reached, each mail tries on
    its own and one that fails is queued again alone."""
    try:
        connection.open()
    except (smtplib.SMTPException, OSError):
        logger.warning("mail server unreachable; each mail of the batch tries on its own")


def send_notification_mail(
    template_prefix: str,
    email: str,
    user_id: int,
    context: dict[str, Any],
    *,
    users: dict[Any, Any] | None = None,
    connection: Any = None,
) -> bool:
    """Send one notification e-mail that :func:`_queue_mail` queued for ``email``, unless its
    account was deleted or deactivated meanwhile; to the account's new address if it moved.
    True if it was sent. ``users``: the active accounts by id, where the caller read them for
    a batch; ``connection``: the batch's open mail session."""
    from django.contrib.auth import get_user_model

    if users is None:
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    else:
        user = users.get(user_id)
    if user is None or not user.email:
        return False
    if user.email.lower() != email.lower():
        logger.info("notification mail for user %s follows their new address", user_id)
    send_templated_mail(template_prefix, user.email, {"user": user, **context}, connection)
    return True


def notify_reply(
    *, recipient: Any, replier_name: str, article_title: str, url: str, excerpt: str = ""
) -> int:
    """Tell ``recipient`` that someone replied to their comment: push, and e-mail if opted in."""
    if recipient is None or not recipient.is_active:
        return 0
    preferences = settings_for(recipient)
    return _notify(
        recipient,
        kind="reply",
        push=preferences.push_replies,
        email=preferences.email_replies,
        title=_reply_title(recipient, replier_name),
        url=url,
        excerpt=excerpt,
        mail_context={"replier_name": replier_name, "article_title": article_title},
    )


def notify_featured(*, recipient: Any, url: str, article_title: str = "", excerpt: str = "") -> int:
    """Tell ``recipient`` that moderators chose their comment as an editors' pick: push, and
    e-mail if opted in. Returns how many messages were queued."""
    if recipient is None or not recipient.is_active:
        return 0
    preferences = settings_for(recipient)
    return _notify(
        recipient,
        kind="featured",
        push=preferences.push_featured,
        email=preferences.email_featured,
        title=_in_language_of(recipient, lambda: gettext("Your comment is an editors' pick")),
        url=url,
        excerpt=excerpt,
        mail_context={"article_title": article_title},
    )


def notify_removal(
    *,
    recipient: Any,
    article_title: str,
    rule_label: str,
    review_url: str,
    excerpt: str = "",
    by_engine: bool = False,
    wants_email: bool | None = None,
) -> int:
    """E-mail ``recipient`` that a moderator (``by_engine``: the automatic moderation) removed
    their comment, with the rule it broke and the link to ask for a review (unless they turned
    these e-mails off; ``wants_email``: that choice, when the caller has read it). Returns 0
    or 1."""
    if recipient is None or not recipient.is_active:
        return 0
    if wants_email is None:
        wants_email = settings_for(recipient).email_removals
    return _notify(
        recipient,
        kind="removed",
        push=False,
        email=wants_email,
        title="",
        url=review_url,
        excerpt=excerpt,
        mail_context={
            "article_title": article_title,
            "rule_label": rule_label,
            "by_engine": by_engine,
        },
    )


def send_moderation_digests(*, now: Any = None) -> int:
    """E-mail today's moderation digest to every active moderator who asked for it, once a
    day each (a DigestDelivery row per user and day), and only when something waits for
    them. Returns how many were sent."""
    from django.db import IntegrityError

    from civility.moderation.digest import digest_for

    now = now or timezone.now()
    day = timezone.localdate(now)
    recipients = (
        NotificationSettings.objects.filter(email_moderation_digest=True, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
    )
    sent = 0
    for preferences in recipients:
        user = preferences.user
        digest = digest_for(user, now=now)
        if digest is None or not digest.needs_attention:
            continue
        try:
            with transaction.atomic():
                DigestDelivery.objects.create(user=user, kind=DigestDelivery.MODERATION, day=day)
        except IntegrityError:
            continue  # sent today already
        try:
            send_templated_mail(
                "notifications/email/moderation_digest",
                user.email,
                {"user": user, "digest": digest, "day": day},
            )
        except Exception:
            # Let the next run try again rather than lose the day's digest.
            DigestDelivery.objects.filter(
                user=user, kind=DigestDelivery.MODERATION, day=day
            ).delete()
            logger.exception("moderation digest to user %s failed", user.pk)
            continue
        sent += 1
    return sent


def send_appeal_outcome_mail(
    *, recipient_email: str, restored: bool, message: str = "", url: str = ""
) -> None:
    """E-mail the outcome of an appeal (unlock request) in HTML and text."""
    context = {"restored": restored, "message": message, "url": url}
    send_templated_mail("notifications/email/appeal_outcome", recipient_email, context)


def send_templated_mail(
    template_prefix: str, email: str, context: dict[str, Any], connection: Any = None
) -> None:
    """Render ``<prefix>_subject.txt``, ``_message.txt`` and ``_message.html``; send them (on
    ``connection``, an open mail session, where the caller holds one)."""
    from allauth.account.adapter import get_adapter

    context = {"site_url": settings.SITE_URL, **context}
    get_adapter().send_mail(template_prefix, email, context, connection=connection)
