"""The privacy-policy re-consent interstitial (GDPR).

After an editor publishes a new privacy-policy version, a signed-in user who has not agreed to
it meets the consent page before anything else. API calls get a 403 that names the reason.
A few paths stay open: the consent page itself, the policy it links to, signing out, deleting
the account (what refusing leads to) and reauthenticating for it, the data download (a right
that does not depend on consent), static files and the admin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext

from civility.accounts.selectors import needs_privacy_consent

API_PREFIXES = ("/api/",)


def _open_prefixes() -> tuple[str, ...]:
    return (
        reverse("accounts:consent"),
        reverse("accounts:privacy"),
        reverse("accounts:standards"),
        reverse("accounts:delete"),
        reverse("accounts:deleted"),
        reverse("accounts:my_data"),
        reverse("account_logout"),
        reverse("account_reauthenticate"),
        "/privacy/",
        "/standards/",
        "/static/",
        "/media/",
        "/admin/",
        "/service-worker.js",
        "/notifications/service-worker.js",
        "/favicon.ico",
    )


def _bearer_token_user(request: HttpRequest) -> Any:
    """The user behind an API bearer token (the API authenticates after middleware runs)."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    try:
        from civility.discussion.services import user_for_request_token
    except ImportError:
        return None
    # Remembered on the request: the API's authentication asks for the same token.
    return user_for_request_token(request, header[7:].strip())


class ConsentMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is None or not user.is_authenticated) and request.path.startswith(API_PREFIXES):
            user = _bearer_token_user(request)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        if self._open is None:
            self._open = _open_prefixes()
        if request.path.startswith(self._open):
            return self.get_response(request)
        policy = needs_privacy_consent(user, getattr(request, "session", None))
        if policy is None:
            return self.get_response(request)
        if request.path.startswith(API_PREFIXES) or request.headers.get("Accept", "").startswith(
            "application/json"
        ):
            return JsonResponse(
                {
                    "error": "privacy_consent_required",
                    "detail": gettext(
                        "Privacy policy version %(version)s was published. Agree to it at "
                        "%(url)s before using the API."
                    )
                    % {"version": policy.version, "url": reverse("accounts:consent")},
                    "policy_version": policy.version,
                    "policy_language": policy.language,
                },
                status=403,
            )
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('accounts:consent')}?{query}")
