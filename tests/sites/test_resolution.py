"""How a request finds its site: host, then path prefix, else the default site; and what the
site sets for the rest of the request (language, timezone, script prefix)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation

from civility.sites import current
from civility.sites.middleware import CurrentSiteMiddleware
from civility.sites.models import Site

pytestmark = pytest.mark.django_db


def seen_by_view(request: HttpRequest) -> dict[str, Any]:
    """What a view running behind the middleware sees."""
    seen: dict[str, Any] = {}

    def view(inner: HttpRequest) -> HttpResponse:
        seen.update(
            site=inner.site.name,  # type: ignore[attr-defined]
            path_info=inner.path_info,
            front=reverse("news:front"),
            language=translation.get_language(),
            timezone=timezone.get_current_timezone_name(),
            current=current.current_site().name,
        )
        return HttpResponse("ok")

    CurrentSiteMiddleware(view)(request)
    return seen


def test_host_then_prefix_then_default(settings: Any) -> None:
    current.ensure_default_site()
    Site.objects.create(name="RU host", domain="ru.example.org", language="ru")
    Site.objects.create(name="RU prefix", path_prefix="ru", language="ru")
    Site.objects.create(name="RU host and prefix", domain="ru.example.org", path_prefix="ru")
    assert current.match("ru.example.org", "/news/x/").site.name == "RU host"
    assert current.match("ru.example.org", "/ru/news/x/").site.name == "RU host and prefix"
    assert current.match("example.org", "/ru/news/x/").site.name == "RU prefix"
    assert current.match("example.org", "/rus/").site.is_default
    assert current.match("unknown.example", "/").site.is_default


def test_a_prefix_site_sets_language_timezone_and_script_prefix() -> None:
    current.ensure_default_site()
    Site.objects.create(name="RU", path_prefix="ru", language="ru", timezone="Europe/Moscow")
    request = RequestFactory().get("/ru/news/x/", HTTP_ACCEPT_LANGUAGE="fr")
    seen = seen_by_view(request)
    assert seen == {
        "site": "RU",
        "path_info": "/news/x/",
        "front": "/ru/",
        "language": "ru",
        "timezone": "Europe/Moscow",
        "current": "RU",
    }
    # Nothing leaks into the next request handled by this thread.
    assert get_script_prefix() == "/"
    assert timezone.get_current_timezone_name() == "UTC"
    assert current.current_site().is_default


def test_the_default_site_leaves_language_and_timezone_as_before() -> None:
    request = RequestFactory().get("/news/x/", HTTP_ACCEPT_LANGUAGE="fr")
    seen = seen_by_view(request)
    assert seen["front"] == "/" and seen["timezone"] == "UTC" and seen["path_info"] == "/news/x/"
    # LocaleMiddleware (not run here) chooses from Accept-Language, as before sites.
    assert request.META["HTTP_ACCEPT_LANGUAGE"] == "fr"


def test_reader_language_choice_still_works_on_the_default_site(client: Client) -> None:
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="ru")
    assert '<html lang="ru"' in page.content.decode()


def test_site_fields_are_validated() -> None:
    site = Site(
        name="Bad", majority_languages="english", timezone="Mars/Olympus", path_prefix="R U"
    )
    with pytest.raises(ValidationError) as error:
        site.full_clean()
    assert {"majority_languages", "timezone", "path_prefix"} <= set(error.value.message_dict)
    good = Site(
        name="Good", majority_languages=" RU ; uk ", path_prefix="/ru/", domain="RU.Example.org."
    )
    good.full_clean()
    assert (good.majority_languages, good.path_prefix, good.domain) == (
        "ru, uk",
        "ru",
        "ru.example.org",
    )
    assert good.language_codes == ("ru", "uk")


def test_blank_majority_languages_follow_the_setting(settings: Any) -> None:
    settings.SITE_LANGUAGES = ["en", "fr"]
    assert current.ensure_default_site().language_codes == ("en", "fr")


@pytest.mark.django_db(transaction=True)
def test_a_flush_recreates_the_default_site_and_new_sites_still_get_ids() -> None:
    from tests.discussion.conftest import make_article

    call_command("flush", interactive=False, verbosity=0)
    default = Site.objects.get(pk=current.default_site_id())
    assert default.is_default
    other = Site.objects.create(name="Other", path_prefix="other")
    assert other.pk != default.pk
    assert make_article("after-flush").site_id == default.pk


def test_sites_are_managed_in_the_admin(make_user: Any) -> None:
    staff = make_user("editor@example.org", staff=True)
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/civility_sites/site/").status_code == 200
    assert client.get("/admin/civility_sites/moderatorgrant/add/").status_code == 200


def test_a_cache_outage_does_not_stop_site_resolution() -> None:
    from django.core.cache import caches
    from django.test import override_settings

    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nobody listens there
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    with override_settings(CACHES=dead):
        try:
            assert current.all_sites()[0].is_default
            current.clear_cache()
        finally:
            caches["default"].close()


def test_with_several_sites_the_article_admin_names_the_site(make_user: Any) -> None:
    from tests.discussion.conftest import make_article

    staff = make_user("chief@example.org", staff=True)
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    article = make_article("one-site")
    single = client.get(f"/admin/news/article/{article.pk}/change/").content.decode()
    assert 'name="site"' not in single
    Site.objects.create(name="RU", path_prefix="ru", language="ru")
    several = client.get(f"/admin/news/article/{article.pk}/change/").content.decode()
    assert 'name="site"' in several
    grant = client.post(
        "/admin/civility_sites/moderatorgrant/add/", {"user": staff.pk, "site": ""}, follow=True
    )
    assert grant.status_code == 200
    from civility.sites.models import ModeratorGrant

    assert ModeratorGrant.objects.get(user=staff).granted_by == staff
