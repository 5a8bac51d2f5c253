"""Rule 7: personal data is found, with spans, and ordinary numbers are left alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards.analysis import analyse
from civility.standards.detectors.privacy import (
    PrivacyDetector,
    find_personal_data,
    iban_valid,
    luhn_valid,
)
from civility.standards.engine import EMPTY_CONTEXT
from civility.standards.policy import default_policy
from civility.standards.types import Comment


def kinds(text: str) -> list[str]:
    return [datum.kind for datum in find_personal_data(text)]


def score(text: str) -> float:
    return (
        PrivacyDetector(default_policy())
        .detect(analyse(Comment(text)), EMPTY_CONTEXT)["privacy"]
        .score
    )


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Write to jane.doe@example.org for the files", "e-mail address", "jane.doe@example.org"),
        ("His card is 4111 1111 1111 1111, go ahead", "card number", "4111 1111 1111 1111"),
        ("My IBAN is GB82WEST12345698765432", "IBAN", "GB82WEST12345698765432"),
        ("Here's his SSN: 123-45-6789", "social security number", "123-45-6789"),
        ("NI number AB 12 34 56 C on the form", "national insurance number", "AB 12 34 56 C"),
        ("Call her on +44 20 7946 0958 tonight", "phone number", "+44 20 7946 0958"),
        ("Phone: (602) 272-9781", "phone number", "(602) 272-9781"),
        ("He lives at 221 Baker Street, London", "street address", "221 Baker Street, London"),
        ("The server is at 192.168.10.4", "IP address", "192.168.10.4"),
    ],
)
def test_personal_data_is_found_with_its_span(text: str, kind: str, value: str) -> None:
    found = find_personal_data(text)
    assert [(d.kind, d.text) for d in found] == [(kind, value)]
    assert text[found[0].start : found[0].end] == value


@pytest.mark.parametrize(
    "text",
    [
        "The bridge cost 4,500,000 euros and opened in 2019.",
        "In 2019 the council met 3 times.",
        "Final score 3-1, attendance 45000.",
        "Order 1234567890123456 is not a card number (fails Luhn).",
        "See you on 12/05/2024 at 10:30.",
        "20 December 2006 was a cold day.",
        "Chapter 7 of 9 covers the treaty.",
        "",
        "\U0001f600",
    ],
)
def test_ordinary_numbers_are_not_personal_data(text: str) -> None:
    assert kinds(text) == []


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82WEST12345698765433")


def test_scores_follow_sensitivity_and_add_up() -> None:
    assert 0.5 <= score("Call me at +1 415 555 0134") < 0.9
    assert score("Card 4111 1111 1111 1111") >= 0.9
    doxx = score(
        "She lives at 12 Elm Street, Springfield, phone +1 415 555 0134, mail ann@example.com"
    )
    assert doxx > score("mail ann@example.com")
    assert score("No personal data here.") == 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes_and_spans_are_inside(text: str) -> None:
    found = find_personal_data(text)
    assert found == find_personal_data(text)
    for datum in found:
        assert text[datum.start : datum.end] == datum.text


@pytest.mark.parametrize(
    "text",
    [
        "If you're in the UK you can call Samaritans free on 116 123, any time.",
        "In Ireland Pieta is 1800 247 247. Please reach out.",
        "Call the helpline on 0800 123 4567 today, they helped my sister.",
        "Refuge runs the National Domestic Abuse Helpline on 0808 2000 247.",
        "Samaritans (116 123) are there day and night.",
    ],
)
def test_a_helpline_shared_with_readers_is_not_personal_data(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Samaritans are great. My number is 07700 900123.",
        "Forget the helpline, ring my cousin on 07700 900123.",
        "helpline? call me on 07700 900123",
        "Call me on 07700 900123 tonight.",
    ],
)
def test_a_persons_number_beside_a_helpline_is_still_personal_data(text: str) -> None:
    assert kinds(text) == ["phone number"]


@pytest.mark.parametrize(
    "text",
    [
        # Digits inside a link are ids, not numbers of a person.
        "Kerplow. https://www.patreon.com/posts/v5-page-028-21069756",
        "Watch: https://players.example.com/index.html?videoId=5825273648001 #FakeNews",
        "see example.com/orders/0699-868-88-55 for the list",
        # Dates and years in brackets.
        "(2018-08-07) To combat the threat of online hate speech, platforms acted.",
        "The famine years 1945-1950 (2017 edition) are covered in chapter two.",
        # A number that names a case, an order, a ticket.
        "Case number 3837252 Wow they got it bad",
        "My order no. 55512345 never arrived, so I wrote to the shop.",
        # Numbers and names that look like a street line without a street word.
        "If we confess our sins, he is faithful and just to forgive us. 1 John 1:9",
        "My iPhone has 2 million times the storage of the 1969 Apollo 11 spacecraft computer.",
        "Mint 1934 Dusenberg Model-J 534-2560 Convertible Coupe at the show",
        "Please see Wikipedia talk:WikiProject Novels#5-5-5 Improvement Drive for details.",
        "Canadian Journal of Economics, Vol. 37 Issue 2, pages 10 to 31",
        "Best bit is Season 4 Episode 9, trust me",
    ],
)
def test_numbers_in_links_dates_and_names_are_not_personal_data(text: str) -> None:
    assert find_personal_data(text) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("He lives at 172 Maneeži 75, Saareküla", "street address"),
        ("user: 0605 πεντέλης 210 apt. 999\ndelmas, mp 35739", "street address"),
        ("The office is at 475 Breivangvegen 38 Suite 490", "street address"),
        ("Call him on 0699 868 88 55 after the game, see www.example.com", "phone number"),
        ("my number is 07700 900123 and my order number is 55512345", "phone number"),
        ("Her card is 4111 1111 1111 1111, https://shop.example.com/checkout", "card number"),
    ],
)
def test_personal_data_beside_links_and_look_alikes_is_still_found(text: str, kind: str) -> None:
    assert kind in kinds(text)
