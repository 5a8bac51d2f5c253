"""Security headers and the write limiter, for every response the site sends.

It sits right after Django's SecurityMiddleware (which adds HSTS, nosniff, COOP, the referrer
policy and the HTTPS redirect) and adds what Django does not:

* Content-Security-Policy from ``settings.SECURE_CSP``. A view that sets its own CSP header
  keeps its directives (the embed frame sets ``frame-ancestors`` to the embedding origins);
  every directive it does not name is added from the site policy, so no page goes out
  without ``script-src 'self'``.
* Permissions-Policy.
* A write budget per user, per API token and per IP address on every unsafe request
  (``settings.CIVILITY_WRITE_LIMITS``), answered with 429 and Retry-After before the view runs.
* Retry-After on any other 429 that lacks it (views that refuse with their own limits).
* 404 instead of a server error for a social sign-in provider the site has not configured
  (allauth raises ``SocialApp.DoesNotExist`` from every URL of such a provider).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from civility.discussion import ratelimit
from civility.security.privacy import pseudonymise_ip

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP_HEADER = "Content-Security-Policy"
# "please wait 42 seconds" in the refusals of discussion/ratelimit.py.
WAIT_SECONDS = re.compile(rb"wait (\d+) seconds")
DEFAULT_RETRY_AFTER_SECONDS = 60


def parse_policy(header: str) -> dict[str, str]:
    """``"a x y; b z"`` -> ``{"a": "x y", "b": "z"}`` (directive names lower-cased)."""
    directives: dict[str, str] = {}
    for part in header.split(";"):
        name, _space, value = part.strip().partition(" ")
        if name:
            directives.setdefault(name.lower(), value.strip())
    return directives


def render_policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


def site_policy() -> dict[str, str]:
    """The site-wide CSP as directive -> value, with the social providers' origins added."""
    configured: dict[str, Any] = dict(getattr(settings, "SECURE_CSP", {}) or {})
    form_action = list(configured.get("form-action") or [])
    origins: dict[str, list[str]] = getattr(settings, "CIVILITY_SOCIAL_FORM_ACTION_ORIGINS", {})
    for provider in getattr(settings, "SOCIALACCOUNT_PROVIDERS", {}) or {}:
        form_action += [o for o in origins.get(provider, []) if o not in form_action]
    if form_action:
        configured["form-action"] = form_action
    directives: dict[str, str] = {}
    for name, values in configured.items():
        if values in (None, False):
            continue
        if values is True:
            directives[name] = ""
        elif isinstance(values, str):
            directives[name] = values
        else:
            directives[name] = " ".join(values)
    return directives


def merged_policy(view_header: str | None, base: dict[str, str]) -> str:
    """The view's own directives win; every other directive comes from the site policy."""
    directives = parse_policy(view_header) if view_header else {}
    for name, value in base.items():
        directives.setdefault(name, value)
    return render_policy(directives)


# --- Write limits -----------------------------------------------------------------------------


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/60"`` -> (10 requests, per 60 seconds)."""
    count, _slash, seconds = rate.partition("/")
    return int(count), int(seconds or 60)


def budget_for(view_name: str) -> tuple[str, str] | None:
    """The first (pattern, rate) in CIVILITY_WRITE_LIMITS whose pattern matches the view."""
    for pattern, rate in getattr(settings, "CIVILITY_WRITE_LIMITS", []):
        if fnmatch.fnmatchcase(view_name, pattern):
            return pattern, rate
    return None


def request_identities(request: HttpRequest) -> list[str]:
    """Who is writing: the signed-in user, the API token, and always the (hashed) IP address."""
    identities: list[str] = []
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        identities.append(f"user:{user.pk}")
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()[:32]
        identities.append(f"token:{digest}")
    identities.append(f"ip:{pseudonymise_ip(request.META.get('REMOTE_ADDR') or '')}")
    return identities


