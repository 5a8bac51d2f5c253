"""The JSON API (django-ninja). OpenAPI schema at /api/openapi.json, docs at /api/docs.

Authentication: ``Authorization: Bearer <token>`` (from ``POST /api/auth/token``; revocable),
or the browser session (then the CSRF token is required on unsafe methods).
Errors are ``{"detail": "...", "message": "..."}`` with 400, 401, 403, 404 or 429, and each
operation declares the ones it can answer in the schema (tests/security/test_api_fuzz.py).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from django.contrib.auth import authenticate
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth
from pydantic import AfterValidator

from civility.discussion import ratelimit, selectors, services
from civility.discussion.errors import DiscussionError, RateLimited
from civility.discussion.models import ApiToken, Comment, CommentStatus, IgnoredAuthor
from civility.discussion.rendering import render_comment_html
from civility.standards.rules import RULES_BY_SLUG, rule_label


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = services.user_for_request_token(request, token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Civility API",
    version="1",
    description=(
        "Articles and their comment threads. Post with a bearer token from POST /api/auth/token "
        "or with the browser session (CSRF token required)."
    ),
    urls_namespace="discussion:api",  # mounted inside the discussion URLconf
)
AUTH = [BearerTokenAuth(), SessionAuth()]


def _error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": message, "message": message}, status=status)


@api.exception_handler(DiscussionError)
def on_discussion_error(request: HttpRequest, exc: DiscussionError) -> HttpResponse:
    response = _error(request, exc.message, exc.status_code)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    parts = []
    for error in exc.errors:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "payload"))
        parts.append(
            f"{location}: {error.get('msg', 'invalid')}" if location else str(error.get("msg"))
        )
    return _error(request, _("Invalid request: %(errors)s") % {"errors": "; ".join(parts)}, 400)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request, _("Authentication required: a bearer token or a signed-in session."), 401
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, str(exc), exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, _("Not found."), 404)


# --- Schemas ------------------------------------------------------------------------------------


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store or even compare a NUL character: refuse it as bad input (400)
    # before it reaches a query and becomes a server error.
    if "\x00" in value:
        raise ValueError(_("must not contain a NUL character"))
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
# The largest id a row can have (a 64-bit signed integer on every database we support).
MAX_ROW_ID = 2**63 - 1


class ArticleOut(Schema):
    slug: str
    headline: str
    url: str
    lead: str
    published_at: datetime
    comment_count: int
    comments_closed: bool
    comments_url: str


class ArticlePage(Schema):
    items: list[ArticleOut]
    count: int
    page: int
    page_size: int


class CommentOut(Schema):
    id: int
    parent_id: int | None
    author: str
    text: str
    html: str
    status: str
    depth: int
    created_at: datetime
    edited_at: datetime | None
    featured: bool = Field(
        False, description="An editors' pick: a moderator chose it to show above the thread."
    )
    recommendations: int = Field(0, description="How many readers recommend it.")
    author_staff: bool = Field(
        False, description="The author is a member of the newsroom (the “Staff” badge)."
    )


class CommentPage(Schema):
    items: list[CommentOut]
    count: int
    page: int
    page_size: int


class CommentIn(Schema):
    text: Text | None = None
    parent_id: int | None = None
    client_token: Text | None = None


class EvidenceOut(Schema):
    rule: str
    explanation: str = ""
    start: int | None = None
    end: int | None = None
    text: str = ""


class ReviewOut(Schema):
    id: int
    comment_id: int
    status: str = Field(description="open, reinstated, upheld or withdrawn")
    response: str = Field(description="the moderator's reason, once decided")
    created_at: datetime
    decided_at: datetime | None


class PostedOut(Schema):
    id: int
    status: str
    rules: list[str]
    rule_labels: list[str]
    message: str
    evidence: list[EvidenceOut]
    url: str
    review: ReviewOut | None = Field(
        None, description="your request to review the comment's removal, if you made one"
    )


class RecommendationOut(Schema):
    comment_id: int
    recommended: bool
    recommendations: int


class IgnoredOut(Schema):
    user_id: int
    name: str
    ignored: bool = Field(True, description="False once you read this author again.")
    since: datetime | None = Field(None, description="When you began to ignore them.")


class ReportIn(Schema):
    rule: Text
    note: Text = ""


class ReviewIn(Schema):
    explanation: Text


class ReportOut(Schema):
    id: int
    comment_id: int
    rule: str
    status: str


class TokenIn(Schema):
    email: Text
    password: Text
    name: Text = ""


class TokenOut(Schema):
    token: str
    expires_at: datetime | None


class ErrorOut(Schema):
    detail: str
    message: str


# What each kind of refusal means, for the schema. Every operation lists the ones it can give.
BAD_REQUEST = 400  # a parameter or body that does not validate, or a refused comment/report
UNAUTHENTICATED = 401  # no valid bearer token or session (or wrong e-mail/password)
FORBIDDEN = 403  # blocked, unverified, comments closed, or a failed CSRF check
NOT_FOUND = 404  # no such article, or not one of your comments
CONFLICT = 409  # the comment is not removed, or its removal was already put up for review
TOO_MANY = 429  # a rate limit or the write budget (Retry-After says when to come back)


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    return dict.fromkeys(statuses, ErrorOut)


# --- Helpers --------------------------------------------------------------------------------------


MAX_PAGE = 1_000_000  # beyond it the row offset overflows the database's integers


def _page(page: int, page_size: int) -> tuple[int, int]:
    if not 1 <= page <= MAX_PAGE:
        raise HttpError(400, _("page must be between 1 and %(max)d") % {"max": MAX_PAGE})
    if not 1 <= page_size <= 100:
        raise HttpError(400, _("page_size must be between 1 and 100"))
    return page, page_size


def _posted(request: HttpRequest, outcome: services.PostOutcome) -> dict[str, Any]:
    comment = outcome.comment
    evidence = comment.evidence if comment.status != "published" else []
    return {
        "id": comment.pk,
        "status": outcome.status,
        "rules": outcome.rules,
        "rule_labels": [rule_label(slug) for slug in outcome.rules if slug in RULES_BY_SLUG],
        "message": outcome.message,
        "evidence": [
            {k: item.get(k) for k in ("rule", "explanation", "start", "end", "text") if k in item}
            for item in evidence
        ],
        "url": request.build_absolute_uri(comment.get_absolute_url()),
    }


def _comment_out(comment: Comment) -> dict[str, Any]:
    tombstone = comment.is_tombstone or not comment.author.is_active
    return {
        "id": comment.pk,
        "parent_id": comment.parent_id,
        "author": "" if tombstone else comment.author.public_name(),
        "text": "" if tombstone else comment.text,
        "html": "" if tombstone else render_comment_html(comment.text),
        "status": "deleted" if tombstone else str(comment.status),
        "depth": comment.depth,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "featured": not tombstone
        and comment.featured_at is not None
        and comment.status == CommentStatus.PUBLISHED,
        "recommendations": 0 if tombstone else comment.recommendations,
        "author_staff": not tombstone and comment.author.staff_badge,
    }


# --- Endpoints ------------------------------------------------------------------------------------


@api.get("/articles", response={200: ArticlePage, **errors(BAD_REQUEST)}, tags=["articles"])
def list_articles(request: HttpRequest, page: int = 1, page_size: int = 20) -> dict[str, Any]:
    """Published articles, newest first."""
    page, page_size = _page(page, page_size)
    articles, count = selectors.article_page(page, page_size)
    counts = selectors.published_comment_counts([a.pk for a in articles])
    closed = selectors.closed_article_ids(articles)
    items = [
        {
            "slug": a.slug,
            "headline": a.headline,
            "url": request.build_absolute_uri(a.get_absolute_url()),
            "lead": a.lead or "",
            "published_at": a.published_at,
            "comment_count": counts.get(a.pk, 0),
            "comments_closed": a.pk in closed,
            "comments_url": request.build_absolute_uri(f"/api/articles/{a.slug}/comments"),
        }
        for a in articles
    ]
    return {"items": items, "count": count, "page": page, "page_size": page_size}


@api.get(
    "/articles/{slug}/comments",
    response={200: CommentPage, **errors(BAD_REQUEST, NOT_FOUND)},
    tags=["comments"],
)
def list_comments(
    request: HttpRequest, slug: str, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    """The article's public comments in thread order (oldest first); deleted comments that
    still have replies appear as tombstones."""
    page, page_size = _page(page, page_size)
    article = selectors.get_published_article_or_404(slug)
    comments, count = selectors.public_comment_page(article, page, page_size)
    return {
        "items": [_comment_out(c) for c in comments],
        "count": count,
        "page": page,
        "page_size": page_size,
    }


@api.post(
    "/articles/{slug}/comments",
    auth=AUTH,
    response={
        200: PostedOut,
        201: PostedOut,
        **errors(BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, TOO_MANY),
    },
    tags=["comments"],
)
def create_comment(request: HttpRequest, slug: str, payload: CommentIn) -> Status[dict[str, Any]]:
    """Post a comment (or a reply with ``parent_id``). 201 with the decision; the same
    ``client_token`` returns the first comment with 200 instead of creating another."""
    user = request.auth  # type: ignore[attr-defined]
    client_token = (payload.client_token or "").strip()[:64]
    # One query: the thread, may the author post, did this client_token post already?
    thread, facts = services.post_context(slug, user, client_token)
    earlier = services.earlier_post(facts)
    if earlier is not None:  # a retry: answered before the rate limit counts it
        return Status(200, _posted(request, earlier))
    ratelimit.hit("post", user=user, ip=ratelimit.client_ip(request))
    outcome = services.post_comment(
        author=user,
        thread=thread,
        text=payload.text if payload.text is not None else "",
        parent=payload.parent_id,
        client_token=client_token,
        ip=ratelimit.client_ip(request),
        client_token_checked=True,
        facts=dataclasses.replace(facts, existing_comment_id=None),
    )
    return Status(201 if outcome.created else 200, _posted(request, outcome))


@api.get(
    "/comments/{comment_id}",
    auth=AUTH,
    response={200: PostedOut, **errors(BAD_REQUEST, UNAUTHENTICATED, NOT_FOUND)},
    tags=["comments"],
)
def comment_status(request: HttpRequest, comment_id: int) -> dict[str, Any]:
    """The decision on one of your own comments (poll this when the engine runs in a worker)."""
    comment = get_object_or_404(
        Comment.objects.select_related("review_request"),
        pk=comment_id,
        author=request.auth,  # type: ignore[attr-defined]
    )
    posted = _posted(
        request, services.PostOutcome(comment, created=False, rules=services.comment_rules(comment))
    )
    review = getattr(comment, "review_request", None)
    posted["review"] = _review_out(review) if review is not None else None
    return posted


def _review_out(review: Any) -> dict[str, Any]:
    return {
        "id": review.pk,
        "comment_id": review.comment_id,
        "status": str(review.status),
        "response": review.response,
        "created_at": review.created_at,
        "decided_at": review.decided_at,
    }


@api.post(
    "/comments/{comment_id}/review",
    auth=AUTH,
    response={
        201: ReviewOut,
        **errors(BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, TOO_MANY),
    },
    tags=["comments"],
)
def request_review(
    request: HttpRequest, comment_id: int, payload: ReviewIn
) -> Status[dict[str, Any]]:
    """Ask a moderator to review the removal of one of your comments, saying why it keeps to
    the standards. Each removal can be reviewed once; you are e-mailed the outcome."""
    from civility.moderation.services import request_review as file_review_request

    user = request.auth  # type: ignore[attr-defined]
    comment = get_object_or_404(Comment.objects.exclude(purged=True), pk=comment_id, author=user)
    ratelimit.hit("review", user=user, ip=ratelimit.client_ip(request))
    review = file_review_request(comment, user=user, explanation=payload.explanation)
    return Status(201, _review_out(review))


@api.post(
    "/comments/{comment_id}/report",
    auth=AUTH,
    response={
        201: ReportOut,
        **errors(BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, TOO_MANY),
    },
    tags=["comments"],
)
def report(request: HttpRequest, comment_id: int, payload: ReportIn) -> Status[dict[str, Any]]:
    """Flag a published comment, naming the rule (slug) it breaks."""
    comment = get_object_or_404(selectors.reportable_comments(), pk=comment_id)
    user = request.auth  # type: ignore[attr-defined]
    ratelimit.hit("report", user=user, ip=ratelimit.client_ip(request))
    created = services.report_comment(
        comment=comment, reporter=user, rule=payload.rule, note=payload.note
    )
    return Status(
        201,
        {"id": created.pk, "comment_id": comment.pk, "rule": created.rule, "status": "received"},
    )


RECOMMENDATION_RESPONSES = {
    200: RecommendationOut,
    **errors(BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, TOO_MANY),
}


@api.put(
    "/comments/{comment_id}/recommendation",
    auth=AUTH,
    response=RECOMMENDATION_RESPONSES,
    tags=["comments"],
)
def recommend(request: HttpRequest, comment_id: int) -> dict[str, Any]:
    """Recommend a published comment of another reader (doing it twice counts once)."""
    return _recommendation(request, comment_id, recommend=True)


@api.delete(
    "/comments/{comment_id}/recommendation",
    auth=AUTH,
    response=RECOMMENDATION_RESPONSES,
    tags=["comments"],
)
def withdraw_recommendation(request: HttpRequest, comment_id: int) -> dict[str, Any]:
    """Take your recommendation of a comment back (none to take back is not an error)."""
    return _recommendation(request, comment_id, recommend=False)


def _recommendation(request: HttpRequest, comment_id: int, *, recommend: bool) -> dict[str, Any]:
    comment = get_object_or_404(selectors.reportable_comments(), pk=comment_id)
    user = request.auth  # type: ignore[attr-defined]
    ratelimit.hit("recommend", user=user, ip=ratelimit.client_ip(request))
    count = services.recommend_comment(comment=comment, reader=user, recommend=recommend)
    return {"comment_id": comment.pk, "recommended": recommend, "recommendations": count}


IGNORE_RESPONSES = {
    200: IgnoredOut,
    **errors(BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, TOO_MANY),
}


@api.put(
    "/comments/{comment_id}/ignore-author",
    auth=AUTH,
    response=IGNORE_RESPONSES,
    tags=["readers"],
)
def ignore_comment_author(request: HttpRequest, comment_id: int) -> dict[str, Any]:
    """Stop reading the comment's author: on your pages their comments become a one-line
    notice, and their replies to you do not notify you. Nobody else is told."""
    comment = get_object_or_404(
        selectors.reportable_comments().select_related("author"), pk=comment_id
    )
    return _ignore(request, comment.author, ignore=True)


@api.delete(
    "/comments/{comment_id}/ignore-author",
    auth=AUTH,
    response=IGNORE_RESPONSES,
    tags=["readers"],
)
def read_comment_author_again(request: HttpRequest, comment_id: int) -> dict[str, Any]:
    """Read the comment's author again (not ignoring them is not an error)."""
    comment = get_object_or_404(
        selectors.reportable_comments().select_related("author"), pk=comment_id
    )
    return _ignore(request, comment.author, ignore=False)


