"""Comment pages and form endpoints. Views validate input and call a service; nothing more.

Every form works without JavaScript (post, redirect, message). static/discussion/thread.js
submits the same forms with fetch and asks for JSON (``Accept: application/json``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from civility.discussion import ratelimit, selectors, services
from civility.discussion.errors import DiscussionError, PostingNotAllowed
from civility.discussion.models import Comment, CommentStatus, IgnoredAuthor
from civility.discussion.rendering import render_comment_html
from civility.standards.rules import RULES, RULES_BY_SLUG, rule_label


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _error_response(
    request: HttpRequest, exc: DiscussionError, *, template: str, context: dict[str, Any]
) -> HttpResponse:
    if isinstance(exc, PostingNotAllowed) and exc.blocked:
        if wants_json(request):
            return JsonResponse(
                {"ok": False, "error": exc.message, "blocked_url": "/blocked/"}, status=403
            )
        return redirect("discussion:blocked")
    if wants_json(request):
        return JsonResponse({"ok": False, "error": exc.message}, status=exc.status_code)
    return render(request, template, {**context, "error": exc.message}, status=exc.status_code)


def _thread_url(comment: Comment, extra: dict[str, str] | None = None) -> str:
    base = comment.thread.get_absolute_url().split("#")[0]
    query = f"?{urlencode(extra)}" if extra else ""
    return f"{base}{query}#comment-{comment.pk}"


def comments_path() -> str:
    """The comments' URL prefix ("/comments/", with any script prefix): the comment template
    builds each comment's permalink, reply and report links from it (discussion/urls.py:
    comments/<pk>/, .../reply/, .../report/); three {% url %} tags a comment cost 3 ms of a
    75-comment page."""
    return reverse("discussion:comment", args=[0]).removesuffix("0/")


def comment_payload(
    request: HttpRequest, comment: Comment, outcome: services.PostOutcome
) -> dict[str, Any]:
    node = selectors.Node(comment=comment, own=True, depth=comment.depth)
    html = render_to_string(
        "discussion/_comment.html",
        {
            "node": node,
            "request": request,
            "user": request.user,
            "rules": RULES,
            "max_depth": 99,
            "can_post": True,
            "comments_path": comments_path(),
        },
        request=request,
    )
    return {
        "ok": True,
        "id": comment.pk,
        "status": outcome.status,
        "rules": outcome.rules,
        "message": outcome.message,
        "html": html,
        "url": _thread_url(comment),
    }


# --- Posting and replying -------------------------------------------------------------------


@require_POST
def post_comment(request: HttpRequest, slug: str) -> HttpResponse:
    """The comment form on the article page (and the reply forms) post here."""
    if not request.user.is_authenticated:
        article = selectors.get_published_article_or_404(slug)
        if wants_json(request):
            return JsonResponse(
                {
                    "ok": False,
                    "error": gettext("Sign in to comment."),
                    "login_url": "/accounts/login/",
                },
                status=401,
            )
        return redirect_to_login(article.get_absolute_url() + "#comments")
    client_token = request.POST.get("client_token", "").strip()[:64]
    # One query: the thread and its article, may the author post, did this client_token post?
    thread, facts = services.post_context(slug, request.user, client_token)
    article = thread.article
    text = request.POST.get("text", "")
    parent_id = request.POST.get("parent_id") or None
    context = {"article": article, "thread": thread, "text": text, "parent_id": parent_id}
    try:
        ratelimit.hit("post", user=request.user, ip=ratelimit.client_ip(request))
        outcome = services.post_comment(
            author=request.user,
            thread=thread,
            text=text,
            parent=parent_id,
            client_token=client_token,
            ip=ratelimit.client_ip(request),
            client_token_checked=True,
            facts=facts,
        )
    except DiscussionError as exc:
        return _error_response(request, exc, template="discussion/compose.html", context=context)
    if wants_json(request):
        return JsonResponse(comment_payload(request, outcome.comment, outcome), status=201)
    level = messages.SUCCESS if outcome.status == CommentStatus.PUBLISHED else messages.WARNING
    messages.add_message(request, level, outcome.message)
    return redirect(_thread_url(outcome.comment))


@require_http_methods(["GET"])
def reply_form(request: HttpRequest, pk: int) -> HttpResponse:
    """A page with the reply form, for browsers without JavaScript and deep threads."""
    parent = get_object_or_404(selectors.public_comments().select_related("thread__article"), pk=pk)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    article = parent.thread.article
    return render(
        request,
        "discussion/compose.html",
        {
            "article": article,
            "thread": parent.thread,
            "parent": parent,
            "parent_id": parent.pk,
            "parent_html": render_comment_html(parent.text),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit_comment(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(
        Comment.objects.select_related("thread__article"), pk=pk, author=request.user
    )
    context = {
        "comment": comment,
        "text": request.POST.get("text", comment.text),
        "window_open": services.edit_window_open(comment),
    }
    if request.method == "POST":
        try:
            ratelimit.hit("post", user=request.user, ip=ratelimit.client_ip(request))
            outcome = services.edit_comment(
                comment=comment, author=request.user, text=request.POST.get("text", "")
            )
        except DiscussionError as exc:
            return _error_response(request, exc, template="discussion/edit.html", context=context)
        if wants_json(request):
            return JsonResponse(comment_payload(request, outcome.comment, outcome))
        messages.info(request, outcome.message)
        return redirect(_thread_url(outcome.comment))
    return render(request, "discussion/edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def delete_comment(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(
        Comment.objects.select_related("thread__article"), pk=pk, author=request.user
    )
    if request.method == "POST":
        try:
            services.delete_own_comment(comment=comment, author=request.user)
        except DiscussionError as exc:
            return _error_response(
                request, exc, template="discussion/delete.html", context={"comment": comment}
            )
        if wants_json(request):
            return JsonResponse(
                {
                    "ok": True,
                    "id": comment.pk,
                    "status": "deleted",
                    "message": gettext("You deleted this comment."),
                }
            )
        messages.info(request, gettext("You deleted your comment."))
        return redirect(_thread_url(comment))
    return render(request, "discussion/delete.html", {"comment": comment})


@require_http_methods(["GET", "POST"])
def report_comment(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(
        selectors.reportable_comments().select_related("thread__article"), pk=pk
    )
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    context = {
        "comment": comment,
        "rules": RULES,
        "comment_html": render_comment_html(comment.text),
    }
    if request.method == "POST":
        try:
            ratelimit.hit("report", user=request.user, ip=ratelimit.client_ip(request))
            services.report_comment(
                comment=comment,
                reporter=request.user,
                rule=request.POST.get("rule", ""),
                note=request.POST.get("note", ""),
            )
        except DiscussionError as exc:
            return _error_response(request, exc, template="discussion/report.html", context=context)
        message = gettext("Thank you: the moderators will review this comment.")
        if wants_json(request):
            return JsonResponse({"ok": True, "message": message})
        messages.success(request, message)
        return redirect(_thread_url(comment))
    return render(request, "discussion/report.html", context)


@require_POST
def recommend_comment(request: HttpRequest, pk: int) -> HttpResponse:
    """``recommend=1`` recommends the comment, ``recommend=0`` takes it back. The thread's
    script asks for JSON: the new count; a plain form goes back to the comment."""
    comment = get_object_or_404(
        selectors.reportable_comments().select_related("thread__article"), pk=pk
    )
    if not request.user.is_authenticated:
        if wants_json(request):
            return JsonResponse(
                {"ok": False, "error": gettext("Sign in to recommend comments.")}, status=403
            )
        return redirect_to_login(_thread_url(comment))
    recommend = request.POST.get("recommend", "1") != "0"
    try:
        ratelimit.hit("recommend", user=request.user, ip=ratelimit.client_ip(request))
        count = services.recommend_comment(
            comment=comment, reader=request.user, recommend=recommend
        )
    except DiscussionError as exc:
        return _error_response(
            request,
            exc,
            template="discussion/refused.html",
            context={"back_url": _thread_url(comment)},
        )
    if wants_json(request):
        return JsonResponse({"ok": True, "recommended": recommend, "recommendations": count})
    return redirect(_thread_url(comment))


@require_http_methods(["GET", "POST"])
def ignore_author(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then stop showing the comment's author to this reader (their comments become a
    one-line notice on every page the reader views)."""
    comment = get_object_or_404(
        selectors.reportable_comments().select_related("thread__article", "author"), pk=pk
    )
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    context = {"comment": comment, "author_name": comment.author.public_name()}
    if request.method == "POST":
        try:
            services.ignore_author(reader=request.user, author=comment.author)
        except DiscussionError as exc:
            return _error_response(
                request, exc, template="discussion/ignore_author.html", context=context
            )
        messages.success(
            request,
            gettext("You no longer see comments by %(name)s.") % {"name": context["author_name"]},
        )
        return redirect(_thread_url(comment))
    return render(request, "discussion/ignore_author.html", context)


