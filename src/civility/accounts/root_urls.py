"""Pages that live at the site root: /standards/, /privacy/, the language switcher and the push
service worker.

config/urls.py includes this module at "" (the service worker must be served from the root
so its scope covers the whole site).
"""

from django.urls import path
from django.views.i18n import set_language

from civility.accounts import views
from civility.notifications import views as notification_views

urlpatterns = [
    path("standards/", views.standards, name="standards"),
    path("privacy/", views.privacy, name="privacy"),
    path("language/", views.choose_language, name="language"),
    # Django's own view (what django.conf.urls.i18n routes): POST language=<code>, next=<path>;
    # it stores the choice in the django_language cookie.
    path("i18n/setlang/", set_language, name="set_language"),
    path("service-worker.js", notification_views.service_worker, name="service_worker"),
]
