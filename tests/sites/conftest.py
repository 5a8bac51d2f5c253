# ruff: noqa: RUF001  (Russian text: its Cyrillic letters are meant)
"""Two language versions in one installation: the default English site and a Russian site
answering under the /ru/ path prefix."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.discussion.conftest import (  # noqa: F401  (fixtures shared with the discussion tests)
    _fresh_cache,
    make_article,
    make_user,
)

RU_ARTICLE = {
    "headline": "Россия и Япония возобновили переговоры о мирном договоре",
    "lead": "Министры иностранных дел встретились в Москве, чтобы обсудить мирный договор.",
    "body": "<p>Министры иностранных дел России и Японии встретились в понедельник в Москве, "
    "чтобы возобновить переговоры о мирном договоре. Спор о южных Курильских островах "
    "десятилетиями мешает подписанию договора.</p>",
}


@pytest.fixture
def en_site(db: Any) -> Any:
    from civility.sites.current import ensure_default_site

    return ensure_default_site()


@pytest.fixture
def ru_site(db: Any) -> Any:
    from civility.sites.models import Site

    return Site.objects.create(
        name="Civility по-русски",
        path_prefix="ru",
        language="ru",
        majority_languages="ru",
        timezone="Europe/Moscow",
    )


@pytest.fixture
def en_article(en_site: Any) -> Any:
    return make_article("peace-treaty-talks", site=en_site)


@pytest.fixture
def ru_article(ru_site: Any) -> Any:
    return make_article("peregovory-o-mirnom-dogovore", site=ru_site, **RU_ARTICLE)


@pytest.fixture
def reader(db: Any) -> Any:
    return make_user("alice@example.org", name="Alice")


@pytest.fixture
def ru_moderator(ru_site: Any) -> Any:
    from civility.sites.models import ModeratorGrant

    user = make_user("olga@example.org", name="Olga")
    ModeratorGrant.objects.create(user=user, site=ru_site)
    return user


@pytest.fixture
def ru_moderator_client(ru_moderator: Any) -> Client:
    client = Client()
    client.force_login(ru_moderator)
    return client