@api.get(
    "/me/ignored",
    auth=AUTH,
    response={200: list[IgnoredOut], **errors(UNAUTHENTICATED)},
    tags=["readers"],
)
def list_ignored(request: HttpRequest) -> list[dict[str, Any]]:
    """The authors you ignore, most recent first."""
    user = request.auth  # type: ignore[attr-defined]
    rows = IgnoredAuthor.objects.filter(user=user).select_related("ignored")[:1000]
    return [
        {"user_id": row.ignored_id, "name": row.ignored.public_name(), "since": row.created_at}
        for row in rows
    ]


class ReplyOut(CommentOut):
    article_title: str = Field(description="The article or embedding page it is under.")
    url: str = Field(description="Its permalink.")
    unread: bool = Field(description="Published since you last read your replies.")


class ReplyPage(Schema):
    items: list[ReplyOut]
    unread: int = Field(description="Replies published since you last read them (at most 100).")
    count: int
    page: int
    page_size: int


class RepliesRead(Schema):
    unread: int


@api.get(
    "/me/replies",
    auth=AUTH,
    response={200: ReplyPage, **errors(BAD_REQUEST, UNAUTHENTICATED)},
    tags=["readers"],
)
def list_replies(request: HttpRequest, page: int = 1, page_size: int = 25) -> dict[str, Any]:
    """Public replies by others to your comments, newest first (not those of authors you
    ignore). Reading them here does not mark them read: POST /api/me/replies/read does."""
    page, page_size = _page(page, page_size)
    user = request.auth  # type: ignore[attr-defined]
    replies = selectors.replies_to(user)
    seen = selectors.replies_seen_at(user)
    start = (page - 1) * page_size
    rows = list(replies[start : start + page_size])
    return {
        "items": [
            {
                **_comment_out(reply),
                "article_title": str(reply.thread.display_title),
                "url": request.build_absolute_uri(reply.get_absolute_url()),
                "unread": selectors.is_unread(reply, seen),
            }
            for reply in rows
        ],
        "unread": selectors.unread_reply_count(user),
        "count": replies.count(),
        "page": page,
        "page_size": page_size,
    }


