"""Sites: language versions of one installation, each with its host or path prefix, interface
language, majority languages (rule 20), moderators, policy and timezone."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

_PREFIX = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def validate_language_codes(value: str) -> None:
    for code in split_codes(value):
        if not _LANGUAGE_CODE.fullmatch(code):
            raise ValidationError(
                _("%(code)s is not an ISO 639-1 code such as 'en'."), params={"code": code}
            )


def validate_timezone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown timezone: %(name)s."), params={"name": value})


def validate_prefix(value: str) -> None:
    if value and not _PREFIX.fullmatch(value):
        raise ValidationError(
            _("A path prefix is lower-case letters, digits and hyphens, such as 'ru'.")
        )


def default_site_pk() -> int:
    """Default of every ``site`` foreign key: the default site (no query)."""
    return int(settings.CIVILITY_DEFAULT_SITE_ID)


def split_codes(value: str) -> list[str]:
    return [code.strip().lower() for code in value.replace(";", ",").split(",") if code.strip()]


class Site(models.Model):
    """One language version. Blank fields fall back to the installation's settings, which is
    how the single default site keeps behaving exactly as the product did before sites."""

    name = models.CharField(_("name"), max_length=120)
    domain = models.CharField(
        _("domain"),
        max_length=253,
        blank=True,
        help_text=_("Host name this site answers on, e.g. ru.example.org; blank: any host."),
    )
    path_prefix = models.CharField(
        _("path prefix"),
        max_length=32,
        blank=True,
        validators=[validate_prefix],
        help_text=_("First path segment of this site, e.g. 'ru' for /ru/…; blank: none."),
    )
    language = models.CharField(
        _("interface language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Blank: each reader's browser chooses among the shipped languages."),
    )
    majority_languages = models.CharField(
        _("majority languages"),
        max_length=100,
        blank=True,
        validators=[validate_language_codes],
        help_text=_(
            "Comma-separated ISO codes of the languages comments may be written in (rule 20); "
            "blank: the CIVILITY_SITE_LANGUAGES setting."
        ),
    )
    timezone = models.CharField(
        _("timezone"),
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text=_("e.g. Europe/Moscow; blank: the TIME_ZONE setting."),
    )
    close_comments_after_days = models.PositiveIntegerField(
        _("close comments after (days)"),
        default=0,
        help_text=_(
            "Comments close this many days after an article's publication (an embedded "
            "thread's first view); 0: never."
        ),
    )
    review_first_comments = models.PositiveIntegerField(
        _("review a new commenter's first comments"),
        default=0,
        help_text=_(
            "A moderator reviews each commenter's comments, even those the engine would "
            "publish, until this many of them are published; 0: never."
        ),
    )
    premoderate_links = models.BooleanField(
        _("review comments with links"),
        default=False,
        help_text=_(
            "A moderator reviews every comment with a link (https://…, www.… or a bare "
            "example.com) before readers see it, even one the engine would publish."
        ),
    )
    is_default = models.BooleanField(
        _("default site"),
        default=False,
        help_text=_("Answers every request that no other site claims."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.UniqueConstraint(fields=["domain", "path_prefix"], name="site_address_unique"),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_site"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude: Any = None) -> None:
        # Normalised before the validators run: "/RU/" is the prefix "ru".
        self.domain = self.domain.strip().lower().rstrip(".")
        self.path_prefix = self.path_prefix.strip().strip("/").lower()
        self.majority_languages = ", ".join(split_codes(self.majority_languages))
        super().clean_fields(exclude=exclude)

    @property
    def language_codes(self) -> tuple[str, ...]:
        """The languages comments are expected in (rule 20)."""
        return tuple(split_codes(self.majority_languages) or settings.SITE_LANGUAGES)

    @property
    def timezone_name(self) -> str:
        return self.timezone or str(settings.TIME_ZONE)

    def as_cached(self) -> dict[str, Any]:
        return {
            "pk": self.pk,
            "name": self.name,
            "domain": self.domain,
            "path_prefix": self.path_prefix,
            "language": self.language,
            "majority_languages": self.majority_languages,
            "timezone": self.timezone,
            "close_comments_after_days": self.close_comments_after_days,
            "review_first_comments": self.review_first_comments,
            "premoderate_links": self.premoderate_links,
            "is_default": self.is_default,
        }


class ModeratorGrant(models.Model):
    """A user may moderate one site, or every site (``site`` empty).

    Staff and members of the "moderators" group moderate every site without a grant, as
    they did before sites existed.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="moderator_grants",
        verbose_name=_("user"),
    )
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="moderator_grants",
        verbose_name=_("site"),
        help_text=_("Blank: every site."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("granted by"),
    )

    class Meta:
        verbose_name = _("moderator grant")
        verbose_name_plural = _("moderator grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="one_grant_per_user_and_site"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(site__isnull=True), name="one_all_sites_grant"
            ),
        ]

    def __str__(self) -> str:
        where = self.site.name if self.site_id and self.site else _("every site")
        return f"{self.user} moderates {where}"
