"""Language versions: several sites (domain or path prefix, language, policy) in one install."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _ensure_default_site(using: str = "default", **_: Any) -> None:
    from civility.sites.current import ensure_default_site

    ensure_default_site(using)


class SitesConfig(AppConfig):
    name = "civility.sites"
    # django.contrib.sites (which allauth needs) already holds the label "sites".
    label = "civility_sites"
    verbose_name = _("Sites and language versions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from civility.sites.current import clear_cache
        from civility.sites.models import Site

        # A flush (TransactionTestCase) empties the table and then sends post_migrate.
        post_migrate.connect(_ensure_default_site, sender=self)
        post_save.connect(clear_cache, sender=Site, dispatch_uid="civility.sites.saved")
        post_delete.connect(clear_cache, sender=Site, dispatch_uid="civility.sites.deleted")