@api.post(
    "/me/replies/read",
    auth=AUTH,
    response={200: RepliesRead, **errors(UNAUTHENTICATED)},
    tags=["readers"],
)
def read_replies(request: HttpRequest) -> dict[str, Any]:
    """Mark every reply to your comments read (what opening My replies does)."""
    services.mark_replies_read(request.auth)  # type: ignore[attr-defined]
    return {"unread": 0}


@api.delete(
    "/me/ignored/{user_id}",
    auth=AUTH,
    response=IGNORE_RESPONSES,
    tags=["readers"],
)
def unignore(request: HttpRequest, user_id: int) -> dict[str, Any]:
    """Read an author of your ignore list again."""
    user = request.auth  # type: ignore[attr-defined]
    if not 0 < user_id <= MAX_ROW_ID:
        # Django guards primary-key lookups against integers the database cannot hold, not
        # foreign-key ones: SQLite would raise OverflowError.
        raise Http404("No such author in your ignore list.")
    row = get_object_or_404(
        IgnoredAuthor.objects.select_related("ignored"), user=user, ignored_id=user_id
    )
    return _ignore(request, row.ignored, ignore=False)


def _ignore(request: HttpRequest, author: Any, *, ignore: bool) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    services.ignore_author(reader=user, author=author, ignore=ignore)
    since = (
        IgnoredAuthor.objects.filter(user=user, ignored=author)
        .values_list("created_at", flat=True)
        .first()
    )
    return {
        "user_id": author.pk,
        "name": author.public_name(),
        "ignored": ignore,
        "since": since,
    }


