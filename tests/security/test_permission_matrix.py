"""The permission matrix: every route and every API operation, for every role.

Routes are enumerated from the URLconf (get_resolver, recursively: allauth's, the admin's,
ninja's) and API operations from the OpenAPI schema. Each must be classified in
tests/security/route_classes.py; a route nobody classified fails here. For each role the
route must either serve the request (any answer but a refusal or a server error) or refuse it
(401, 403, 404, or a redirect to a login page or to the blocked notice), as its class says.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.security.route_classes import (
    API_OPERATIONS,
    API_ROUTE,
    ROLES,
    ROUTE_WILDCARDS,
    ROUTES,
    Access,
)

pytestmark = pytest.mark.django_db
REFUSING_REDIRECTS = ("/accounts/login/", "/admin/login/", "/blocked/")
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<regex_name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    key: str  # the view name, or the pattern when the route has none
    pattern: str  # the full pattern, from the site root

    def url(self, samples: dict[str, str]) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group("name") or match.group("regex_name")
            for candidate in (f"{self.key}:{name}", f"{self.key.split(':')[0]}:{name}", name):
                if candidate in samples:
                    return samples[candidate]
            return "1"

        concrete = PARAMETER.sub(fill, self.pattern).replace("^", "").replace("$", "")
        return "/" + concrete.replace("\\", "")


def walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            yield Route(namespace + entry.name if entry.name else pattern, pattern)


def all_routes() -> list[Route]:
    return list(walk(get_resolver()))


def classify(route: Route) -> Access | None:
    if route.key in ROUTES:
        return ROUTES[route.key]
    for wildcard, access in ROUTE_WILDCARDS.items():
        if fnmatch.fnmatchcase(route.key, wildcard):
            return access
    return None


def api_operations() -> list[str]:
    from civility.discussion.api import api

    schema = api.get_openapi_schema()
    return [
        f"{method.upper()} {path}"
        for path, methods in schema["paths"].items()
        for method in methods
        if method in {"get", "post", "put", "patch", "delete"}
    ]


# --- Classification is complete -----------------------------------------------------------


def test_every_route_is_classified() -> None:
    routes = all_routes()
    assert len(routes) > 100, "the enumeration lost the URLconf"
    missing = sorted({r.key for r in routes if classify(r) is None})
    assert not missing, (
        "classify these routes in tests/security/route_classes.py (who may use them?): "
        + ", ".join(missing)
    )


def test_every_api_operation_is_classified() -> None:
    operations = api_operations()
    assert len(operations) >= 5
    missing = sorted(set(operations) - set(API_OPERATIONS))
    assert not missing, f"classify these API operations in route_classes.py: {missing}"


def test_the_classification_names_no_route_that_is_gone() -> None:
    keys = {r.key for r in all_routes()}
    assert not sorted(set(ROUTES) - keys), "remove these from route_classes.py"
    assert not sorted(set(API_OPERATIONS) - set(api_operations()))


# --- The matrix ------------------------------------------------------------------------------


@pytest.fixture
def samples(role_users: dict[str, Any], lenient_policy: Any, settings: Any) -> dict[str, str]:
    """A real object for every URL parameter, so "served" means really served."""
    from civility.discussion.models import Comment, CommentStatus, IgnoredAuthor
    from civility.discussion.services import issue_api_token, thread_for_article, thread_for_url
    from civility.moderation.models import (
        Appeal,
        ContactMessage,
        EmailDomainAction,
        EmailDomainRule,
        ModeratorNote,
        ReviewRequest,
    )
    from civility.news.models import Tag
    from tests.discussion.conftest import make_article, make_user

    settings.CIVILITY_EMBED_ORIGINS = ["https://publisher.example"]
    article = make_article()
    tag = Tag.objects.create(slug="diplomacy", name="Diplomacy")
    article.tags.add(tag)
    thread = thread_for_article(article)
    comment = Comment.objects.create(
        thread=thread,
        author=role_users["reader"],
        text="The talks have gone on for decades; a treaty would be welcome.",
        status=CommentStatus.PUBLISHED,
    )
    embed_thread = thread_for_url("https://publisher.example/story", title="Story")
    target = make_user("target@example.org", name="Target")
    # Its own author: moderators block and delete the target during the matrix.
    islander = make_user("islander@example.org", name="Islander")
    # Everyone signed in already ignores the islander, so taking it back can be served.
    for user in role_users.values():
        if user is not None:
            IgnoredAuthor.objects.create(user=user, ignored=islander)
    embedded_comment = Comment.objects.create(
        thread=embed_thread,
        author=islander,
        text="A winter timetable for the ferry would help.",
        status=CommentStatus.PUBLISHED,
    )
    appeal = Appeal.objects.create(
        user=role_users["blocked"],
        claimed_user_id=str(role_users["blocked"].pk),
        email="blocked@example.org",
        explanation="I was blocked by mistake, please have another look at it.",
    )
    note = ModeratorNote.objects.create(user=target, text="A sample note.", created_by=None)
    message = ContactMessage.objects.create(subject="Hello", body="A question", email="q@x.org")
    # A removal its author asked to review (of the moderators' own comment: deciding it changes
    # nothing the other checks read).
    removed = Comment.objects.create(
        thread=thread, author=target, text="Removed, then contested.", status=CommentStatus.REJECTED
    )
    review = ReviewRequest.objects.create(
        comment=removed, site_id=removed.site_id, user=target, explanation="It was fair comment."
    )
    domain_rule = EmailDomainRule.objects.create(
        domain="throwaway.example", action=EmailDomainAction.REFUSE_SIGNUP
    )
    # Moderators act on a comment of their own (approving or rejecting the reader's comment
    # would change what the later checks see).
    queued = Comment.objects.create(
        thread=thread, author=target, text="Waiting for a moderator.", status=CommentStatus.PENDING
    )
    # The author deletes a comment of their own (not the one the report check needs).
    doomed = Comment.objects.create(
        thread=thread,
        author=role_users["reader"],
        text="Soon gone.",
        status=CommentStatus.PUBLISHED,
    )
    api_token = issue_api_token(role_users["reader"], name="sample")[1]
    photo = Path(settings.MEDIA_ROOT) / "articles" / "sample.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"\xff\xd8\xff\xd9")
    # Social providers configured (with fake credentials), as on a site that offers them.
    settings.SOCIALACCOUNT_PROVIDERS = {
        provider: {"APPS": [{"client_id": f"{provider}-id", "secret": "x", "key": ""}]}
        for provider in ("google", "facebook", "vk")
    }
    pk = str(comment.pk)
    return {
        "slug": article.slug,
        "news:tag:slug": tag.slug,
        "code": article.short_code,
        "pk": pk,
        "comment_id": pk,
        "discussion:embed_post:pk": str(embed_thread.pk),
        "discussion:embed_recommend:pk": str(embedded_comment.pk),
        # Someone else's comment: nobody may ignore themselves.
        "discussion:ignore_author:pk": str(embedded_comment.pk),
        "discussion:unignore_author:user_id": str(embedded_comment.author_id),
        "user_id": str(embedded_comment.author_id),
        **{
            f"moderation:{name}:pk": str(queued.pk)
            for name in ("comment", "approve", "reject", "edit")
        },
        "api_token": str(api_token.pk),
        "discussion:delete:pk": str(doomed.pk),
        "moderation:user:pk": str(target.pk),
        "moderation:block:pk": str(target.pk),
        "moderation:suspend:pk": str(target.pk),
        "moderation:add_note:pk": str(target.pk),
        "moderation:delete_note:pk": str(note.pk),
        "moderation:restore:pk": str(target.pk),
        "moderation:premoderation:pk": str(target.pk),
        "moderation:delete_account:pk": str(target.pk),
        "security:reveal_personal_data:pk": str(target.pk),
        "moderation:decide_appeal:pk": str(appeal.pk),
        "moderation:decide_review:pk": str(review.pk),
        "moderation:message_handled:pk": str(message.pk),
        "moderation:remove_email_domain:pk": str(domain_rule.pk),
        "moderation:thread_update:pk": str(thread.pk),
        "name": "all",
        "token": "not-a-valid-token",
        "key": "not-a-valid-key",
        "uidb36": "1z",
        "path": "articles/sample.jpg",
        "app_label": "accounts",
        "object_id": "1",
        "content_type_id": "1",
    }


SIGNS_OUT = {"account_logout", "accounts:delete", "moderation:delete_account"}
QUERIES = {
    "discussion:embed_thread": "?url=https://publisher.example/story",
    "discussion:embed_counts": "?url=https://publisher.example/story",
}
POST_DATA = {
    "discussion:post": {"text": "A calm, kind remark about the peace talks."},
    "discussion:embed_post": {"text": "A calm, kind remark from the embed."},
    "discussion:api_tokens": {"token": "{api_token}"},
    "moderation:suspend": {"hours": "1", "reason": "matrix"},
    "moderation:add_note": {"text": "A note from the permission matrix."},
    "moderation:email_domains": {"domain": "matrix.example", "action": "premoderate"},
    "accounts:display_name": {"display_name": "Matrix Reader"},
    "discussion:request_review": {"explanation": "It keeps to every rule, I think."},
}
POSTS_A_COMMENT = {"discussion:post", "discussion:embed_post"}
# The frame's forms always go back to the frame: served means the recommendation was made.
RECOMMENDS = {"discussion:embed_recommend"}


class RoleClients:
    """One signed-in test client per role, signed in again after a route signs it out."""

    def __init__(self, users: dict[str, Any]) -> None:
        self.users = users
        self.clients: dict[str, Client] = {}

    def __getitem__(self, role: str) -> Client:
        client = self.clients.get(role)
        if client is None:
            client = Client(raise_request_exception=False)
            if self.users[role] is not None:
                client.force_login(self.users[role])
            self.clients[role] = client
        return client

    def forget(self, role: str) -> None:
        self.clients.pop(role, None)


def outcome(response: Any) -> str:
    """'served', 'refused', or 'error: ...' for a response."""
    status = response.status_code
    if status >= 500 or status == 405:
        return f"error: {status}"
    if status in (401, 403, 404):
        return "refused"
    if status in (301, 302, 303, 307, 308):
        location = response.get("Location", "")
        if any(marker in location for marker in REFUSING_REDIRECTS):
            return "refused"
    return "served"


def comments_by(user: Any) -> int:
    from civility.discussion.models import Comment

    return Comment.objects.filter(author=user).count() if user is not None else 0


def recommendations_by(user: Any) -> int:
    from civility.discussion.models import Recommendation

    return Recommendation.objects.filter(user=user).count() if user is not None else 0


def test_permission_matrix(
    role_users: dict[str, Any], samples: dict[str, str], no_rate_limits: None
) -> None:
    failures: list[str] = []
    checked = 0
    routes = [(r, classify(r)) for r in all_routes()]
    clients = RoleClients(role_users)
    for method in ("GET", "POST"):
        for route, access in routes:
            assert access is not None, f"unclassified route {route.key}"
            allowed = access.get if method == "GET" else access.post
            if allowed is None or access is API_ROUTE:
                continue
            url = route.url(samples) + QUERIES.get(route.key, "")
            for role in ROLES:
                user = role_users[role]
                client = clients[role]
                before = comments_by(user)
                recommended_before = recommendations_by(user)
                if method == "GET":
                    response = client.get(url)
                else:
                    data = {
                        field: value.format(**samples)
                        for field, value in POST_DATA.get(route.key, {}).items()
                    }
                    response = client.post(url, data)
                if route.key in SIGNS_OUT:
                    clients.forget(role)
                got = outcome(response)
                if route.key in POSTS_A_COMMENT and method == "POST" and got == "served":
                    # A redirect back to the form is a refusal when nothing was posted.
                    got = "served" if comments_by(user) > before else "refused"
                if route.key in RECOMMENDS and method == "POST" and got == "served":
                    got = "served" if recommendations_by(user) > recommended_before else "refused"
                expected = "served" if role in allowed else "refused"
                if access.allowed_may_refuse and role in allowed and got == "refused":
                    where = response.get("Location", "")
                    got = "refused" if any(m in where for m in REFUSING_REDIRECTS) else "served"
                checked += 1
                if got != expected:
                    where = response.get("Location", "")
                    failures.append(
                        f"{method} {url} [{route.key}, {access.name}] as {role}: expected "
                        f"{expected}, got {got} ({response.status_code} {where})".rstrip()
                    )
    print(f"permission matrix: {checked} route checks")
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)


def test_api_permission_matrix(
    role_users: dict[str, Any], samples: dict[str, str], no_rate_limits: None
) -> None:
    from civility.discussion.services import issue_api_token
    from civility.standards.rules import RULES_BY_SLUG

    failures: list[str] = []
    bodies = {
        "POST /api/articles/{slug}/comments": {"text": "A calm, kind remark from the API."},
        "POST /api/comments/{comment_id}/report": {"rule": next(iter(RULES_BY_SLUG))},
        "POST /api/comments/{comment_id}/review": {
            "explanation": "It keeps to every rule, I think."
        },
        "POST /api/auth/token": {"email": "reader@example.org", "password": "S3cure-pass!"},
    }
    for operation in api_operations():
        allowed = API_OPERATIONS[operation]
        method, path = operation.split(" ", 1)
        url = (
            path.replace("{slug}", samples["slug"])
            .replace("{comment_id}", samples["pk"])
            .replace("{user_id}", samples["user_id"])
        )
        for role in ROLES:
            user = role_users[role]
            headers = {}
            if user is not None:
                headers["Authorization"] = f"Bearer {issue_api_token(user, name='matrix')[0]}"
            response = Client(raise_request_exception=False).generic(
                method,
                url,
                json.dumps(bodies.get(operation, {})),
                content_type="application/json",
                headers=headers,
            )
            got = outcome(response)
            expected = "served" if role in allowed else "refused"
            if got != expected:
                failures.append(
                    f"{operation} as {role}: expected {expected}, got {got} "
                    f"({response.status_code} {response.content[:120]!r})"
                )
    assert not failures, "\n".join(failures)
