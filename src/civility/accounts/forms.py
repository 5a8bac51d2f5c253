"""Forms: captcha-protected sign-up and password reset, standards checkbox, deletion, consent."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import ResetPasswordForm, SignupForm
from allauth.socialaccount.forms import SignupForm as SocialSignupForm
from django import forms
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civility.accounts import captcha, services
from civility.accounts.adapter import interface_language
from civility.accounts.models import User
from civility.security.validators import validate_display_name


class CaptchaWidget(forms.Widget):
    """The self-hosted ALTCHA widget: static/accounts/altcha.js solves the challenge."""

    template_name = "accounts/widgets/captcha.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["challenge_url"] = reverse_lazy("accounts:captcha_challenge")
        # What static/accounts/altcha.js writes into the widget as the check runs
        # (data-label-* attributes on the widget's root).
        context["labels"] = {
            "verifying": _("Verifying…"),
            "verified": _("Verified: you are not a robot"),
            "failed": _("The check failed. Tick the box to try again."),
        }
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name, "")

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        # The project's template engine, not the form renderer: our templates live in DIRS.
        return mark_safe(render_to_string(self.template_name, self.get_context(name, value, attrs)))


class CaptchaField(forms.CharField):
    widget = CaptchaWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Anti-robot check"))
        kwargs.setdefault("required", False)  # an empty value gets our own message in clean()
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        try:
            captcha.verify(value)
        except captcha.CaptchaError as error:
            raise forms.ValidationError(str(error), code="captcha") from error
        return str(value)


def standards_field() -> forms.BooleanField:
    link = format_html(
        gettext('I accept the <a href="{}" target="_blank" rel="noopener">community standards</a>'),
        reverse_lazy("accounts:standards"),
    )
    return forms.BooleanField(
        label=link,
        required=True,
        error_messages={"required": _("You must accept the community standards to sign up.")},
    )


class StandardsMixin:
    """Adds the standards checkbox to a sign-up form and records the consent on save."""

    def custom_signup(self, request: HttpRequest, user: User) -> None:
        super().custom_signup(request, user)  # type: ignore[misc]
        user.signup_ip = _client_ip(request)
        user.language = interface_language()
        user.save(update_fields=["signup_ip", "language"])
        services.accept_standards(user)


class CaptchaSignupForm(StandardsMixin, SignupForm):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        required=False,
        help_text=_("Shown next to your comments."),
        validators=[validate_display_name],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accept_standards"] = standards_field()
        # Last, so a failed password check does not spend the solved challenge first.
        self.fields["altcha"] = CaptchaField()

    def custom_signup(self, request: HttpRequest, user: User) -> None:
        user.display_name = self.cleaned_data.get("display_name", "")
        user.save(update_fields=["display_name"])
        super().custom_signup(request, user)


class StandardsSocialSignupForm(StandardsMixin, SocialSignupForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accept_standards"] = standards_field()


class CaptchaResetPasswordForm(ResetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["altcha"] = CaptchaField()


class DeleteAccountForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, I am sure: delete my account."),
        required=True,
        error_messages={"required": _("Tick the box to confirm.")},
    )


class PrivacyConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I agree to continued processing of my data"), required=False
    )


def _client_ip(request: HttpRequest) -> str | None:
    from allauth.account.adapter import get_adapter
    from django.core.exceptions import PermissionDenied

    try:
        return get_adapter().get_client_ip(request) or None
    except PermissionDenied:  # an unknown client address must not block sign-up
        return None


class DisplayNameForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        help_text=_("Shown next to your comments."),
    )
