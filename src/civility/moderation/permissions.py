"""Who may moderate, and where.

Staff and members of the "moderators" group moderate every site (as before sites existed);
a :class:`~civility.sites.models.ModeratorGrant` lets a user moderate one site, or every site.
A moderator of one site sees only that site's queues, comments, dashboard and audit entries;
account-wide actions (blocks, pre-moderation of a user, account deletion, unlock requests,
contact messages) affect every site and are for moderators of every site.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

MODERATORS_GROUP = "moderators"


@dataclass(frozen=True)
class ModerationScope:
    all_sites: bool
    site_ids: frozenset[int]

    def covers(self, site_id: int) -> bool:
        return self.all_sites or site_id in self.site_ids


NOBODY = ModerationScope(all_sites=False, site_ids=frozenset())
EVERYWHERE = ModerationScope(all_sites=True, site_ids=frozenset())


def moderation_scope(user: Any) -> ModerationScope:
    """The sites ``user`` moderates (at most two queries, then cached on the user object)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOBODY
    if user.is_staff or user.is_superuser:
        return EVERYWHERE
    cached = getattr(user, "_civility_moderation_scope", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from civility.sites.models import ModeratorGrant

    if user.groups.filter(name=MODERATORS_GROUP).exists():
        scope = EVERYWHERE
    else:
        grants = list(ModeratorGrant.objects.filter(user=user).values_list("site_id", flat=True))
        scope = ModerationScope(
            all_sites=None in grants,
            site_ids=frozenset(site_id for site_id in grants if site_id is not None),
        )
    user._civility_moderation_scope = scope
    return scope


def _site_id(site: Any) -> int | None:
    if site is None:
        return None
    return int(getattr(site, "pk", site))


def is_moderator(user: Any, site: Any = None) -> bool:
    """True for an active, signed-in user who moderates ``site`` (an instance or an id), or
    any site when ``site`` is None."""
    scope = moderation_scope(user)
    site_id = _site_id(site)
    if site_id is None:
        return scope.all_sites or bool(scope.site_ids)
    return scope.covers(site_id)


def moderates_all_sites(user: Any) -> bool:
    return moderation_scope(user).all_sites


def request_site_id(request: HttpRequest) -> int:
    site = getattr(request, "site", None)
    if site is None:
        from civility.sites.current import current_site

        site = current_site()
    return int(site.pk)


def moderator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; signed-in users who do not moderate the
    request's site get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_moderator(request.user, request_site_id(request)):
            raise PermissionDenied(_("Moderators only."))
        return view(request, *args, **kwargs)

    wrapper.moderator_only = True  # type: ignore[attr-defined]
    return wrapper


def all_sites_moderator_required(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """For actions on shared accounts: moderators of every site only (others get 403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not moderates_all_sites(request.user):
            raise PermissionDenied(
                _("Accounts are shared by every site: moderators of every site only.")
            )
        return view(request, *args, **kwargs)

    wrapper.moderator_only = True  # type: ignore[attr-defined]
    return wrapper
