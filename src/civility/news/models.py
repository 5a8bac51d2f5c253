"""Models of the news app: the articles that comments hang on, and their tags.

An article's body is stored sanitised (nh3) and its plain text is kept beside it in
``body_text`` so both search engines index words, not markup.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from civility.news.html import html_to_text, sanitize_body
from civility.sites.models import default_site_pk

# Short codes avoid look-alike characters (0/o, 1/l/i) so they can be read aloud or retyped.
SHORT_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
SHORT_CODE_LENGTH = 6


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


class Tag(models.Model):
    slug = models.SlugField(_("slug"), max_length=80, unique=True, allow_unicode=True)
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.slug:
            self.slug = slugify(self.name, allow_unicode=True)[:80] or new_short_code()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("news:tag", kwargs={"slug": self.slug})


class ArticleQuerySet(models.QuerySet["Article"]):
    def published(self, now: datetime.datetime | None = None) -> ArticleQuerySet:
        """Articles whose publication time has come (by ``now``, default the clock);
        scheduled ones stay hidden."""
        return self.filter(published_at__lte=now if now is not None else timezone.now())


class Article(models.Model):
    site = models.ForeignKey(
        "civility_sites.Site",
        on_delete=models.PROTECT,
        default=default_site_pk,
        related_name="articles",
        verbose_name=_("site"),
        db_index=False,  # article_site_published starts with it
    )
    slug = models.SlugField(_("slug"), max_length=200, unique=True, allow_unicode=True)
    headline = models.CharField(_("headline"), max_length=300)
    dateline = models.CharField(
        _("dateline"),
        max_length=120,
        blank=True,
        help_text=_("Where the story was filed, e.g. 'Tokyo'."),
    )
    lead = models.TextField(
        _("lead"), blank=True, help_text=_("One or two sentences shown under the headline.")
    )
    body = models.TextField(_("body"), help_text=_("HTML; sanitised on save."))
    body_text = models.TextField(_("body as plain text"), blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    image = models.ImageField(_("image"), upload_to="articles/%Y/%m/", blank=True)
    image_alt = models.CharField(_("image description"), max_length=300, blank=True)
    image_credit = models.CharField(_("image credit"), max_length=200, blank=True)
    tags = models.ManyToManyField(Tag, related_name="articles", blank=True, verbose_name=_("tags"))
    short_code = models.CharField(_("short code"), max_length=16, unique=True, editable=False)
    source_id = models.CharField(
        _("source id"),
        max_length=500,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Source URL or feed guid of an imported article; re-imports update it."),
    )
    share_count = models.PositiveIntegerField(_("shares"), default=0)
    breaking = models.BooleanField(
        _("breaking news"),
        default=False,
        help_text=_("Readers who accepted push notifications are alerted."),
    )
    recommended = models.BooleanField(
        _("recommended by the editors"),
        default=False,
        help_text=_("Listed under Recommended, newest first."),
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["site", "published_at"], name="article_site_published"),
            # The Recommended listing reads only the recommended articles.
            models.Index(
                fields=["site", "-published_at"],
                condition=Q(recommended=True),
                name="article_site_recommended",
            ),
        ]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.headline

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.body = sanitize_body(self.body)
        self.body_text = html_to_text(self.body)
        if not self.slug:
            self.slug = slugify(self.headline, allow_unicode=True)[:200] or new_short_code()
        if self.source_id == "":
            self.source_id = None
        if self.short_code:
            super().save(*args, **kwargs)
            return
        # A collision among 31**6 codes is rare but possible: retry with a fresh code.
        for attempt in range(5):
            self.short_code = new_short_code()
            try:
                with transaction.atomic():
                    super().save(*args, **kwargs)
                return
            except IntegrityError:
                if (
                    attempt == 4
                    or type(self).objects.filter(short_code=self.short_code).count() == 0
                ):
                    raise

    def get_absolute_url(self) -> str:
        return reverse("news:article", kwargs={"slug": self.slug})

    def get_short_url(self) -> str:
        return reverse("news:short", kwargs={"code": self.short_code})