@login_required
@require_http_methods(["GET"])
def ignored_authors(request: HttpRequest) -> HttpResponse:
    """The commenters the reader ignores, each with a way back."""
    rows = IgnoredAuthor.objects.filter(user_id=int(request.user.pk or 0)).select_related("ignored")
    return render(request, "discussion/ignored_authors.html", {"rows": rows})


@login_required
@require_POST
def unignore_author(request: HttpRequest, user_id: int) -> HttpResponse:
    author = get_object_or_404(get_user_model(), pk=user_id)
    if services.ignore_author(reader=request.user, author=author, ignore=False):
        messages.success(
            request, gettext("You see comments by %(name)s again.") % {"name": author.public_name()}
        )
    return redirect("discussion:ignored_authors")


# --- Reading -----------------------------------------------------------------------------------


@require_http_methods(["GET"])
def comment_thread(request: HttpRequest, pk: int) -> HttpResponse:
    """A comment and the replies below it ("continue this thread", permalinks)."""
    comment = get_object_or_404(Comment.objects.select_related("thread__article", "author"), pk=pk)
    viewer = request.user if request.user.is_authenticated else None
    roots = selectors.subtree(comment, viewer)
    if not roots:
        return render(request, "discussion/gone.html", {"thread": comment.thread}, status=404)
    context = section_context(request, comment.thread, roots=roots)
    context.update({"root_comment": comment, "thread": comment.thread})
    return render(request, "discussion/comment_thread.html", context)


