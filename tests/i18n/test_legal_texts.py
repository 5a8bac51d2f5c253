"""Community standards and privacy policy per language, versioned per language.

The reader sees the text in their language (English where it has none), and a consent names
the exact text the user saw: its language and its version.
"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from civility.accounts import legal, selectors, services
from civility.accounts.models import Consent
from civility.standards.rules import RULES
from tests.accounts.helpers import make_user
from tests.i18n.helpers import (
    member_since_last_week,
    published_policy,
    reader_client,
    signed_in_reader,
)

SHIPPED = [code for code, _name in settings.LANGUAGES]


@pytest.mark.parametrize("language", SHIPPED)
def test_every_interface_language_ships_its_own_standards_and_privacy_texts(
    language: str,
) -> None:
    assert language in legal.shipped_languages()
    standards = legal.standards_text(language)
    privacy = legal.shipped_privacy_text(language)
    assert standards.language == privacy.language == language
    english = legal.standards_text("en")
    translated = legal._load(language, "standards")["rules"]
    assert isinstance(translated, dict)
    assert set(translated) == {rule.slug for rule in RULES}, "every rule, no stray slugs"
    assert [rule.number for rule in standards.rules] == [rule.number for rule in RULES]
    assert len(privacy.paragraphs()) == len(legal.shipped_privacy_text("en").paragraphs())
    if language != "en":
        # Translated, not copied: no rule title and no paragraph is the English one.
        for ours, theirs in zip(standards.rules, english.rules, strict=True):
            assert ours.text != theirs.text
        assert standards.title != english.title and standards.intro != english.intro
        assert not set(privacy.paragraphs()) & set(legal.shipped_privacy_text("en").paragraphs())


def test_a_language_without_texts_falls_back_to_english() -> None:
    assert legal.text_language("de") == "en"
    assert legal.text_language("ru-ru") == "ru"
    assert legal.localized_rule("insult", "de").title == "Insult"
    assert legal.localized_rule("insult", "ru").title == "Оскорбление"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "title", "rule_title"),
    [
        ("en", "Community standards", "Foreign language"),
        ("ru", "Правила сообщества", "Иностранный язык"),
        ("es", "Normas de la comunidad", "Idioma extranjero"),
        ("fr", "Règles de la communauté", "Langue étrangère"),
        ("ar", "قواعد المجتمع", "لغة أجنبية"),
    ],
)
def test_the_standards_page_is_in_the_readers_language(
    language: str, title: str, rule_title: str
) -> None:
    html = reader_client(language).get(reverse("accounts:standards")).content.decode()
    assert f"<h1>{title}</h1>" in html
    assert rule_title in html and 'id="rule-20"' in html
    assert selectors.standards_version(language) in html
    assert selectors.standards_version(language).endswith(f"/{language}-1")


@pytest.mark.django_db
def test_an_unsupported_browser_language_reads_the_english_standards() -> None:
    html = reader_client("de").get(reverse("accounts:standards")).content.decode()
    assert "<h1>Community standards</h1>" in html and "Foreign language" in html


@pytest.mark.django_db
def test_the_standards_consent_names_the_language_and_revision_read() -> None:
    olga = make_user("olga@example.org")
    with translation.override("ru"):
        consent = services.accept_standards(olga)
    assert consent.language == "ru"
    assert consent.version == selectors.standards_version("ru")
    assert consent.version != selectors.standards_version("en")


@pytest.mark.django_db
def test_before_any_publication_the_shipped_privacy_text_shows_in_each_language() -> None:
    for language in SHIPPED:
        html = reader_client(language).get(reverse("accounts:privacy")).content.decode()
        shipped = legal.shipped_privacy_text(language)
        assert f"<h1>{shipped.title}</h1>" in html
        assert shipped.paragraphs()[0] in html


@pytest.mark.django_db
def test_each_reader_sees_the_privacy_policy_of_their_language_or_the_english_one() -> None:
    published_policy("en", "3", "English text, third version.")
    published_policy("ru", "1", "Русский текст, первая редакция.")
    russian = reader_client("ru").get(reverse("accounts:privacy")).content.decode()
    assert "Русский текст, первая редакция." in russian and "English text" not in russian
    spanish = reader_client("es").get(reverse("accounts:privacy")).content.decode()
    assert "English text, third version." in spanish
    assert selectors.active_privacy_policy("ru").version == "1"  # type: ignore[union-attr]
    assert selectors.active_privacy_policy("es").language == "en"  # type: ignore[union-attr]


@pytest.mark.django_db
def test_earlier_versions_are_listed_per_language() -> None:
    published_policy("ru", "1", "Первая.", at=timezone.now() - datetime.timedelta(days=2))
    published_policy("ru", "2", "Вторая.")
    published_policy("en", "7", "English seventh.")
    client = reader_client("ru")
    html = client.get(reverse("accounts:privacy")).content.decode()
    assert "Вторая." in html and "?version=1&amp;language=ru" in html and "version=7" not in html
    earlier = client.get(reverse("accounts:privacy"), {"version": "1", "language": "ru"})
    assert "Первая." in earlier.content.decode()
    missing = client.get(reverse("accounts:privacy"), {"version": "7", "language": "ru"})
    assert missing.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_consent_is_recorded_against_the_language_and_version_the_user_saw() -> None:
    published_policy("en", "3", "English text.")
    russian_policy = published_policy("ru", "1", "Русский текст.")
    pavel = member_since_last_week("pavel@example.org")
    client = signed_in_reader(pavel, "ru")
    blocked = client.get(reverse("accounts:home"))
    assert blocked.status_code == 302 and blocked["Location"].startswith(
        reverse("accounts:consent")
    )
    page = client.get(blocked["Location"]).content.decode()
    assert "Русский текст." in page and "English text." not in page
    agreed = client.post(
        blocked["Location"], {"decision": "agree", "agree": "on", "policy": russian_policy.pk}
    )
    assert agreed.status_code == 302
    consent = Consent.objects.get(user=pavel, kind=Consent.Kind.PRIVACY)
    assert (consent.language, consent.version) == ("ru", "1")
    assert client.get(reverse("accounts:home")).status_code == 200

    # Reading in English now: the English text is another text, which he has not agreed to.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    again = client.get(reverse("accounts:home"))
    assert again.status_code == 302 and again["Location"].startswith(reverse("accounts:consent"))


@pytest.mark.django_db(transaction=True)
def test_a_new_version_in_one_language_asks_only_its_readers() -> None:
    published_policy("fr", "2", "Nouveau texte.")
    anna = member_since_last_week("anna@example.org")
    assert signed_in_reader(anna, "en").get(reverse("accounts:home")).status_code == 200
    assert signed_in_reader(anna, "fr").get(reverse("accounts:home")).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_an_answer_to_a_text_no_longer_in_force_is_not_recorded() -> None:
    first = published_policy("ru", "1", "Первая редакция.")
    ivan = member_since_last_week("ivan@example.org")
    client = signed_in_reader(ivan, "ru")
    assert (
        f'name="policy" value="{first.pk}"'
        in client.get(reverse("accounts:consent")).content.decode()
    )
    second = published_policy("ru", "2", "Вторая редакция.")
    stale = client.post(
        reverse("accounts:consent"), {"decision": "agree", "agree": "on", "policy": first.pk}
    )
    assert stale.status_code == 200
    assert "Вторая редакция." in stale.content.decode()
    assert not Consent.objects.filter(user=ivan, kind=Consent.Kind.PRIVACY).exists()
    client.post(
        reverse("accounts:consent"), {"decision": "agree", "agree": "on", "policy": second.pk}
    )
    consent = Consent.objects.get(user=ivan, kind=Consent.Kind.PRIVACY)
    assert (consent.language, consent.version) == ("ru", "2")


@pytest.mark.django_db
def test_signing_up_in_arabic_records_the_arabic_standards_and_mails_in_arabic() -> None:
    from django.core import mail

    from tests.accounts.test_signup import signup_data

    client = reader_client("ar")
    form = client.get(reverse("account_signup")).content.decode()
    assert "أوافق على" in form and "قواعد المجتمع" in form
    response = client.post(reverse("account_signup"), signup_data(client, "layla@example.org"))
    assert response.status_code == 302, response.content.decode()[:2000]
    consent = Consent.objects.get(user__email="layla@example.org", kind=Consent.Kind.STANDARDS)
    assert (consent.language, consent.version) == ("ar", selectors.standards_version("ar"))
    assert consent.user.language == "ar"
    assert "قدّم أحدهم، وربما أنت" in str(mail.outbox[-1].body)


def test_rule_labels_for_other_pages_follow_the_language() -> None:
    assert [rule.slug for rule in legal.localized_rules("fr")] == [rule.slug for rule in RULES]
    assert legal.localized_rules("fr")[0].title == "Hors sujet"
    with translation.override("es"):
        assert legal.localized_rule_label("insult") == "norma 5, Insulto"
    assert legal.localized_rule_label("insult", "en") == "rule 5, Insult"