@api.post(
    "/auth/token",
    response={201: TokenOut, **errors(BAD_REQUEST, UNAUTHENTICATED, TOO_MANY)},
    tags=["auth"],
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """Exchange e-mail and password for a bearer token."""
    ratelimit.hit("token", ip=ratelimit.client_ip(request))
    user = authenticate(request, username=payload.email.strip(), password=payload.password)
    if user is None:
        from django.contrib.auth import get_user_model

        # ModelBackend signs in by username; our sign-in name is the e-mail address.
        candidate = get_user_model().objects.filter(email__iexact=payload.email.strip()).first()
        if candidate is not None:
            user = authenticate(
                request, username=candidate.get_username(), password=payload.password
            )
    if user is None or not user.is_active:
        raise HttpError(401, _("Wrong e-mail address or password."))
    raw, token = services.issue_api_token(user, name=payload.name)
    return Status(201, {"token": raw, "expires_at": token.expires_at})


@api.delete(
    "/auth/token",
    auth=[BearerTokenAuth()],
    response={204: None, **errors(UNAUTHENTICATED, TOO_MANY)},
    tags=["auth"],
)
def revoke_token(request: HttpRequest) -> Status[None]:
    """Revoke the bearer token this request is made with."""
    token: ApiToken | None = getattr(request.auth, "_civility_api_token", None)  # type: ignore[attr-defined]
    if token is not None:
        services.revoke_api_token(token, by=request.auth)  # type: ignore[attr-defined]
    return Status(204, None)
