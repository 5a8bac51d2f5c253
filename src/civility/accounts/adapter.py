"""allauth adapters: Civility's policy for sign-in and social sign-up."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied
from django.core.mail.backends.base import BaseEmailBackend
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

from civility.accounts.models import User


def interface_language() -> str:
    """The active interface language if Civility ships it, else the default one."""
    active = (translation.get_language() or settings.LANGUAGE_CODE).lower()
    supported = {code for code, _name in settings.LANGUAGES}
    for candidate in (active, active.split("-")[0]):
        if candidate in supported:
            return candidate
    return str(settings.LANGUAGE_CODE)


def mail_language(email: str, context: dict[str, Any]) -> str:
    """The language a mail to ``email`` is written in: its account's, else the active one.

    Mail often leaves from a worker or after a commit, with no request whose language to use;
    the account remembers the language its owner last signed in with.
    """
    user = context.get("user")
    if not isinstance(user, User) or user.email.lower() != email.lower():
        user = User.objects.filter(email__iexact=email).only("language").first()
    language = getattr(user, "language", "")
    return language or interface_language()


def remember_language(user: Any) -> None:
    """Store the interface language the user is using now, for mail sent to them later."""
    language = interface_language()
    if getattr(user, "pk", None) and getattr(user, "language", language) != language:
        user.language = language
        User.objects.filter(pk=user.pk).update(language=language)


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        """Sign-up (e-mail or social) and adding an address refuse a domain the moderators
        refuse new accounts from."""
        from civility.moderation.models import EmailDomainAction
        from civility.moderation.selectors import email_domain_rule_for

        email = str(super().clean_email(email))
        rule = email_domain_rule_for(email)
        if rule is not None and rule.action == EmailDomainAction.REFUSE_SIGNUP:
            raise forms.ValidationError(
                _(
                    "New accounts with an e-mail address at %(domain)s are not accepted here. "
                    "If you think this is a mistake, write to the moderators."
                )
                % {"domain": rule.domain}
            )
        return email

    def login(self, request: HttpRequest, user: Any) -> None:
        super().login(request, user)
        remember_language(user)
        try:
            user.last_login_ip = self.get_client_ip(request)
        except PermissionDenied:
            return
        user.save(update_fields=["last_login_ip"])

    def send_mail(
        self,
        template_prefix: str,
        email: str,
        context: dict[str, Any],
        connection: BaseEmailBackend | None = None,
    ) -> None:
        """allauth's, in the recipient's language; ``connection``: a mail session the caller
        holds open for several mails (one SMTP handshake for a batch, not one each)."""
        with translation.override(mail_language(email, context)):
            if connection is None:
                super().send_mail(template_prefix, email, context)
                return
            # What allauth's send_mail adds to the context, then its message on our session.
            request = allauth_context.request
            mail_context = {
                "request": request,
                "email": email,
                "current_site": get_current_site(request),
                **context,
            }
            connection.send_messages([self.render_mail(template_prefix, email, mail_context)])


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Social sign-up always goes through our form (SOCIALACCOUNT_AUTO_SIGNUP = False), so
    the community standards are accepted there too."""