@require_http_methods(["GET"])
def thread_section(request: HttpRequest, slug: str) -> HttpResponse:
    """The article's comment section alone, as an HTML fragment: what thread.js fetches for
    the next page, and what readers of a busy thread get from the read cache (an anonymous
    reader's fragment holds nothing personal: no form, no CSRF token, no cookie)."""
    article = selectors.get_published_article_or_404(slug)
    thread = selectors.thread_of(article)
    context = section_context(request, thread, article=article)
    return render(request, "discussion/_section.html", context)


@require_http_methods(["GET", "HEAD"])
def thread_latest(request: HttpRequest, slug: str) -> JsonResponse:
    """What an open article page asks every CIVILITY_LIVE_UPDATE_SECONDS: the newest public
    comment's id, and how many public comments are newer than ``?after=`` (the newest the page
    showed). Anonymous answers come from the read cache, which a saved comment makes stale."""
    article = selectors.get_published_article_or_404(slug)
    thread = selectors.thread_of(article)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        return JsonResponse({"error": "after: a comment id (a whole number)."}, status=400)
    if thread is None:
        return JsonResponse({"newest": 0, "total": 0, "new": 0})
    total, newest = selectors.public_tally(thread)
    return JsonResponse(
        {
            "newest": newest,
            "total": total,
            "new": selectors.public_comments_after(thread, after) if after else 0,
        }
    )


PERIOD_LABELS = {
    "day": gettext_lazy("Last 24 hours"),
    "week": gettext_lazy("Last 7 days"),
    "month": gettext_lazy("Last 30 days"),
}


@require_http_methods(["GET", "HEAD"])
def most_discussed(request: HttpRequest) -> HttpResponse:
    """The site's articles with the most comments posted in the last 24 hours, 7 or 30 days."""
    period = request.GET.get("period", "week")
    if period not in selectors.DISCUSSED_PERIODS:
        period = "week"
    ranked = selectors.most_discussed(period)
    selectors.attach_comment_counts(article for article, _total in ranked)
    return render(
        request,
        "discussion/most_discussed.html",
        {"ranked": ranked, "period": period, "periods": PERIOD_LABELS},
    )


