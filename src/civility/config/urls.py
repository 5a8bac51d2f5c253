"""Root URLconf: each app contributes its own urls module."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("account/", include("civility.accounts.urls")),
    path("moderation/", include("civility.moderation.urls")),
    path("notifications/", include("civility.notifications.urls")),
    path("", include("civility.discussion.urls")),
    path("", include("civility.news.urls")),
]
