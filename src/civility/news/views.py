"""News pages. Views stay thin: selectors read, services write."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST, require_safe

from civility.news import selectors, services
from civility.news.models import Tag
from civility.news.search import normalise_query, search_articles

ARTICLES_PER_PAGE = 10


@require_safe
def front_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.latest_articles(), ARTICLES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "news/front.html", {"page": page})


@require_safe
def tag_page(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)
    page = Paginator(selectors.articles_tagged(tag), ARTICLES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "news/tag.html", {"tag": tag, "page": page})


@require_safe
@ensure_csrf_cookie  # the share counter posts with the cookie's token
def article_page(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(selectors.site_articles().prefetch_related("tags"), slug=slug)
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
    page = Paginator(results, ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "news/search.html", {"query": query, "page": page, "total": len(results)}
    )


@require_POST
def record_share(request: HttpRequest, slug: str) -> JsonResponse:
    """Count one share of an article (the share links call this before opening the network)."""
    article = get_object_or_404(selectors.site_articles(), slug=slug)
    return JsonResponse({"shares": services.record_share(article)})
