"""The interface follows the reader's language: strings, direction, dates; mail follows the
recipient's."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from civility.accounts import services
from civility.accounts.models import User
from civility.notifications.services import _reply_title
from tests.accounts.helpers import PASSWORD, make_user
from tests.i18n.helpers import published_policy, reader_client

pytestmark = pytest.mark.django_db

SIGN_IN = {
    "en": "Sign in",
    "ru": "Войти",
    "es": "Iniciar sesión",
    "fr": "Se connecter",
    "ar": "تسجيل الدخول",
}


@pytest.mark.parametrize(("language", "sign_in"), SIGN_IN.items())
def test_the_page_chrome_is_in_the_readers_language(language: str, sign_in: str) -> None:
    html = reader_client(language).get(reverse("accounts:standards")).content.decode()
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert f">{sign_in}</a>" in html


def test_the_not_found_page_is_translated() -> None:
    response = reader_client("es").get("/no-such-page-at-all/")
    assert response.status_code == 404
    assert "Página no encontrada" in response.content.decode()


def test_a_russian_page_shows_a_russian_month_name() -> None:
    published_policy(
        "ru", "1", "Текст.", at=datetime.datetime(2026, 3, 5, 12, 0, tzinfo=datetime.UTC)
    )
    html = reader_client("ru").get(reverse("accounts:privacy")).content.decode()
    assert "5 марта 2026" in html and "Версия 1" in html
    # The same version read with an English interface: the date follows the interface.
    english = reader_client("en").get(
        reverse("accounts:privacy"), {"version": "1", "language": "ru"}
    )
    assert "in force since March 5, 2026" in english.content.decode()


def test_signing_in_remembers_the_interface_language() -> None:
    olga = make_user("olga@example.org")
    client = reader_client("fr")
    client.post(reverse("account_login"), {"login": olga.email, "password": PASSWORD})
    olga.refresh_from_db()
    assert olga.language == "fr"


def test_mail_is_written_in_the_recipients_language(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ivan = make_user("ivan@example.org")
    User.objects.filter(pk=ivan.pk).update(language="ru")
    ivan.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_account(ivan)
    message = mail.outbox[-1]
    assert "Ваша учётная запись удалена" in message.subject
    assert "Передумали?" in message.body
    until = timezone.localtime(ivan.deleted_at or timezone.now()) + datetime.timedelta(days=30)
    russian_months = (
        "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
    )
    assert russian_months.split()[until.month - 1] in message.body


def test_a_push_title_is_in_the_recipients_language() -> None:
    marie = make_user("marie@example.org")
    marie.language = "fr"
    assert _reply_title(marie, "Oleg") == "Oleg a répondu à votre commentaire"
    marie.language = "ar"
    assert _reply_title(marie, "Oleg") == "ردّ Oleg على تعليقك"


def test_a_reader_switches_the_interface_language() -> None:
    client = reader_client("en")
    front = client.get(reverse("accounts:standards")).content.decode()
    assert f"{reverse('language')}?next=" in front and "English</a>" in front
    page = client.get(reverse("language"), {"next": "/standards/"})
    html = page.content.decode()
    assert page.status_code == 200 and 'name="language" value="ar"' in html and "العربيّة" in html
    switched = client.post(reverse("set_language"), {"language": "ru", "next": "/standards/"})
    assert switched.status_code == 302 and switched["Location"] == "/standards/"
    assert client.cookies["django_language"].value == "ru"
    client.defaults.pop("HTTP_ACCEPT_LANGUAGE", None)
    assert "<h1>Правила сообщества</h1>" in client.get("/standards/").content.decode()


def test_the_language_page_ignores_a_next_address_on_another_host() -> None:
    html = reader_client("en").get(reverse("language"), {"next": "https://evil.example/"})
    assert 'name="next" value="/"' in html.content.decode()


def test_the_server_error_page_follows_the_language_too() -> None:
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("ar"):
        html = render_to_string("500.html")
    assert '<html lang="ar" dir="rtl">' in html and "حدث خطأ ما" in html
