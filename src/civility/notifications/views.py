"""Push subscription endpoints, the service worker and the notification settings page."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civility.moderation.permissions import is_moderator
from civility.notifications import services
from civility.notifications.forms import NotificationSettingsForm
from civility.notifications.vapid import application_server_key

SERVICE_WORKER = (
    Path(__file__).resolve().parent.parent / "static" / "notifications" / "service-worker.js"
)


@require_GET
@cache_control(max_age=0, no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, allowed to control the whole site whatever URL serves it."""
    return HttpResponse(
        SERVICE_WORKER.read_bytes(),
        content_type="application/javascript; charset=utf-8",
        headers={"Service-Worker-Allowed": "/"},
    )


@require_GET
def vapid_public_key(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"publicKey": application_server_key()})


def _json_body(request: HttpRequest) -> dict[str, object]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


@require_POST
def subscribe(request: HttpRequest) -> JsonResponse:
    body = _json_body(request)
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    assert isinstance(keys, dict)
    try:
        subscription = services.subscribe(
            user=request.user,
            endpoint=str(body.get("endpoint") or ""),
            p256dh=str(keys.get("p256dh") or ""),
            auth=str(keys.get("auth") or ""),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except services.InvalidSubscription as error:
        return JsonResponse({"error": "invalid_subscription", "detail": str(error)}, status=400)
    return JsonResponse({"id": subscription.pk, "status": "subscribed"}, status=201)


@require_POST
def unsubscribe(request: HttpRequest) -> JsonResponse:
    body = _json_body(request)
    removed = services.unsubscribe(endpoint=str(body.get("endpoint") or ""), user=request.user)
    return JsonResponse({"removed": removed})


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    current = services.settings_for(request.user)
    form = NotificationSettingsForm(
        request.POST or None, instance=current, moderator=is_moderator(request.user)
    )
    if request.method == "POST" and form.is_valid():
        services.update_settings(
            request.user, **{name: form.cleaned_data[name] for name in form.fields}
        )
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notifications:settings")
    subscriptions = request.user.push_subscriptions.all()  # type: ignore[union-attr]
    return render(
        request, "notifications/settings.html", {"form": form, "subscriptions": subscriptions}
    )
