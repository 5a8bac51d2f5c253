"""``civility createuser``: a verified account that can sign in at once.

Tests, the demo loader and operators share :func:`create_user`.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING

from civility.cli import setup_django

if TYPE_CHECKING:
    from django.contrib.auth.models import Group

    from civility.accounts.models import User

MODERATORS_GROUP = "moderators"
# Moderators act on comments, reports, decisions and sanctions: every permission of these apps.
MODERATOR_APP_LABELS = ("discussion", "moderation")
USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


class UserExistsError(ValueError):
    """An account with this e-mail address already exists."""


def moderators_group() -> Group:
    """The "moderators" group, created on first use and given the moderation apps' permissions.

    Permissions are re-added on every call so that models added by later migrations are covered.
    """
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=MODERATOR_APP_LABELS)
    )
    return group


def _free_username(email: str) -> str:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    base = USERNAME_UNSAFE.sub("", email.split("@", 1)[0])[:140] or "user"
    candidate, suffix = base, 1
    while user_model.objects.filter(username__iexact=candidate).exists():
        suffix += 1
        candidate = f"{base}{suffix}"
    return candidate


def create_user(
    email: str,
    password: str,
    *,
    moderator: bool = False,
    staff: bool = False,
    display_name: str = "",
) -> User:
    """Create an active user with a verified, primary e-mail address.

    Raises :class:`UserExistsError` when the address (compared case-insensitively) is taken.
    """
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.db import transaction

    user_model = get_user_model()
    email = user_model.objects.normalize_email(email.strip())
    if (
        user_model.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    ):
        raise UserExistsError(f"a user with the e-mail address {email} already exists")
    with transaction.atomic():
        user = user_model.objects.create_user(
            username=_free_username(email),
            email=email,
            password=password,
            is_staff=staff,
            display_name=display_name,
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        if moderator:
            user.groups.add(moderators_group())
    return user  # type: ignore[return-value]


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", required=True, help="sign-in e-mail address (marked verified)")
    parser.add_argument(
        "--password", required=True, help="password (checked by the password validators)"
    )
    parser.add_argument("--display-name", default="", help="name shown next to comments")
    parser.add_argument("--moderator", action="store_true", help="add to the moderators group")
    parser.add_argument("--staff", action="store_true", help="allow the admin site (/admin/)")


def run(args: argparse.Namespace) -> int:
    setup_django()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(args.email)
        validate_password(args.password)
    except ValidationError as error:
        print(f"civility createuser: error: {' '.join(error.messages)}", file=sys.stderr)
        return 1
    try:
        user = create_user(
            args.email,
            args.password,
            moderator=args.moderator,
            staff=args.staff,
            display_name=args.display_name,
        )
    except UserExistsError as error:
        print(f"civility createuser: error: {error}", file=sys.stderr)
        return 1
    roles = [
        role for role, wanted in (("moderator", args.moderator), ("staff", args.staff)) if wanted
    ]
    print(
        f"Created {user.email} (username {user.username}{', ' + ', '.join(roles) if roles else ''})."
    )
    return 0
