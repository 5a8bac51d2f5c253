"""/.well-known/security.txt (RFC 9116) and the CSP violation report endpoint."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

logger = logging.getLogger("civility.security.csp")
# Browsers send small reports; anything bigger is not a report.
MAX_REPORT_BYTES = 16 * 1024


def security_contact() -> str:
    contact = str(getattr(settings, "CIVILITY_SECURITY_CONTACT", "") or "")
    if contact:
        return contact if ":" in contact else f"mailto:{contact}"
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"mailto:security@{host}"


@require_GET
@cache_control(public=True, max_age=86400)
def security_txt(request: HttpRequest) -> HttpResponse:
    site = settings.SITE_URL.rstrip("/")
    expires = timezone.now() + timedelta(days=int(settings.CIVILITY_SECURITY_TXT_VALID_DAYS))
    lines = [
        f"Contact: {security_contact()}",
        f"Expires: {expires.replace(microsecond=0).isoformat().replace('+00:00', 'Z')}",
        "Preferred-Languages: en, ru",
        f"Canonical: {site}/.well-known/security.txt",
    ]
    policy = str(getattr(settings, "CIVILITY_SECURITY_POLICY_URL", "") or "")
    if policy:
        lines.append(f"Policy: {policy if '://' in policy else site + policy}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@csrf_exempt  # browsers post reports without cookies or tokens; nothing changes state
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log a CSP violation report (``application/csp-report`` or Reporting API JSON)."""
    body = request.body[:MAX_REPORT_BYTES]
    try:
        report = json.loads(body or b"{}")
    except ValueError:
        return HttpResponse(status=400)
    entries = report if isinstance(report, list) else [report]
    for entry in entries[:10]:
        if not isinstance(entry, dict):
            continue
        details = entry.get("csp-report") or entry.get("body") or entry
        if not isinstance(details, dict):
            continue
        logger.warning(
            "CSP violation: %s blocked %s on %s",
            str(details.get("effective-directive") or details.get("effectiveDirective", ""))[:80],
            str(details.get("blocked-uri") or details.get("blockedURL", ""))[:200],
            str(details.get("document-uri") or details.get("documentURL", ""))[:200],
        )
    return HttpResponse(status=204)


@require_http_methods(["GET", "POST"])
def reveal_personal_data(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff only: a user's e-mail and hashed addresses, with a reason that is audit-logged."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import get_object_or_404, render

    from civility.security.services import RevealRefused
    from civility.security.services import reveal_personal_data as reveal

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_staff:
        raise PermissionDenied(_("Staff only."))
    subject = get_object_or_404(get_user_model(), pk=pk)
    context: dict[str, object] = {"subject": subject, "reason": request.POST.get("reason", "")}
    status = 200
    if request.method == "POST":
        try:
            context["revealed"] = reveal(subject, by=request.user, reason=str(context["reason"]))
        except RevealRefused as error:
            context["error"] = str(error)
            status = 400
    response = render(request, "security/reveal.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response
