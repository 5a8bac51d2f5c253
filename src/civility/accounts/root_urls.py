"""Pages that live at the site root: /standards/, /privacy/ and the push service worker.

config/urls.py includes this module at "" (the service worker must be served from the root
so its scope covers the whole site).
"""

from django.urls import path

from civility.accounts import views
from civility.notifications import views as notification_views

urlpatterns = [
    path("standards/", views.standards, name="standards"),
    path("privacy/", views.privacy, name="privacy"),
    path("service-worker.js", notification_views.service_worker, name="service_worker"),
]
