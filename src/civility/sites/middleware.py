"""Resolves the site a request belongs to, from its host or its first path segment.

Sets ``request.site``; for a path-prefix site, strips the prefix from ``path_info`` and sets the
script prefix so that ``reverse()`` and ``{% url %}`` include it; activates the site's timezone,
and its interface language when it has one (LocaleMiddleware, which runs next, then keeps it:
the reader's language cookie and Accept-Language header are replaced by the site's language).
A site without an interface language leaves the choice to the reader's browser, as before.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, set_script_prefix
from django.utils import timezone, translation

from civility.sites import current


def request_host(request: HttpRequest) -> str:
    try:
        host = request.get_host()
    except DisallowedHost:  # CommonMiddleware answers 400 later; any site will do till then
        return ""
    if host.startswith("["):  # [IPv6]:port
        return host[1 : host.find("]")] if "]" in host else ""
    return host.rsplit(":", 1)[0] if ":" in host else host


class CurrentSiteMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = current.match(request_host(request), request.path_info)
        site = found.site
        # django-stubs type request.site as django.contrib.sites' Site; ours replaces it.
        request.site = site  # type: ignore[assignment]
        script_prefix = get_script_prefix()
        if found.prefix:
            request.path_info = request.path_info[len(found.prefix) + 1 :] or "/"
            script_name = request.META.get("SCRIPT_NAME", "").rstrip("/") + f"/{found.prefix}"
            request.META["SCRIPT_NAME"] = script_name
            set_script_prefix(script_name + "/")
        previous_language = translation.get_language()
        if site.language:
            request.META["HTTP_ACCEPT_LANGUAGE"] = site.language
            request.COOKIES.pop(settings.LANGUAGE_COOKIE_NAME, None)
            translation.activate(site.language)
        if site.timezone:
            timezone.activate(zoneinfo.ZoneInfo(site.timezone))
        token = current.set_current(site)
        try:
            return self.get_response(request)
        finally:
            current.reset_current(token)
            if site.language:  # what runs after this request keeps its own language
                translation.activate(previous_language)
            if site.timezone:
                timezone.deactivate()
            if found.prefix:
                set_script_prefix(script_prefix)
