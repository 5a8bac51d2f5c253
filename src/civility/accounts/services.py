"""State changes of accounts: consents, deletion, restore, purge, data export.

Each function is one transaction that writes one audit row; mail and other side effects run on
commit. Other apps call these (the moderators' "delete account" action calls
:func:`delete_account`).
"""

from __future__ import annotations

import datetime
import importlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import serializers
from django.db import models, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext

from civility.accounts import legal, selectors
from civility.accounts.models import Consent, PrivacyPolicyVersion, User
from civility.accounts.tokens import make_restore_token
from civility.moderation.audit import record

logger = logging.getLogger(__name__)

# Apps whose rows about a user belong in "download my data" (and are scanned at purge).
PERSONAL_DATA_APPS = (
    "accounts",
    "discussion",
    "moderation",
    "notifications",
    "socialaccount",
    "account",
)
# Foreign keys that name the staff member who acted on someone else's row: those rows are
# about the other person, not about the staff member.
STAFF_ACTION_FIELDS = {"actor", "created_by", "moderator", "lifted_by", "decided_by", "handled_by"}
# Another reader's choice about this user (ignoring them) is that reader's data, not theirs.
OTHERS_CHOICE_FIELDS = {"ignored"}


class AccountStateError(ValueError):
    """The account is not in a state that allows this change."""


def _discussion_hook(name: str) -> Callable[[User], Any] | None:
    """A function of the discussion app, if that app provides it (it may land later)."""
    try:
        module = importlib.import_module("civility.discussion.services")
    except ModuleNotFoundError as error:
        if error.name in {"civility.discussion.services", "civility.discussion"}:
            return None
        raise
    hook = getattr(module, name, None)
    return hook if callable(hook) else None


def _actor_label(user: User, by: Any) -> str:
    if by is None or getattr(by, "pk", None) == user.pk:
        return "self"
    return f"user:{by.pk}" if getattr(by, "pk", None) else str(by)


# --- Consents -------------------------------------------------------------------------------


@transaction.atomic
def record_consent(
    user: User,
    kind: str,
    version: str,
    *,
    language: str = legal.FALLBACK_LANGUAGE,
    choice: str = Consent.Choice.AGREED,
    at: datetime.datetime | None = None,
) -> Consent:
    """Store that ``user`` agreed to (or refused) ``version`` of a text in ``language``."""
    consent = Consent.objects.create(
        user=user,
        kind=kind,
        version=version,
        language=language,
        choice=choice,
        created_at=at or timezone.now(),
    )
    record(
        f"consent.{kind}.{choice}",
        consent,
        actor=user,
        subject_user=user,
        data={"kind": kind, "version": version, "language": language, "choice": choice},
    )
    return consent


def accept_standards(user: User, language: str | None = None) -> Consent:
    """Store that a new account accepted the community standards in force, in the language
    it read them in (default: the active interface language)."""
    text_language = legal.text_language(language)
    return record_consent(
        user,
        Consent.Kind.STANDARDS,
        selectors.standards_version(text_language),
        language=text_language,
    )


def agree_to_privacy_policy(user: User, policy: PrivacyPolicyVersion) -> Consent:
    return record_consent(user, Consent.Kind.PRIVACY, policy.version, language=policy.language)


def refuse_privacy_policy(user: User, policy: PrivacyPolicyVersion) -> Consent:
    """Store the refusal; the caller then takes the user into the deletion flow."""
    return record_consent(
        user,
        Consent.Kind.PRIVACY,
        policy.version,
        language=policy.language,
        choice=Consent.Choice.REFUSED,
    )


@transaction.atomic
def publish_privacy_policy(policy: PrivacyPolicyVersion, *, by: Any = None) -> PrivacyPolicyVersion:
    """Put a privacy-policy version in force: every signed-in user must consent again."""
    if policy.published_at is not None:
        raise AccountStateError(gettext("This version is already published."))
    policy.published_at = timezone.now()
    policy.save(update_fields=["published_at"])
    record(
        "privacy_policy.publish",
        policy,
        actor=by,
        data={"version": policy.version, "language": policy.language},
    )
    selectors.forget_active_privacy_policy()
    transaction.on_commit(selectors.forget_active_privacy_policy)
    return policy


