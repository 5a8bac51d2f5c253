"""Who may use each route: the classification the permission matrix checks.

Every URL pattern (by its view name, or its pattern when it has none) and every API operation
("METHOD /api/path" from the OpenAPI schema) must appear here. A new route fails
tests/security/test_permission_matrix.py until someone decides who may use it and adds it.
Only the admin site is classified by a wildcard: Django's admin checks is_staff for all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("anonymous", "unverified", "reader", "blocked", "moderator", "staff")

EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
VERIFIED = SIGNED_IN - {"unverified"}
COMMENTERS = VERIFIED - {"blocked"}
MODERATORS = frozenset({"moderator", "staff"})
STAFF = frozenset({"staff"})
OWNER = frozenset({"reader"})  # the sample comment's author


@dataclass(frozen=True)
class Access:
    """The roles a GET and a POST must succeed for; every other role must be refused.

    ``None`` means the method is not part of the route (not requested by the matrix).
    """

    name: str
    get: frozenset[str] | None
    post: frozenset[str] | None
    # The admin site: past the is_staff gate, model permissions may still refuse (403/404).
    allowed_may_refuse: bool = False


PUBLIC_PAGE = Access("public page", get=EVERYONE, post=None)
PUBLIC_FORM = Access("public form", get=EVERYONE, post=EVERYONE)
PUBLIC_ENDPOINT = Access("public POST endpoint", get=None, post=EVERYONE)
SIGNED_IN_PAGE = Access("signed-in page", get=SIGNED_IN, post=SIGNED_IN)
SIGNED_IN_READ = Access("signed-in page (read-only)", get=SIGNED_IN, post=None)
SIGNED_IN_ACTION = Access("signed-in action (POST only)", get=None, post=SIGNED_IN)
COMMENT_FORM = Access("comment form", get=SIGNED_IN, post=COMMENTERS)
COMMENT_POST = Access("comment posting (POST only)", get=None, post=COMMENTERS)
# Blocked readers may still flag abuse: a block stops writing, not reporting.
REPORT_FORM = Access("report form", get=SIGNED_IN, post=VERIFIED)
OWN_COMMENT = Access("own comment (author only)", get=OWNER, post=OWNER)
MODERATION = Access("moderators only", get=MODERATORS, post=MODERATORS)
MODERATION_ACTION = Access("moderators only (POST only)", get=None, post=MODERATORS)
ADMIN_SITE = Access("staff only (admin site)", get=STAFF, post=None, allowed_may_refuse=True)
STAFF_PAGE = Access("staff only", get=STAFF, post=STAFF)
ADMIN_LOGIN = Access("admin sign-in page", get=EVERYONE, post=None)
ADMIN_LOGOUT = Access("admin sign-out (POST only)", get=None, post=EVERYONE)
# Steps of a flow that must have been started (a social sign-in, a signed link): out of one,
# everyone is refused or sent to the login page.
FLOW_STEP = Access("step of a sign-in flow (refused out of one)", get=frozenset(), post=frozenset())
FLOW_CALLBACK = Access("provider callback (refused without a flow)", get=frozenset(), post=None)
FLOW_TOKEN = Access(
    "provider token sign-in (refused without a valid token)", get=None, post=frozenset()
)
KEY_LINK = Access("signed link (a wrong key is refused)", get=EVERYONE, post=frozenset())
LOGIN_CODE_STEP = Access("login-code step (needs a pending sign-in)", get=SIGNED_IN, post=None)
UNLOCK_FORM = Access(
    "unlock request (blocked users, or by user id)",
    get=EVERYONE,
    post=frozenset({"anonymous", "blocked"}),
)
OWN_TOKENS = Access("own API tokens (revoke only your own)", get=SIGNED_IN, post=OWNER)
API_ROUTE = Access("API route: checked per operation (API_OPERATIONS)", get=None, post=None)

ROUTES: dict[str, Access] = {
    # allauth: sign-in, sign-up, e-mail and password management
    "account_login": PUBLIC_FORM,
    "account_logout": PUBLIC_FORM,
    "account_inactive": PUBLIC_PAGE,
    "account_signup": PUBLIC_FORM,
    "account_reauthenticate": SIGNED_IN_PAGE,
    "account_request_reauthentication_code": SIGNED_IN_PAGE,
    "account_confirm_reauthentication_code": SIGNED_IN_PAGE,
    "account_email": SIGNED_IN_PAGE,
    "account_email_verification_sent": PUBLIC_PAGE,
    "account_change_password": SIGNED_IN_PAGE,
    "account_set_password": SIGNED_IN_PAGE,
    "account_reset_password": PUBLIC_FORM,
    "account_confirm_login_code": LOGIN_CODE_STEP,
    "account_confirm_email": KEY_LINK,
    "account_reset_password_from_key_done": PUBLIC_PAGE,
    "account_reset_password_from_key": PUBLIC_FORM,
    "account_reset_password_done": PUBLIC_PAGE,
    "socialaccount_login_cancelled": PUBLIC_PAGE,
    "socialaccount_login_error": FLOW_CALLBACK,
    "socialaccount_signup": FLOW_STEP,
    "socialaccount_connections": SIGNED_IN_PAGE,
    "accounts/social/login/cancelled/": PUBLIC_PAGE,
    "accounts/social/login/error/": PUBLIC_PAGE,
    "accounts/social/signup/": PUBLIC_PAGE,
    "accounts/social/connections/": PUBLIC_PAGE,
    "google_login": PUBLIC_FORM,
    "google_callback": FLOW_CALLBACK,
    "google_login_by_token": FLOW_TOKEN,
    "facebook_login": PUBLIC_FORM,
    "facebook_callback": FLOW_CALLBACK,
    "facebook_login_by_token": FLOW_TOKEN,
    "vk_login": PUBLIC_FORM,
    "vk_callback": FLOW_CALLBACK,
    # accounts app
    "accounts:home": SIGNED_IN_READ,
    "accounts:display_name": SIGNED_IN_PAGE,
    "accounts:captcha_challenge": PUBLIC_PAGE,
    "accounts:standards": PUBLIC_PAGE,
    "accounts:privacy": PUBLIC_PAGE,
    "accounts:consent": SIGNED_IN_PAGE,
    "accounts:delete": SIGNED_IN_PAGE,
    "accounts:deleted": PUBLIC_PAGE,
    "accounts:restore": PUBLIC_FORM,
    "accounts:my_data": SIGNED_IN_READ,
    "accounts:download_my_data": SIGNED_IN_READ,
    "standards": PUBLIC_PAGE,
    "privacy": PUBLIC_PAGE,
    # the interface language: a page of buttons, and Django's set_language (a cookie, then a
    # redirect to a same-site "next"; GET only redirects)
    "language": PUBLIC_PAGE,
    "set_language": PUBLIC_FORM,
    "service_worker": PUBLIC_PAGE,
    # moderation (moderators and staff)
    "moderation:dashboard": MODERATION,
    "moderation:queue": MODERATION,
    "moderation:bulk": MODERATION_ACTION,
    "moderation:comment": MODERATION,
    "moderation:approve": MODERATION_ACTION,
    "moderation:reject": MODERATION_ACTION,
    "moderation:edit": MODERATION,
    "moderation:feature": MODERATION_ACTION,
    "moderation:user": MODERATION,
    "moderation:block": MODERATION_ACTION,
    "moderation:restore": MODERATION_ACTION,
    "moderation:suspend": MODERATION_ACTION,
    "moderation:add_note": MODERATION_ACTION,
    "moderation:delete_note": MODERATION_ACTION,
    "moderation:premoderation": MODERATION_ACTION,
    "moderation:delete_account": MODERATION,
    "moderation:appeals": MODERATION,
    "moderation:decide_appeal": MODERATION_ACTION,
    "moderation:reviews": MODERATION,
    "moderation:decide_review": MODERATION_ACTION,
    "moderation:messages": MODERATION,
    "moderation:message_handled": MODERATION_ACTION,
    "moderation:email_domains": MODERATION,
    "moderation:remove_email_domain": MODERATION_ACTION,
    "moderation:policy": MODERATION,
    "moderation:threads": MODERATION,
    "moderation:thread_update": MODERATION_ACTION,
    "moderation:article_settings": MODERATION_ACTION,
    "moderation:audit": MODERATION,
    # notifications
    "notifications:settings": SIGNED_IN_PAGE,
    "notifications:service_worker": PUBLIC_PAGE,
    "notifications:vapid_public_key": PUBLIC_PAGE,
    # Anonymous readers may take push notifications too; the push endpoint URL (a secret the
    # browser's push service made) is the capability that identifies a subscription.
    "notifications:subscribe": PUBLIC_ENDPOINT,
    "notifications:unsubscribe": PUBLIC_ENDPOINT,
    # discussion: API (per operation below), pages and forms
    "discussion:api:openapi-json": PUBLIC_PAGE,
    "discussion:api:openapi-view": PUBLIC_PAGE,
    "discussion:api:api-root": API_ROUTE,
    "discussion:api:list_articles": API_ROUTE,
    "discussion:api:list_comments": API_ROUTE,
    "discussion:api:create_comment": API_ROUTE,
    "discussion:api:comment_status": API_ROUTE,
    "discussion:api:report": API_ROUTE,
    "discussion:api:request_review": API_ROUTE,
    "discussion:api:recommend": API_ROUTE,
    "discussion:api:withdraw_recommendation": API_ROUTE,
    "discussion:api:ignore_comment_author": API_ROUTE,
    "discussion:api:read_comment_author_again": API_ROUTE,
    "discussion:api:list_ignored": API_ROUTE,
    "discussion:api:list_replies": API_ROUTE,
    "discussion:api:read_replies": API_ROUTE,
    "discussion:api:unignore": API_ROUTE,
    "discussion:api:create_token": API_ROUTE,
    "discussion:api:revoke_token": API_ROUTE,
    "discussion:post": COMMENT_POST,
    "discussion:comment": PUBLIC_PAGE,
    # the comment section alone (what thread.js fetches for the next page): public, like the page
    "discussion:section": PUBLIC_PAGE,
    "discussion:reply": SIGNED_IN_READ,
    "discussion:edit": OWN_COMMENT,
    "discussion:delete": OWN_COMMENT,
    "discussion:report": REPORT_FORM,
    "discussion:recommend": COMMENT_POST,
    # Ignoring is a reading preference: blocked and unverified readers may choose it too.
    "discussion:ignore_author": SIGNED_IN_PAGE,
    "discussion:ignored_authors": SIGNED_IN_READ,
    "discussion:unignore_author": SIGNED_IN_ACTION,
    "discussion:most_discussed": PUBLIC_PAGE,
    "discussion:section_latest": PUBLIC_PAGE,
    "news:recommended": PUBLIC_PAGE,
    "discussion:my_comments": SIGNED_IN_READ,
    "discussion:my_replies": SIGNED_IN_READ,
    "discussion:api_tokens": OWN_TOKENS,
    "discussion:embed_js": PUBLIC_PAGE,
    "discussion:count_js": PUBLIC_PAGE,
    "discussion:embed_counts": PUBLIC_PAGE,
    "discussion:comments_feed": PUBLIC_PAGE,
    "discussion:embed_thread": PUBLIC_PAGE,
    "discussion:embed_post": COMMENT_POST,
    "discussion:embed_recommend": COMMENT_POST,
    "discussion:blocked": PUBLIC_PAGE,
    "discussion:unlock": UNLOCK_FORM,
    "discussion:contact": PUBLIC_FORM,
    # Asking for a review of a removal: the comment's author only (another's comment is a 404).
    "discussion:request_review": OWN_COMMENT,
    # news
    "news:front": PUBLIC_PAGE,
    "news:article": PUBLIC_PAGE,
    "news:share": PUBLIC_ENDPOINT,
    "news:tag": PUBLIC_PAGE,
    "news:short": PUBLIC_PAGE,
    "news:search": PUBLIC_PAGE,
    "news:feed": PUBLIC_PAGE,
    # ops and security
    "security:security_txt": PUBLIC_PAGE,
    "security:csp_report": PUBLIC_ENDPOINT,
    "security:reveal_personal_data": STAFF_PAGE,
    # ops: health for the load balancer; metrics are open unless CIVILITY_METRICS_ALLOWED_IPS
    # is set (docs/security.md asks operators to set it or to restrict /metrics at the proxy)
    "ops:healthz": PUBLIC_PAGE,
    "ops:metrics": PUBLIC_PAGE,
    # uploaded article photos
    "^media/(?P<path>.+)$": PUBLIC_PAGE,
}

# Classified by pattern: the admin site is one permission domain (is_staff, then model perms).
ROUTE_WILDCARDS: dict[str, Access] = {"admin:*": ADMIN_SITE, "admin/*": ADMIN_SITE}
ROUTES["admin:login"] = ADMIN_LOGIN
ROUTES["admin:logout"] = ADMIN_LOGOUT

# Every operation of the JSON API, "METHOD /path" as in /api/openapi.json.
API_OPERATIONS: dict[str, frozenset[str]] = {
    "GET /api/articles": EVERYONE,
    "GET /api/articles/{slug}/comments": EVERYONE,
    "POST /api/articles/{slug}/comments": COMMENTERS,
    "GET /api/comments/{comment_id}": OWNER,
    "POST /api/comments/{comment_id}/report": VERIFIED,
    "POST /api/comments/{comment_id}/review": OWNER,
    "PUT /api/comments/{comment_id}/recommendation": COMMENTERS,
    "DELETE /api/comments/{comment_id}/recommendation": COMMENTERS,
    # A reading preference: anyone signed in (as on the web pages).
    "PUT /api/comments/{comment_id}/ignore-author": SIGNED_IN,
    "DELETE /api/comments/{comment_id}/ignore-author": SIGNED_IN,
    "GET /api/me/ignored": SIGNED_IN,
    "GET /api/me/replies": SIGNED_IN,
    "POST /api/me/replies/read": SIGNED_IN,
    "DELETE /api/me/ignored/{user_id}": SIGNED_IN,
    "POST /api/auth/token": EVERYONE,
    "DELETE /api/auth/token": SIGNED_IN,
}