@login_required
def my_comments(request: HttpRequest) -> HttpResponse:
    from civility.moderation.selectors import review_window_open

    page = Paginator(selectors.my_comments(request.user), 25).get_page(request.GET.get("page"))
    items = [
        {
            "comment": c,
            "message": services.author_message(c),
            "html": render_comment_html(
                c.text, c.evidence if c.status != CommentStatus.PUBLISHED else ()
            ),
            "rule_labels": [rule_label(s) for s in services.comment_rules(c) if s in RULES_BY_SLUG],
            "review": getattr(c, "review_request", None),
            "can_ask_review": c.status == CommentStatus.REJECTED and review_window_open(c),
        }
        for c in page
    ]
    return render(request, "discussion/my_comments.html", {"page": page, "items": items})


@login_required
@require_http_methods(["GET"])
def my_replies(request: HttpRequest) -> HttpResponse:
    """Replies by others to the reader's comments, newest first; opening the page reads them
    (the header's count goes back to zero)."""
    seen = selectors.replies_seen_at(request.user)
    page = Paginator(selectors.replies_to(request.user), 25).get_page(request.GET.get("page"))
    items = [
        {
            "reply": reply,
            "html": render_comment_html(reply.text),
            "unread": selectors.is_unread(reply, seen),
        }
        for reply in page
    ]
    services.mark_replies_read(request.user)
    return render(request, "discussion/my_replies.html", {"page": page, "items": items})


def section_context(
    request: HttpRequest,
    thread: Any,
    *,
    article: Any = None,
    roots: list[selectors.Node] | None = None,
) -> dict[str, Any]:
    """Everything the thread templates need (article page, permalink page, embed)."""
    from django.conf import settings

    from civility.accounts.selectors import is_verified
    from civility.moderation.selectors import posting_standing

    user = request.user
    viewer = user if user.is_authenticated else None
    sort = request.GET.get("sort", "oldest")
    if sort not in selectors.SORTS:
        sort = "oldest"
    page_obj = None
    # The editors' picks show above a thread's pages (section, embed), not on a permalink.
    featured = selectors.featured_comments(thread) if thread is not None and roots is None else []
    if roots is None:
        page_obj = (
            selectors.thread_page(
                thread,
                viewer,
                sort=sort,
                page=selectors.page_number(request.GET.get("cpage")),
                page_size=settings.CIVILITY_COMMENTS_PER_PAGE,
            )
            if thread is not None
            else None
        )
        roots = page_obj.roots if page_obj is not None else []
    shown = selectors.flatten(roots)  # also sets each node's depth relative to what is shown
    ignored = selectors.ignored_author_ids(viewer)
    if ignored:
        selectors.mark_ignored(shown, ignored)
        featured = [pick for pick in featured if pick.author_id not in ignored]
    total, newest = selectors.public_tally(thread) if thread is not None else (0, 0)
    closed = thread is not None and selectors.comments_closed(thread)
    standing = posting_standing(viewer)
    blocked = standing.blocked
    verified = bool(viewer and is_verified(viewer))
    return {
        "thread": thread,
        "article": article
        if article is not None
        else (thread.article if thread is not None else None),
        "roots": roots,
        "page_obj": page_obj,
        "comment_total": total,
        "comment_newest": newest,
        "live_seconds": settings.CIVILITY_LIVE_UPDATE_SECONDS,
        "featured": featured,
        "recommended_ids": selectors.recommended_by(viewer, shown),
        "sort": sort,
        "sorts": selectors.SORTS,
        "max_depth": settings.CIVILITY_THREAD_MAX_DEPTH,
        "rules": RULES,
        "closed": closed,
        "blocked": blocked,
        "suspended_until": standing.suspended_until,
        "verified": verified,
        "can_post": verified and not blocked and not standing.suspended_until and not closed,
        "max_length": settings.CIVILITY_COMMENT_MAX_LENGTH,
        "comments_path": comments_path(),
        "request": request,
        "user": user,
    }


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List and revoke the signed-in user's API tokens."""
    from civility.discussion.models import ApiToken

    mine = ApiToken.objects.filter(user_id=int(request.user.pk or 0))
    if request.method == "POST":
        token = get_object_or_404(mine, pk=request.POST.get("token"))
        services.revoke_api_token(token, by=request.user)
        messages.info(request, gettext("The token was revoked."))
        return redirect("discussion:api_tokens")
    tokens = mine.order_by("-created_at")
    return render(request, "discussion/api_tokens.html", {"tokens": tokens})
