"""News pages. Views stay thin: selectors read, services write."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from civility.discussion.errors import RateLimited
from civility.discussion.ratelimit import client_ip, hit
from civility.discussion.selectors import attach_comment_counts
from civility.news import selectors, services
from civility.news.models import Tag
from civility.news.search import normalise_query, search_articles

ARTICLES_PER_PAGE = 10


def _count_comments(page: Page[Any]) -> None:
    """The page's articles carry their comment counts, read in one query for the page."""
    page.object_list = list(page.object_list)
    attach_comment_counts(page.object_list)


def _listing(request: HttpRequest, articles: Any, template: str, **context: Any) -> HttpResponse:
    """A page of ``articles`` (the ``page`` query parameter) rendered with ``template``."""
    page = Paginator(articles, ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    _count_comments(page)
    return render(request, template, {"page": page, **context})


@require_safe
def front_page(request: HttpRequest) -> HttpResponse:
    return _listing(request, selectors.latest_articles(), "news/front.html")


@require_safe
def recommended_page(request: HttpRequest) -> HttpResponse:
    return _listing(request, selectors.recommended_articles(), "news/recommended.html")


@require_safe
def tag_page(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)
    return _listing(request, selectors.articles_tagged(tag), "news/tag.html", tag=tag)


@require_safe
def article_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The article and its comments. An anonymous reader's page sets no cookie, so a cache
    may keep it: nothing on it needs a CSRF token (the share counter is exempt, and the
    comment forms are a signed-in reader's)."""
    article = get_object_or_404(selectors.site_articles().prefetch_related("tags"), slug=slug)
    if request.user.is_authenticated:
        get_token(request)  # the comment scripts post with the cookie's token
    context = {
        "article": article,
        "related": selectors.related_articles(article),
        "short_url": request.build_absolute_uri(article.get_short_url()),
        "canonical_url": request.build_absolute_uri(article.get_absolute_url()),
    }
    return render(request, "news/article.html", context)


@require_safe
def short_link(request: HttpRequest, code: str) -> HttpResponse:
    article = get_object_or_404(selectors.site_articles(), short_code=code.lower())
    return HttpResponsePermanentRedirect(article.get_absolute_url())


@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    query = normalise_query(request.GET.get("q", ""))
    results = search_articles(query) if query else []
    return _listing(request, results, "news/search.html", query=query, total=len(results))


@csrf_exempt
@require_POST
def record_share(request: HttpRequest, slug: str) -> JsonResponse:
    """Count one share of an article (the share links call this before opening the network).

    Exempt from CSRF so that anonymous article pages need no token cookie: a forged post can
    do no more than a reader's click (add one to a public tally, no session state, no audit
    row), and each address is held to the CIVILITY_RATE_SHARE limit.
    """
    article = get_object_or_404(selectors.site_articles(), slug=slug)
    try:
        hit("share", ip=client_ip(request), setting="CIVILITY_RATE_SHARE")
    except RateLimited as refused:
        response = JsonResponse({"error": str(refused)}, status=429)
        response["Retry-After"] = str(refused.retry_after)
        return response
    return JsonResponse({"shares": services.record_share(article)})
