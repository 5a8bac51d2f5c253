"""Signed restore links for deleted accounts (design.md: signed tokens, not random rows).

A token names the user and the moment of deletion and is signed with SECRET_KEY. It expires
after the restore window, and it stops working once the account is restored (the deletion
moment it names is gone) or purged.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from civility.accounts.models import User

SALT = "civility.accounts.restore"


def _deletion_stamp(moment: datetime.datetime) -> str:
    return f"{moment.timestamp():.6f}"


def make_restore_token(user: User) -> str:
    """Return a token that restores ``user``; the user must be deleted."""
    if user.deleted_at is None:
        raise ValueError("only a deleted account has a restore token")
    return signing.dumps(
        {"u": user.pk, "d": _deletion_stamp(user.deleted_at)}, salt=SALT, compress=True
    )


class InvalidRestoreToken(Exception):
    """The link is forged, expired, already used, or the account is gone."""


def user_for_restore_token(token: str) -> User:
    """Return the deleted user a valid token restores; raise :class:`InvalidRestoreToken`."""
    max_age = datetime.timedelta(days=settings.CIVILITY_ACCOUNT_RESTORE_DAYS)
    try:
        data: Any = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise InvalidRestoreToken(_("This restore link has expired.")) from error
    except signing.BadSignature as error:
        raise InvalidRestoreToken(_("This restore link is not valid.")) from error
    user_id = data.get("u") if isinstance(data, dict) else None
    user = User.objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    if (
        user is None
        or user.deleted_at is None
        or user.purged_at is not None
        or _deletion_stamp(user.deleted_at) != data.get("d")
    ):
        raise InvalidRestoreToken(_("This restore link is not valid any more."))
    return user