# --- Deletion and restore -------------------------------------------------------------------


def restore_url(user: User) -> str:
    path = reverse("accounts:restore", kwargs={"token": make_restore_token(user)})
    return f"{settings.SITE_URL}{path}"


def _send_deletion_mail(user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    if user.deleted_at is None or user.purged_at is not None:
        return
    get_adapter().send_mail(
        "accounts/email/account_deleted",
        user.email,
        {
            "user": user,
            "restore_url": restore_url(user),
            "restore_days": settings.CIVILITY_ACCOUNT_RESTORE_DAYS,
            "restore_until": user.deleted_at
            + datetime.timedelta(days=settings.CIVILITY_ACCOUNT_RESTORE_DAYS),
        },
    )


@transaction.atomic
def delete_account(user: User, *, by: Any = None, reason: str = "") -> User:
    """Disable ``user`` at once: no sign-in, comments out of public view, consents withdrawn.

    The user is mailed a signed link that restores everything within the restore window;
    after it, :func:`purge_deleted_accounts` erases the account. ``by`` is the moderator when
    it is not the user themself.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is not None:
        raise AccountStateError(gettext("This account is already deleted."))
    now = timezone.now()
    user.deleted_at = now
    user.deleted_by_label = _actor_label(user, by)
    user.is_active = False
    user.save(update_fields=["deleted_at", "deleted_by_label", "is_active"])
    withdrawn = Consent.objects.filter(user=user, withdrawn_at__isnull=True).update(
        withdrawn_at=now
    )
    hide = _discussion_hook("hide_comments_of")
    if hide is not None:
        hide(user)
    record(
        "account.delete",
        user,
        actor=by if by is not None else user,
        subject_user=user,
        data={"by": user.deleted_by_label, "reason": reason, "consents_withdrawn": withdrawn},
    )
    transaction.on_commit(lambda: _send_deletion_mail(user.pk))
    return user


@transaction.atomic
def restore_account(user: User, *, by: Any = None) -> User:
    """Bring a deleted account back as it was: sign-in, comments and their statuses, consents."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is None:
        raise AccountStateError(gettext("This account is not deleted."))
    if user.purged_at is not None:
        raise AccountStateError(gettext("This account was purged and cannot be restored."))
    deleted_at = user.deleted_at
    user.deleted_at = None
    user.deleted_by_label = ""
    user.is_active = True
    user.save(update_fields=["deleted_at", "deleted_by_label", "is_active"])
    restored = Consent.objects.filter(user=user, withdrawn_at=deleted_at).update(withdrawn_at=None)
    restore = _discussion_hook("restore_comments_of")
    if restore is not None:
        restore(user)
    record(
        "account.restore",
        user,
        actor=by if by is not None else user,
        subject_user=user,
        data={"by": _actor_label(user, by), "consents_restored": restored},
    )
    return user


# --- Purge ----------------------------------------------------------------------------------


def _rows_about(user: User) -> Iterable[tuple[type[models.Model], models.QuerySet[Any]]]:
    """Every model in PERSONAL_DATA_APPS with a foreign key to the user, with the user's rows."""
    for model in apps.get_models():
        if model._meta.app_label not in PERSONAL_DATA_APPS or model is User:
            continue
        for field in model._meta.get_fields():
            if (
                isinstance(field, models.ForeignKey | models.OneToOneField)
                and field.related_model is User
                and field.concrete
                and field.name not in STAFF_ACTION_FIELDS
                and field.name not in OTHERS_CHOICE_FIELDS
            ):
                yield model, model._default_manager.filter(**{field.name: user})


def _personal_strings(user: User) -> set[str]:
    """The strings that must not survive a purge: identity and every text the user wrote."""
    strings = {user.email, user.username, user.first_name, user.last_name, user.display_name}
    # The names the user had before (change_display_name keeps them in the audit log).
    from civility.moderation.models import AuditLog

    for before in AuditLog.objects.filter(
        action="account.display_name_changed", subject_user=user
    ).values_list("before", flat=True):
        if isinstance(before, dict) and isinstance(before.get("display_name"), str):
            strings.add(before["display_name"])
    for model, rows in _rows_about(user):
        if model._meta.app_label != "discussion":
            continue
        text_fields = [
            f.attname for f in model._meta.concrete_fields if isinstance(f, models.TextField)
        ]
        for values in rows.values_list(*text_fields) if text_fields else []:
            strings.update(value for value in values if isinstance(value, str))
    return {value for value in strings if value and len(value) >= 3}


def _scrub(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, str):
        return "[purged]" if any(secret in value for secret in secrets) else value
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    return value


def _delete_sessions_of(user: User) -> int:
    deleted = 0
    for session in Session.objects.filter(
        expire_date__gt=timezone.now() - datetime.timedelta(days=365)
    ):
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            deleted += 1
    return deleted


@transaction.atomic
def purge_account(user: User) -> None:
    """Irreversibly erase a deleted account's personal data; comments become tombstones.

    Removes the e-mail address, names, IP addresses, social accounts and tokens, push
    subscriptions, sessions, moderators' notes about the user, their requests to review a
    removal and comment texts, and scrubs
    those strings from the audit log.
    The row stays (as "deleted account") so threads and moderation history keep their shape.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is None:
        raise AccountStateError(gettext("Only a deleted account can be purged."))
    if user.purged_at is not None:
        return
    secrets = _personal_strings(user)
    purge_comments = _discussion_hook("purge_comments_of")
    if purge_comments is not None:
        purge_comments(user)

    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.filter(user=user).delete()  # tokens go with them (cascade)
    EmailAddress.objects.filter(user=user).delete()
    if apps.is_installed("civility.notifications"):
        apps.get_model("notifications", "PushSubscription").objects.filter(user=user).delete()
    if apps.is_installed("civility.moderation"):
        apps.get_model("moderation", "ModeratorNote").objects.filter(user=user).delete()
        # What the reader wrote to contest a removal goes with their comments' texts.
        apps.get_model("moderation", "ReviewRequest").objects.filter(user=user).delete()
    _delete_sessions_of(user)

    from django.contrib.admin.models import LogEntry

    LogEntry.objects.filter(user=user).update(change_message="")
    for entry in LogEntry.objects.filter(object_repr__in=list(secrets)):
        entry.object_repr = "[purged]"
        entry.save(update_fields=["object_repr"])

    from civility.moderation.models import AuditLog

    audit_rows = AuditLog.objects.filter(models.Q(subject_user=user) | models.Q(actor=user))
    for row in audit_rows.iterator():
        scrubbed = {
            name: _scrub(getattr(row, name), secrets) for name in ("before", "after", "data")
        }
        if any(scrubbed[name] != getattr(row, name) for name in scrubbed):
            AuditLog.objects.filter(pk=row.pk).update(**scrubbed)

    user.email = f"purged-{user.pk}@deleted.invalid"
    user.username = f"purged-{user.pk}"
    user.first_name = user.last_name = user.display_name = ""
    user.last_login_ip = user.signup_ip = None
    user.set_unusable_password()
    user.purged_at = timezone.now()
    user.save()
    record("account.purge", user, actor_label="system", subject_user=user)


def purge_deleted_accounts(*, now: datetime.datetime | None = None) -> list[int]:
    """Purge every account deleted longer ago than the restore window; return their ids."""
    cutoff = (now or timezone.now()) - datetime.timedelta(
        days=settings.CIVILITY_ACCOUNT_RESTORE_DAYS
    )
    due = User.objects.filter(deleted_at__lte=cutoff, purged_at__isnull=True).values_list(
        "pk", flat=True
    )
    purged: list[int] = []
    for user_id in list(due):
        purge_account(User.objects.get(pk=user_id))
        purged.append(user_id)
        logger.info("purged deleted account %s", user_id)
    return purged


# --- Download my data -----------------------------------------------------------------------

PROFILE_FIELDS = (
    "email",
    "username",
    "display_name",
    "first_name",
    "last_name",
    "date_joined",
    "last_login",
    "last_login_ip",
    "signup_ip",
    "is_active",
    "deleted_at",
)
# Secrets are the user's, but a download must never carry credentials in clear.
SECRET_FIELDS = {"password", "token", "token_secret", "auth", "p256dh", "key_hash", "secret"}


def export_user_data(user: User) -> dict[str, Any]:
    """Everything Civility holds about ``user``, as JSON-ready data (GDPR right of access)."""
    data: dict[str, Any] = {
        "generated_at": timezone.now().isoformat(),
        "profile": {
            name: (value.isoformat() if isinstance(value, datetime.datetime) else value)
            for name in PROFILE_FIELDS
            for value in [getattr(user, name)]
        },
    }
    for model, rows in _rows_about(user):
        label = model._meta.label_lower
        if label == "moderation.auditlog":
            continue  # the audit log is the publisher's record; its rows repeat what is below
        serialized = serializers.serialize("python", rows)
        if not serialized:
            continue
        entries = data.setdefault(label, [])
        for item in serialized:
            fields = {k: v for k, v in item["fields"].items() if k not in SECRET_FIELDS}
            entries.append({"id": item["pk"], **fields})
    # Friendly aliases for the parts people look for first.
    data["consents"] = data.pop("accounts.consent", [])
    data["push_subscriptions"] = data.pop("notifications.pushsubscription", [])
    data["email_addresses"] = data.pop("account.emailaddress", [])
    data["social_accounts"] = data.pop("socialaccount.socialaccount", [])
    return data


class DisplayNameRefused(ValueError):
    """A display name change the rules refuse; ``str()`` says why, to the reader."""


def next_display_name_change(user: User, *, now: datetime.datetime | None = None) -> Any:
    """When ``user`` may change their display name again (None: now)."""
    if user.display_name_changed_at is None:
        return None
    allowed = user.display_name_changed_at + datetime.timedelta(
        days=settings.CIVILITY_DISPLAY_NAME_CHANGE_DAYS
    )
    return allowed if allowed > (now or timezone.now()) else None


def change_display_name(user: User, name: str) -> User:
    """Give ``user`` a new display name, at most once per CIVILITY_DISPLAY_NAME_CHANGE_DAYS;
    the audit log keeps the old one, so moderators can follow a reader across names."""
    from django.core.exceptions import ValidationError

    from civility.security.validators import normalise_display_name, validate_display_name

    try:
        validate_display_name(name)
    except ValidationError as exc:
        raise DisplayNameRefused(" ".join(exc.messages)) from exc
    cleaned = normalise_display_name(name)
    if not cleaned:
        raise DisplayNameRefused(gettext("Choose a display name."))
    if cleaned == user.display_name:
        raise DisplayNameRefused(gettext("That is your display name already."))
    allowed = next_display_name_change(user)
    if allowed is not None:
        raise DisplayNameRefused(
            gettext("You changed your display name recently; you can change it again on %(date)s.")
            % {"date": formats.date_format(timezone.localtime(allowed), "DATE_FORMAT")}
        )
    with transaction.atomic():
        before = user.display_name
        user.display_name = cleaned
        user.display_name_changed_at = timezone.now()
        user.save(update_fields=["display_name", "display_name_changed_at"])
        record(
            "account.display_name_changed",
            user,
            actor=user,
            subject_user=user,
            before={"display_name": before},
            after={"display_name": cleaned},
        )
    return user
