"""Pages for readers: the blocked notice, the unlock request form, contacting the moderators."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civility.accounts.forms import CaptchaField
from civility.discussion import ratelimit
from civility.discussion.errors import DiscussionError, RateLimited
from civility.discussion.models import Comment
from civility.discussion.rendering import render_comment_html
from civility.moderation import services
from civility.moderation.models import Appeal, ReviewRequest
from civility.moderation.selectors import is_blocked, unlock_refusal_reason
from civility.standards.rules import rule_label_or


class AnonymousCaptchaForm(forms.Form):
    """The ALTCHA check an anonymous visitor solves before a public form is accepted. Signed-in
    readers skip it: their account already went through the sign-up captcha."""

    altcha = CaptchaField()


class CaptchaRefused(DiscussionError):
    """The anonymous visitor did not solve the captcha (or replayed a solution)."""


def check_captcha(request: HttpRequest) -> None:
    """Raise :class:`CaptchaRefused` when an anonymous POST lacks a fresh captcha solution."""
    if request.user.is_authenticated:
        return
    form = AnonymousCaptchaForm(request.POST)
    if not form.is_valid():
        raise CaptchaRefused(" ".join(str(e) for e in form.errors.get("altcha", [])))


def captcha_context(request: HttpRequest) -> dict[str, object]:
    return {} if request.user.is_authenticated else {"captcha_form": AnonymousCaptchaForm()}


def refusal_page(
    request: HttpRequest, template: str, context: dict[str, object], error: DiscussionError
) -> HttpResponse:
    response = render(
        request, template, {**context, "error": error.message}, status=error.status_code
    )
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


def blocked(request: HttpRequest) -> HttpResponse:
    return render(request, "moderation/public/blocked.html", {"blocked": is_blocked(request.user)})


@require_http_methods(["GET", "POST"])
def unlock_request(request: HttpRequest) -> HttpResponse:
    """The unlock request: fixed subject, user id (pre-filled when signed in), explanation."""
    signed_in = request.user.is_authenticated
    refusal = unlock_refusal_reason(request.user) if signed_in else ""
    context = {
        "subject": Appeal.SUBJECT,
        "user_id": str(request.user.pk) if signed_in else request.POST.get("user_id", ""),
        "explanation": request.POST.get("explanation", ""),
        "email": request.POST.get("email", ""),
        "min_length": settings.CIVILITY_UNLOCK_MIN_EXPLANATION,
        "refusal": refusal,
        "signed_in": signed_in,
        **captcha_context(request),
    }
    if request.method == "POST" and not refusal:
        try:
            # The limit counts before the captcha, so unsolved attempts use the budget up too.
            ratelimit.hit("unlock", user=request.user, ip=ratelimit.client_ip(request))
            check_captcha(request)
            appeal = services.submit_unlock_request(
                claimed_user_id=request.POST.get("user_id", ""),
                explanation=request.POST.get("explanation", ""),
                signed_in_user=request.user if signed_in else None,
                email=request.POST.get("email", "").strip(),
            )
        except DiscussionError as exc:
            return refusal_page(request, "moderation/public/unlock.html", context, exc)
        return render(request, "moderation/public/unlock_sent.html", {"appeal": appeal})
    status = 403 if (refusal and request.method == "POST") else 200
    return render(request, "moderation/public/unlock.html", context, status=status)


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    fields = {
        "subject": request.POST.get("subject", ""),
        "body": request.POST.get("body", ""),
        "name": request.POST.get("name", ""),
        "email": request.POST.get("email", ""),
    }
    context = {**fields, **captcha_context(request)}
    if request.method == "POST":
        try:
            ratelimit.hit("contact", user=request.user, ip=ratelimit.client_ip(request))
            check_captcha(request)
            services.send_contact_message(
                subject=fields["subject"],
                body=fields["body"],
                user=request.user,
                name=fields["name"],
                email=fields["email"],
            )
        except DiscussionError as exc:
            return refusal_page(request, "moderation/public/contact.html", context, exc)
        return render(request, "moderation/public/contact_sent.html")
    return render(request, "moderation/public/contact.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def request_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The author of a removed comment asks a moderator to look at the removal again."""
    comment = get_object_or_404(
        Comment.objects.select_related("thread").exclude(purged=True), pk=pk, author=request.user
    )
    review = ReviewRequest.objects.filter(comment=comment).first()
    context = {
        "comment": comment,
        "comment_html": render_comment_html(comment.text, comment.evidence),
        "rule_label": rule_label_or(comment.rule, ""),
        "review": review,
        "refusal": "" if review else services.review_refusal_reason(comment, request.user),
        "explanation": request.POST.get("explanation", ""),
        "min_length": settings.CIVILITY_REVIEW_MIN_EXPLANATION,
        "max_length": settings.CIVILITY_REVIEW_MAX_EXPLANATION,
    }
    if request.method == "POST":
        if review is not None or context["refusal"]:
            return render(request, "moderation/public/review_request.html", context, status=409)
        try:
            ratelimit.hit("review", user=request.user, ip=ratelimit.client_ip(request))
            services.request_review(
                comment, user=request.user, explanation=request.POST.get("explanation", "")
            )
        except DiscussionError as exc:
            return refusal_page(request, "moderation/public/review_request.html", context, exc)
        messages.success(
            request,
            _(
                "Your request was sent. A moderator will review the removal and e-mail you the outcome."
            ),
        )
        return redirect(reverse("discussion:my_comments") + f"#my-comment-{comment.pk}")
    return render(request, "moderation/public/review_request.html", context)
