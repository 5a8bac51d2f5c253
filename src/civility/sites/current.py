"""Which site a request, a comment or a background job belongs to.

The list of sites is small and read on every request, so it is kept in the cache as plain
values (saving or deleting a site clears it). The request's site is also kept in a context
variable, for code that runs on behalf of a request but is not handed one (threads created
by the embed, for instance); outside a request that is the default site.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.management.color import no_style
from django.db import IntegrityError, connections, router, transaction

from civility.ops.cache import forget_now_and_at_commit
from civility.sites.models import Site

CACHE_KEY = "civility:sites:v1"
logger = logging.getLogger(__name__)

_current: contextvars.ContextVar[Site | None] = contextvars.ContextVar(
    "civility_current_site", default=None
)


def default_site_id() -> int:
    return int(settings.CIVILITY_DEFAULT_SITE_ID)


def ensure_default_site(using: str = "default") -> Site:
    """The default site, created (with its fixed id) when missing: after the first migration
    and after a test flush, both of which leave the table empty."""
    site = Site.objects.using(using).filter(pk=default_site_id()).first()
    if site is not None:
        return site
    try:
        with transaction.atomic(using=using):
            site = Site.objects.using(using).create(
                pk=default_site_id(), name="Civility", is_default=True
            )
    except IntegrityError:  # created concurrently
        return Site.objects.using(using).get(pk=default_site_id())
    # An explicit id leaves PostgreSQL's sequence behind: the next site would collide.
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), [Site])
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    clear_cache()
    return site


def clear_cache(**_: Any) -> None:
    """Forget the cached sites now and again when the transaction commits (a request that
    read the old rows in between would otherwise cache them for minutes)."""
    forget_now_and_at_commit(CACHE_KEY)


def all_sites() -> list[Site]:
    """Every site, from the cache when it is there (unsaved instances built from plain values).
    A cache outage costs one small query per request, never the request."""
    try:
        rows: list[dict[str, Any]] | None = cache.get(CACHE_KEY)
    except Exception:
        logger.warning("cache unavailable; reading the sites from the database", exc_info=True)
        rows, cache_up = None, False
    else:
        cache_up = True
    if rows is None:
        sites = list(Site.objects.order_by("pk"))
        if not sites:
            sites = [ensure_default_site()]
        rows = [site.as_cached() for site in sites]
        if cache_up:
            try:
                cache.set(CACHE_KEY, rows, settings.CIVILITY_SITES_CACHE_SECONDS)
            except Exception:
                logger.warning("could not cache the list of sites", exc_info=True)
    return [_from_cached(row) for row in rows]


def _from_cached(row: dict[str, Any]) -> Site:
    site = Site(**row)
    site._state.adding = False
    site._state.db = router.db_for_read(Site)
    return site


def default_site() -> Site:
    sites = all_sites()
    for site in sites:
        if site.is_default:
            return site
    for site in sites:
        if site.pk == default_site_id():
            return site
    return sites[0]


def site_by_id(site_id: int | None) -> Site:
    if site_id is None:
        return default_site()
    # The request's own site is at hand (the middleware set it); a post asks for it by id
    # about three times, and each all_sites() is a cache read (Redis in production).
    current = _current.get()
    if current is not None and current.pk == site_id:
        return current
    for site in all_sites():
        if site.pk == site_id:
            return site
    return Site.objects.get(pk=site_id)  # created since the cache was filled


def is_single_site() -> bool:
    return len(all_sites()) == 1


@dataclass(frozen=True)
class Match:
    site: Site
    prefix: str  # "" or the path prefix to strip, without slashes


def match(host: str, path: str) -> Match:
    """The site for a host name (no port) and a path: an exact domain beats any host, a
    matching path prefix beats none; nothing matching means the default site."""
    host = host.lower().rstrip(".")
    best: tuple[int, Site, str] | None = None
    for site in all_sites():
        if site.domain and site.domain != host:
            continue
        prefix = site.path_prefix
        if prefix and not (path == f"/{prefix}" or path.startswith(f"/{prefix}/")):
            continue
        score = (2 if site.domain else 0) + (1 if prefix else 0)
        if best is None or score > best[0]:
            best = (score, site, prefix)
    if best is None:
        return Match(default_site(), "")
    return Match(best[1], best[2])


def set_current(site: Site | None) -> contextvars.Token[Site | None]:
    return _current.set(site)


def reset_current(token: contextvars.Token[Site | None]) -> None:
    _current.reset(token)


def current_site() -> Site:
    """The site of the request being served, or the default site outside a request."""
    site = _current.get()
    return site if site is not None else default_site()
