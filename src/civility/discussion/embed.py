"""Embedding a thread on another site: /embed.js and the framed thread page.

The host page loads ``<script src="https://civility.example/embed.js" async></script>`` and a
``<div id="civility-comments"></div>``. The script frames /embed/thread?url=<canonical URL>;
the thread is keyed by the page's canonical URL and created on first view, but only for
origins the operator allows (CIVILITY_EMBED_ORIGINS).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_POST

from civility.discussion import ratelimit, services
from civility.discussion.errors import DiscussionError
from civility.discussion.models import Thread
from civility.discussion.selectors import published_counts_by_url, reportable_comments
from civility.discussion.views import section_context


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins() -> list[str]:
    return [o.rstrip("/").lower() for o in settings.CIVILITY_EMBED_ORIGINS]


def canonicalise(url: str) -> str:
    """Drop the fragment; keep the query (some sites key articles by it)."""
    parts = urlsplit(url.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def _frame_headers(response: HttpResponse) -> HttpResponse:
    ancestors = " ".join(allowed_origins()) or "'none'"
    response["Content-Security-Policy"] = f"frame-ancestors 'self' {ancestors}"
    return response


@require_GET
def embed_js(request: HttpRequest) -> HttpResponse:
    body = render_to_string(
        "discussion/embed.js", {"base_url": request.build_absolute_uri("/").rstrip("/")}
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# One request of count.js asks for at most this many pages (a listing's worth).
MAX_COUNT_URLS = 50
COUNTS_MAX_AGE_SECONDS = 60


@require_GET
def count_js(request: HttpRequest) -> HttpResponse:
    body = render_to_string(
        "discussion/count.js",
        {
            "base_url": request.build_absolute_uri("/").rstrip("/"),
            "max_urls": MAX_COUNT_URLS,
        },
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def comment_count_label(count: int) -> str:
    # The msgid of the templates' counts, so every language has it already.
    return ngettext("%(counter)s comment", "%(counter)s comments", count) % {"counter": count}


@require_GET
def embed_counts(request: HttpRequest) -> HttpResponse:
    """Public comment counts of embedded threads, for the host site's listings (count.js).

    ``?url=`` repeated, one per page. Each answer is keyed by the URL as asked, with the
    count and its label in the reader's language. Pages of origins the operator does not
    allow, and pages nobody has opened the thread of, count 0; no thread is created here.
    Counts are public, so any origin may read them; browsers may keep them a minute.
    """
    asked = request.GET.getlist("url")
    if not asked:
        return _json_error("url: give at least one page URL (?url=...).")
    if len(asked) > MAX_COUNT_URLS:
        return _json_error(f"url: at most {MAX_COUNT_URLS} pages per request.")
    allowed = set(allowed_origins())
    canonical = {url: canonicalise(url) for url in asked}
    countable = [c for c in canonical.values() if origin_of(c) in allowed]
    totals = published_counts_by_url(countable)
    counts = {}
    for url, key in canonical.items():
        total = totals.get(key, 0)
        counts[url] = {"count": total, "label": comment_count_label(total)}
    response = JsonResponse({"counts": counts})
    response["Cache-Control"] = f"public, max-age={COUNTS_MAX_AGE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    patch_vary_headers(response, ("Accept-Language",))
    return response


def _json_error(message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=400)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@xframe_options_exempt
def embed_thread(request: HttpRequest) -> HttpResponse:
    raw_url = request.GET.get("url", "")
    url = canonicalise(raw_url) if raw_url else ""
    origin = origin_of(url)
    if not origin:
        return HttpResponseBadRequest("url: the page's canonical http(s) URL is required.")
    if origin not in allowed_origins():
        return HttpResponseForbidden(f"Embedding is not allowed for {origin}.")
    thread = services.thread_for_url(url, title=request.GET.get("title", "")[:300])
    context = section_context(request, thread)
    context.update(
        {
            "embed": True,
            "embed_url": url,
            "post_url": reverse("discussion:embed_post", args=[thread.pk]),
        }
    )
    return _frame_headers(render(request, "discussion/embed_thread.html", context))


def _back_to_frame(request: HttpRequest, thread: Thread) -> str:
    """The framed thread the form was on (its query names the host page)."""
    query = request.GET.urlencode() if request.GET else f"url={thread.canonical_url}"
    return f"{reverse('discussion:embed_thread')}?{query}"


@require_POST
@xframe_options_exempt
def embed_post(request: HttpRequest, pk: int) -> HttpResponse:
    thread = get_object_or_404(Thread, pk=pk, canonical_url__isnull=False)
    back = _back_to_frame(request, thread)
    if not request.user.is_authenticated:
        return redirect(back)
    try:
        ratelimit.hit("post", user=request.user, ip=ratelimit.client_ip(request))
        outcome = services.post_comment(
            author=request.user,
            thread=thread,
            text=request.POST.get("text", ""),
            parent=request.POST.get("parent_id") or None,
            ip=ratelimit.client_ip(request),
        )
        messages.info(request, outcome.message)
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(back)


@require_POST
@xframe_options_exempt
def embed_recommend(request: HttpRequest, pk: int) -> HttpResponse:
    """The frame's recommend button: a plain form (the frame runs no thread.js) that says
    ``recommend=1`` or ``0`` as the frame showed it, and comes back to the frame."""
    comment = get_object_or_404(
        reportable_comments().select_related("thread"), pk=pk, thread__canonical_url__isnull=False
    )
    back = f"{_back_to_frame(request, comment.thread)}#comment-{comment.pk}"
    if not request.user.is_authenticated:
        return redirect(back)
    try:
        ratelimit.hit("recommend", user=request.user, ip=ratelimit.client_ip(request))
        services.recommend_comment(
            comment=comment, reader=request.user, recommend=request.POST.get("recommend") != "0"
        )
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(back)
