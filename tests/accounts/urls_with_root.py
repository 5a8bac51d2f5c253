"""The project's URLconf with the root pages of the accounts app (/privacy/, /standards/).

Until config/urls.py includes civility.accounts.root_urls, contract tests use this one.
"""

from django.urls import include, path

from civility.config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("", include("civility.accounts.root_urls")), *project_urlpatterns]
