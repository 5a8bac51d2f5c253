"""Who may moderate: members of the "moderators" group, and staff."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

MODERATORS_GROUP = "moderators"


def is_moderator(user: Any) -> bool:
    """True for an active, signed-in member of the "moderators" group or a staff member."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    cached = getattr(user, "_civility_is_moderator", None)
    if cached is None:
        cached = user.groups.filter(name=MODERATORS_GROUP).exists()
        user._civility_is_moderator = cached
    return bool(cached)


def moderator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; signed-in readers get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_moderator(request.user):
            raise PermissionDenied("Moderators only.")
        return view(request, *args, **kwargs)

    wrapper.moderator_only = True  # type: ignore[attr-defined]
    return wrapper
