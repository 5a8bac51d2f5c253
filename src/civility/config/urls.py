"""Root URLconf: each app contributes its own urls module."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve as serve_file

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("account/", include("civility.accounts.urls")),
    path("moderation/", include("civility.moderation.urls")),
    path("notifications/", include("civility.notifications.urls")),
    path("", include("civility.accounts.root_urls")),
    path("", include("civility.ops.urls")),
    path("", include("civility.security.urls")),
    path("", include("civility.discussion.urls")),
    path("", include("civility.news.urls")),
    # Uploaded article photos. Only editors upload, and the files are few, so Django serves
    # them itself; a large site can serve MEDIA_ROOT from its reverse proxy instead.
    re_path(r"^media/(?P<path>.+)$", serve_file, {"document_root": settings.MEDIA_ROOT}),
]
