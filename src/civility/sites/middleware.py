"""Resolves the site a request belongs to (filled in by the sites work, issue 8)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class CurrentSiteMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
