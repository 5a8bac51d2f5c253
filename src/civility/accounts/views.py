"""Account pages. Views validate input and call services (design.md: thin views)."""

from __future__ import annotations

import json

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from civility.accounts import captcha, legal, selectors, services
from civility.accounts.forms import DeleteAccountForm, DisplayNameForm, PrivacyConsentForm
from civility.accounts.models import PrivacyPolicyVersion, User
from civility.accounts.tokens import InvalidRestoreToken, user_for_restore_token


@never_cache
@require_GET
def captcha_challenge(request: HttpRequest) -> JsonResponse:
    return JsonResponse(captcha.new_challenge())


@require_GET
def standards(request: HttpRequest) -> HttpResponse:
    text = legal.standards_text()
    return render(
        request,
        "accounts/standards.html",
        {
            "standards": text,
            "rules": text.rules,
            "version": selectors.standards_version(text.language),
        },
    )


@require_GET
def choose_language(request: HttpRequest) -> HttpResponse:
    """The interface languages, each a button that posts to Django's set_language view."""
    site = getattr(request, "site", None)
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    return render(
        request,
        "accounts/language.html",
        {"next": next_url or "/", "site_language": getattr(site, "language", "") or ""},
    )


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy policy in force in the reader's language (English where it has none).

    ``?version=…&language=…`` shows an earlier published version; the list of versions is
    that language's own history.
    """
    published = PrivacyPolicyVersion.objects.published()
    requested = request.GET.get("version")
    if requested:
        language = request.GET.get("language") or selectors.privacy_language()
        policy = published.filter(version=requested, language=language).first()
        if policy is None:
            raise Http404("no such privacy policy version")
    else:
        policy = selectors.active_privacy_policy()
    versions = published.filter(language=policy.language) if policy else published.none()
    return render(
        request,
        "accounts/privacy.html",
        {
            "policy": policy,
            "shipped": None if policy else legal.shipped_privacy_text(),
            "versions": versions.order_by("-published_at"),
        },
    )


@login_required
@require_GET
def account_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html", {"verified": selectors.is_verified(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def display_name(request: HttpRequest) -> HttpResponse:
    """Change the name shown next to one's comments (at most once in a while)."""
    user = request.user
    assert isinstance(user, User)
    form = DisplayNameForm(
        request.POST if request.method == "POST" else None,
        initial={"display_name": user.display_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_display_name(user, form.cleaned_data["display_name"])
        except services.DisplayNameRefused as exc:
            form.add_error("display_name", str(exc))
        else:
            messages.success(
                request, _("Your display name is now %(name)s.") % {"name": user.display_name}
            )
            return redirect("accounts:home")
    return render(
        request,
        "accounts/display_name.html",
        {
            "form": form,
            "next_change": services.next_display_name_change(user),
            "days": settings.CIVILITY_DISPLAY_NAME_CHANGE_DAYS,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@reauthentication_required(allow_get=True)
def delete_account(request: HttpRequest) -> HttpResponse:
    """ "Are you sure?" (GET), then reauthentication, then deletion (POST)."""
    form = DeleteAccountForm(request.POST if request.method == "POST" else None)
    reason = request.GET.get("reason", "") or request.POST.get("reason", "")
    if request.method == "POST" and form.is_valid():
        user = request.user
        assert isinstance(user, User)
        services.delete_account(user, reason=reason or "self")
        email = user.email
        logout(request)
        request.session["civility_deleted_email"] = email
        return redirect("accounts:deleted")
    return render(request, "accounts/delete.html", {"form": form, "reason": reason})


@require_GET
def account_deleted(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/deleted.html",
        {
            "email": request.session.get("civility_deleted_email", ""),
            "restore_days": settings.CIVILITY_ACCOUNT_RESTORE_DAYS,
        },
    )


@require_http_methods(["GET", "POST"])
def restore_account(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the deletion mail: a button (GET must not change state; mail scanners)."""
    try:
        user = user_for_restore_token(token)
    except InvalidRestoreToken as error:
        return render(request, "accounts/restore_invalid.html", {"reason": str(error)}, status=400)
    if request.method == "POST":
        services.restore_account(user)
        messages.success(request, _("Your account is back. Welcome back! Please sign in."))
        return redirect("account_login")
    return render(request, "accounts/restore.html", {"restored_user": user})


@login_required
@require_http_methods(["GET", "POST"])
def privacy_consent(request: HttpRequest) -> HttpResponse:
    """The interstitial shown after a new privacy policy is published."""
    user = request.user
    assert isinstance(user, User)
    policy = selectors.needs_privacy_consent(user)
    next_url = request.GET.get("next") or request.POST.get("next") or "/"
    if policy is None:
        return redirect(
            next_url if next_url.startswith("/") and not next_url.startswith("//") else "/"
        )
    form = PrivacyConsentForm(request.POST if request.method == "POST" else None)
    # The answer counts for the text on the page the user read: if another version came into
    # force meanwhile (or the language changed), they read the new one first.
    if request.method == "POST" and request.POST.get("policy") != str(policy.pk):
        form = PrivacyConsentForm()
        messages.info(request, _("The privacy policy shown to you has changed. Please read it."))
    elif request.method == "POST":
        if request.POST.get("decision") == "refuse":
            services.refuse_privacy_policy(user, policy)
            return redirect(f"{_url('accounts:delete')}?reason=consent")
        if form.is_valid() and form.cleaned_data["agree"]:
            services.agree_to_privacy_policy(user, policy)
            return redirect(
                next_url if next_url.startswith("/") and not next_url.startswith("//") else "/"
            )
        form.add_error("agree", _("Tick the box to agree, or choose “I do not agree”."))
    return render(
        request, "accounts/consent.html", {"form": form, "policy": policy, "next": next_url}
    )


@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    data = services.export_user_data(user)
    pretty = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    return render(request, "accounts/my_data.html", {"data": data, "pretty": pretty})


@login_required
@never_cache
@require_GET
def download_my_data(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    key = f"civility:data-export:{user.pk}"
    if not cache.add(key, 1, timeout=settings.CIVILITY_DATA_EXPORT_INTERVAL_SECONDS):
        return HttpResponse(
            _("You downloaded your data a moment ago. Please wait a minute and try again."),
            status=429,
            content_type="text/plain; charset=utf-8",
            headers={"Retry-After": str(settings.CIVILITY_DATA_EXPORT_INTERVAL_SECONDS)},
        )
    body = json.dumps(
        services.export_user_data(user), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False
    )
    filename = f"civility-my-data-{timezone.now():%Y%m%d}.json"
    return HttpResponse(
        body,
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)
