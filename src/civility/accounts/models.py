"""Accounts: Civility's user model.

The e-mail address is the sign-in name; ``display_name`` is what readers see next to a comment.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)

    def public_name(self) -> str:
        return self.display_name or self.username or _("reader")  # type: ignore[return-value]

    def __str__(self) -> str:
        return self.public_name()
