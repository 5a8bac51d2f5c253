"""allauth adapters: Civility's policy for sign-in and social sign-up."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def login(self, request: HttpRequest, user: Any) -> None:
        super().login(request, user)
        try:
            user.last_login_ip = self.get_client_ip(request)
        except PermissionDenied:
            return
        user.save(update_fields=["last_login_ip"])


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Social sign-up always goes through our form (SOCIALACCOUNT_AUTO_SIGNUP = False), so
    the community standards are accepted there too."""