def consume(pattern: str, rate: str, identities: list[str]) -> int:
    """Count one request for each identity; return the seconds to wait when any is over."""
    limit, window = parse_rate(rate)
    now = ratelimit.clock()
    bucket = int(now // window)
    retry_after = 0
    for identity in identities:
        key = f"security:write:{pattern}:{identity}:{bucket}"
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=window + 5)
            count = 1
        if count > limit:
            retry_after = max(retry_after, max(1, window - int(now) % window))
    return retry_after


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    message = _("Too many requests; please wait %(seconds)d seconds.") % {"seconds": retry_after}
    wants_json = request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )
    response: HttpResponse
    if wants_json:
        response = JsonResponse({"detail": message, "message": message, "ok": False}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


def credential_key(request: HttpRequest, view_name: str) -> str:
    """The cache key counting failed sign-ins for the account a request names ('' if none)."""
    field = getattr(settings, "CIVILITY_CREDENTIAL_ROUTES", {}).get(view_name)
    if not field or request.method != "POST":
        return ""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        body: Any = request.POST
    else:
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return ""
    account = str(body.get(field, "")).strip().lower() if hasattr(body, "get") else ""
    if not account:
        return ""
    digest = hashlib.sha256(f"{view_name}:{account}".encode()).hexdigest()[:32]
    return f"security:credential-failures:{digest}"


def credential_lockout(key: str) -> int:
    """Seconds until the account may try again, or 0."""
    limit, window = parse_rate(getattr(settings, "CIVILITY_CREDENTIAL_FAILURES", "5/300"))
    failures = cache.get(key) or []
    now = time.time()
    recent = [t for t in failures if now - t < window]
    if len(recent) < limit:
        return 0
    return max(1, int(window - (now - min(recent))))


def credential_failed(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether a sign-in was refused: 401 from the API, or a sign-in form shown again (a form
    that accepts the password redirects)."""
    if response.status_code == 401:
        return True
    is_form = request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
    return is_form and response.status_code == 200


def record_credential_failure(key: str) -> None:
    _limit, window = parse_rate(getattr(settings, "CIVILITY_CREDENTIAL_FAILURES", "5/300"))
    now = time.time()
    failures = [t for t in (cache.get(key) or []) if now - t < window]
    cache.set(key, [*failures, now][-50:], timeout=window)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = ratelimit.last_retry_after.set(None)
        try:
            response = self.get_response(request)
            view_retry_after = ratelimit.last_retry_after.get()
        finally:
            ratelimit.last_retry_after.reset(token)
        key = getattr(request, "_civility_credential_key", "")
        if key and credential_failed(request, response):
            record_credential_failure(key)
        self.add_headers(request, response, view_retry_after)
        return response

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponse],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        """Runs after authentication (all request middleware), before the view."""
        if request.method not in UNSAFE_METHODS or not getattr(
            settings, "CIVILITY_WRITE_LIMITS_ENABLED", True
        ):
            return None
        match = request.resolver_match
        view_name = (match.view_name if match else "") or request.path
        key = credential_key(request, view_name)
        if key:
            request._civility_credential_key = key  # type: ignore[attr-defined]
            locked_for = credential_lockout(key)
            if locked_for:
                return too_many_requests(request, locked_for)
        budget = budget_for(view_name)
        if budget is None:
            return None
        retry_after = consume(*budget, request_identities(request))
        return too_many_requests(request, retry_after) if retry_after else None

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        from allauth.socialaccount.models import SocialApp

        if isinstance(exception, SocialApp.DoesNotExist):
            raise Http404(_("This sign-in provider is not offered here.")) from exception

    def add_headers(
        self, request: HttpRequest, response: HttpResponse, view_retry_after: int | None = None
    ) -> None:
        policy = site_policy()
        if policy:
            response[CSP_HEADER] = merged_policy(response.get(CSP_HEADER), policy)
        permissions = getattr(settings, "CIVILITY_PERMISSIONS_POLICY", "")
        if permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions
        if response.status_code == 429 and "Retry-After" not in response:
            # A view that caught RateLimited and showed its message: the limiter's own figure,
            # else the wait the message names (English), else a minute.
            response["Retry-After"] = str(view_retry_after or retry_after_from_body(response))


def retry_after_from_body(response: HttpResponse) -> int:
    """The wait a view's own refusal names, else a minute."""
    if getattr(response, "streaming", False):
        return DEFAULT_RETRY_AFTER_SECONDS
    found = WAIT_SECONDS.search(response.content)
    return int(found.group(1)) if found else DEFAULT_RETRY_AFTER_SECONDS
