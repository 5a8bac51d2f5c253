"""Admin: editors publish privacy-policy versions; consents are read-only evidence."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civility.accounts import services
from civility.accounts.models import Consent, PrivacyPolicyVersion, User
from civility.security.validators import validate_display_name


class CivilityUserChangeForm(UserChangeForm):  # type: ignore[type-arg]
    """The admin's user form checks display names as the reader's settings form does.

    One exception: a staff account may carry a role word ("Moderator Team"), because there the
    name tells the truth; the reserved-word rule exists to stop readers posing as staff.
    """

    def clean_display_name(self) -> str:
        value: str = self.cleaned_data.get("display_name", "")
        try:
            validate_display_name(value)
        except ValidationError as error:
            is_staff = self.cleaned_data.get("is_staff", self.instance.is_staff)
            if error.code != "reserved" or not (is_staff or self.instance.is_staff):
                raise
        return value


@admin.register(User)
class CivilityUserAdmin(UserAdmin):
    form = CivilityUserChangeForm
    list_display = (
        "email",
        "display_name",
        "is_active",
        "is_staff",
        "staff_badge",
        "date_joined",
        "deleted_at",
    )
    list_filter = ("is_active", "is_staff", "staff_badge", "deleted_at")
    search_fields = ("email", "display_name", "username")
    ordering = ("-date_joined",)
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (
            "Civility",
            {
                "fields": (
                    "display_name",
                    "staff_badge",
                    "deleted_at",
                    "deleted_by_label",
                    "purged_at",
                    "last_login_ip",
                    "signup_ip",
                    "language",
                )
            },
        ),
    )
    readonly_fields = ("deleted_at", "deleted_by_label", "purged_at", "last_login_ip", "signup_ip")


class PrivacyPolicyVersionForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("language"), choices=settings.LANGUAGES, initial="en")

    class Meta:
        model = PrivacyPolicyVersion
        fields = ("language", "version", "title", "text")


@admin.register(PrivacyPolicyVersion)
class PrivacyPolicyVersionAdmin(admin.ModelAdmin):
    form = PrivacyPolicyVersionForm
    list_display = ("version", "language", "title", "created_at", "published_at")
    list_filter = ("language",)
    actions = ["publish"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A published text is what people agreed to: it never changes; publish a new version.
        if obj is not None and obj.published_at is not None:
            return ("language", "version", "title", "text", "published_at")
        return ("published_at",)

    @admin.action(
        description=_("Publish (every signed-in user reading in its language must consent again)")
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[PrivacyPolicyVersion]) -> None:
        for policy in queryset.filter(published_at__isnull=True):
            services.publish_privacy_policy(policy, by=request.user)
            self.message_user(
                request,
                gettext("Published version %(version)s (%(language)s).")
                % {"version": policy.version, "language": policy.language},
                messages.SUCCESS,
            )


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "version", "language", "choice", "created_at", "withdrawn_at")
    list_filter = ("kind", "choice", "language")
    readonly_fields = (
        "user",
        "kind",
        "version",
        "language",
        "choice",
        "created_at",
        "withdrawn_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
