"""The outermost middleware: request metrics, the read cache, and 503 while the database is down.

MetricsMiddleware is first in MIDDLEWARE, so it times everything the site does for a request,
including the read cache it wraps around the rest of the chain.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from civility.ops import metrics
from civility.ops.readcache import ROUTE_ATTRIBUTE, ReadCache

DATABASE_DOWN_ATTRIBUTE = "_civility_database_unavailable"


@receiver(got_request_exception, dispatch_uid="civility.ops.database_down")
def _note_database_errors(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Django turns the exception into a 500 before the outer middleware sees it; the signal is
    # sent while the exception is being handled, so it is still in sys.exc_info().
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, (OperationalError, InterfaceError)):
        setattr(request, DATABASE_DOWN_ATTRIBUTE, True)


def database_unavailable_response() -> HttpResponse:
    response = HttpResponse(
        "The service is briefly unavailable. Please try again in a few seconds.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(settings.CIVILITY_RETRY_AFTER_SECONDS)
    return response


def route_of(request: HttpRequest) -> str:
    cached_route = getattr(request, ROUTE_ATTRIBUTE, "")
    if cached_route:
        return str(cached_route)
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + str(match.route or match.view_name or "unknown").lstrip("^").rstrip("$")


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = ReadCache(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        if getattr(request, DATABASE_DOWN_ATTRIBUTE, False) and response.status_code >= 500:
            # A request that failed because PostgreSQL restarted wrote nothing (each service
            # runs in one transaction): tell the client to retry rather than show an error.
            metrics.count_database_unavailable()
            response = database_unavailable_response()
        route = route_of(request)
        metrics.observe_request(
            request.method or "", route, response.status_code, time.perf_counter() - started
        )
        return response
