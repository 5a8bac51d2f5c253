"""An article is found only on its own site: the discussion pages and API ask for the
request's site's articles."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from civility.discussion.selectors import get_published_article_or_404
from civility.sites.current import reset_current, set_current
from tests.discussion.conftest import make_article

pytestmark = pytest.mark.django_db


def test_an_article_is_found_on_its_own_site_only() -> None:
    from civility.sites.current import ensure_default_site
    from civility.sites.models import Site

    default = ensure_default_site()
    other = Site.objects.create(name="Other", path_prefix="other", language="en")
    home = make_article("home-story", site=default)
    away = make_article("away-story", site=other)
    assert get_published_article_or_404("home-story") == home  # outside a request: the default
    with pytest.raises(Http404):
        get_published_article_or_404("away-story")
    token = set_current(other)
    try:
        assert get_published_article_or_404("away-story") == away
        with pytest.raises(Http404):
            get_published_article_or_404("home-story")
    finally:
        reset_current(token)
    assert get_published_article_or_404("away-story", site_id=other.pk) == away


def test_the_api_finds_no_article_of_another_site(client: Any) -> None:
    from civility.sites.current import ensure_default_site
    from civility.sites.models import Site

    ensure_default_site()
    other = Site.objects.create(name="Other", path_prefix="other", language="en")
    make_article("away-story", site=other)
    assert client.get("/api/articles/away-story/comments").status_code == 404
