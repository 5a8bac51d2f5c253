"""Rule 7, privacy: personal data in a comment, with spans.

What is found, and how sure each kind is on its own (the score of a comment is a noisy-OR
of its findings, so an e-mail plus a phone number plus an address -- doxxing -- scores more
than any one of them):

| kind | how | weight |
| --- | --- | --- |
| card number | 13-19 digits, Luhn checksum | 0.95 |
| US social security number | ddd-dd-dddd, valid area/group/serial | 0.95 |
| IBAN | country code, ISO 13616 mod-97 checksum | 0.9 |
| UK national insurance number | AA 99 99 99 A, valid prefixes | 0.9 |
| driver's licence / passport number | an id after those words | 0.8 |
| e-mail address | local@domain.tld | 0.75 |
| phone number | digit groups; valid for libphonenumber, or written after "phone", "call"...; not a helpline's | 0.7 |
| street address | number + street words (en, fr, de, es, it, pt, nl, nordic, pl, el), plus flat, city, postcode and country lines | 0.65 |
| IP address | IPv4 with valid octets, IPv6 | 0.55 |

Numbers inside a link (paths, video ids) are ids, not personal data (e-mail addresses still
count); a date or a year in brackets, and a number after "case", "order", "ticket"... are not
phone numbers; a bare street line (no street word) followed by ":9", "-2560" or a lower-case
word is a verse, a part number or a sentence ("the 1969 Apollo 11 spacecraft").

The default policy queues at 0.5 and removes at 0.9: a phone number or an address is held
for a moderator; a card number, an SSN or an IBAN is removed.

The libphonenumber matcher costs milliseconds per comment, so it only validates candidates
that a regular expression found first; comments with fewer than seven digits and no "@"
skip almost everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import phonenumbers

from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.policy import Policy
from civility.standards.text import FoundUrl, extract_urls
from civility.standards.types import Context, Evidence, Finding

SLUG = "privacy"

WEIGHTS = {
    "card number": 0.95,
    "social security number": 0.95,
    "IBAN": 0.9,
    "national insurance number": 0.9,
    "identity document number": 0.8,
    "e-mail address": 0.75,
    "phone number": 0.7,
    "street address": 0.65,
    "IP address": 0.55,
}

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_NINO = re.compile(
    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)
_ID_DOCUMENT = re.compile(
    r"(?:driver'?s?\s+licen[cs]e|licen[cs]e\s+(?:no|number)|passport)(?:\s+(?:number|no\.?|#))?"
    r"(?:\s+is)?\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{5,17})\b",
    re.IGNORECASE,
)
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])"
)
_IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}(?![\w:])"
)
# Digit groups as people write phone numbers: +41 (0)85 806 98 67, (602)272-9781, 451 5986.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,12}(?:[ .-]\(?\d{1,8}\)?){0,5}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w])"
)
_PHONE_CONTEXT = re.compile(
    r"(?:phone|tel|telephone|mobile|cell|fax|desk|call|ring|text|whatsapp|sms|number|office|"
    r"reach|contact|dial)\b[^\n\d]{0,25}$",
    re.IGNORECASE,
)
# "Case number 3837252", "order no. 55512345": a number that names a thing, not a line.
_NOT_PHONE_NUMBER = re.compile(
    r"\b(?:case|order|reference|ref|ticket|tracking|invoice|claim|policy|serial|model|part|"
    r"flight|issue|bug|page|version|item|product|file|docket|bill|receipt|booking|lot|"
    r"patent|report|article|section)\s*(?:number|no\.?|#)?\s*[:#]?\s*$",
    re.IGNORECASE,
)
# A number given as a public helpline ("call Samaritans free on 116 123", "Pieta is
# 1800 247 247") is a service's, not a person's: readers share them under suicide and
# abuse stories, where holding the comment would delay help. The service names are the
# commonest national lines in English-speaking countries; "helpline", "hotline", "crisis
# line" and "freephone" cover the rest.
_HELPLINE_BEFORE = re.compile(
    r"\b(?:help\s?lines?|hot\s?lines?|crisis\s+(?:text\s+)?lines?|crisis\s+team|"
    r"free\s?phone|toll[- ]free|samaritans|lifeline|childline|pieta|befrienders|"
    r"kids\s+help\s+phone|beyond\s+blue|national\s+domestic\s+abuse|nhs\s+111|"
    r"refuge|rape\s+crisis|victim\s+support|papyrus|mind\s+infoline)\b"
    # The number follows in the same sentence, and no person is named as its owner.
    r"(?![^\n\d.!?]*\b(?:my|me|his|her|him|their|them|your|our|us)\b)[^\n\d.!?]{0,30}$",
    re.IGNORECASE,
)
_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|av|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|"
    r"square|sq|terrace|close|crescent|parkway|pkwy|highway|hwy|circle|cir|row|"
    r"gardens|grove|mews|alley|plaza|trail|"
    r"rue|chemin|all\u00e9e|impasse|quai|"
    r"stra(?:ss|\u00df)e|str|weg|gasse|platz|allee|"
    r"calle|avenida|avda|paseo|camino|carrera|traves\u00eda|"
    r"via|viale|piazza|piazzetta|corso|vicolo|largo|"
    r"rua|r\u00faa|travessa|"
    r"straat|laan|gracht|plein|kade|steeg|dreef|"
    r"katu|kuja|tie|tee|polku|gatan|v\u00e4gen|gata|vej|gade|veien|"
    r"ulica|ul|utca|\u00fat|\u00fatja|u|t\u00e9r|kapu|rkp|terrasse|box|"
    r"\u03bb\u03b5\u03c9\u03c6\u03cc\u03c1\u03bf\u03c2|\u03bf\u03b4\u03cc\u03c2|\u03c0\u03bb\u03b1\u03c4\u03b5\u03af\u03b1"
)
# Street words that are written glued to the name (Koskikatu, Augsburgerstrasse, Nybyvägen).
_STREET_SUFFIXES = (
    r"katu|kuja|gatan|v\u00e4gen|gata|vej|gade|veien|stra(?:ss|\u00df)e|str|weg|gasse|platz|"
    r"allee|straat|laan|gracht|plein|kade|steeg|dreef"
)
_NAME = r"[A-Z\u00c0-\u00de\u0370-\u03ff\u0400-\u042f][\w'\u2019.\-]*"
_CAP = (
    rf"(?:{_NAME}|de|del|della|di|da|do|dos|das|du|des|la|le|van|von|der|den|e|y|"
    r"u\.|ul\.|rkp\.|t\u00e9r|\u00fat|utca|kapu|terrasse)"
)
_NUMBER = r"\d{1,5}(?:[A-Z]\b|(?![\w]))"
_GAP = r"[ \t]+"
_NAMES = rf"(?:{_CAP}{_GAP}){{0,3}}{_NAME}"
# 1. house number, up to four capitalised words, a second number ("6750 Koskikatu 25").
# 2. house number, words, a street word ("31 Seneca Place").
# 3. name glued to a street suffix, number ("Parijsstraat 8").
# 4. capitalised street word, words, number ("Rue de Pietrain 371", "Via Nuova del Campo 85").
_ADDRESS_CORE = re.compile(
    rf"(?:\b\d{{1,5}}{_GAP})?"
    rf"(?:(?P<bare>\b\d{{1,5}}[A-Za-z]?{_GAP}{_NAMES}{_GAP}{_NUMBER})"
    rf"|\b\d{{1,5}}[A-Za-z]?{_GAP}{_NAMES}{_GAP}(?i:{_STREET_WORDS})\.?(?![\w])"
    rf"|\b(?:{_CAP}{_GAP}){{0,3}}[A-Z\u00c0-\u00de][\w\u00c0-\u024f]*(?i:{_STREET_SUFFIXES})\.?{_GAP}{_NUMBER}"
    rf"|\b(?=[A-Z\u00c0-\u00de\u0370-\u03ff])(?i:{_STREET_WORDS})\.?{_GAP}(?:{_CAP}{_GAP}){{0,4}}{_NUMBER})"
)
# Words that make "20 December 2006", "15 AT THE AGE OF 46", "7 of 9" or "37 Issue 2"
# something else.
_NOT_ADDRESS_WORDS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "the",
        "and",
        "at",
        "in",
        "on",
        "of",
        "to",
        "for",
        "age",
        "died",
        "born",
        "years",
        "year",
        "am",
        "pm",
        "or",
        "is",
        "was",
        "times",
        "minutes",
        "hours",
        "days",
        "weeks",
        "months",
        "percent",
        # Citations and series: "Vol. 37 Issue 2", "Season 4 Episode 9", "Chapter 3 Figure 2".
        "issue",
        "volume",
        "vol",
        "chapter",
        "episode",
        "season",
        "figure",
        "fig",
        "page",
        "pp",
        "edition",
        "version",
    ]
)
_MIN_NAME_LETTERS = 4
# After a street line with no street word ("6750 Koskikatu 25"), what says it was something
# else: a verse or a time ("1 John 1:9"), a range or a part number ("Model-J 534-2560"), or
# the sentence going on in lower case ("the 1969 Apollo 11 spacecraft").
_NOT_AFTER_BARE_ADDRESS = re.compile(
    r"[:\-.]\d|[ \t]+(?!(?:apt|apartment|suite|ste|unit|flat|floor|fl|room|bldg)\b)[a-z]"
)
_MILITARY_ADDRESS = re.compile(
    r"\b(?:USNS|USNV|USS|USCGC|PSC|Unit)\s+[\w\u00c0-\u024f ]{1,30}?\s*\n?\s*(?:FPO|APO|DPO)\s+A[AEP]\s+\d{5}\b",
    re.IGNORECASE,
)
_STREET_WORD_ALONE = re.compile(rf"(?i)(?:{_STREET_WORDS})\.?$")
_LINE_PREFIX = r"(?:[ \t]*[>?\u2022*\-]+)?"
# What may follow a street line inside one address: flat, city, state, postcode, country.
_ADDRESS_TAIL = re.compile(
    rf"(?:[ \t]*(?:,|\n{{1,2}}){_LINE_PREFIX}[ \t]*|[ \t]+)"
    r"(?:(?i:apt|apartment|suite|ste|unit|flat|floor|fl|room|bldg)\.?\s*#?\s*\w{1,6}"
    r"|(?:[A-Z\u00c0-\u00de\u0370-\u03ff\u0394\u2206\d][\w'\u2019().\-\u2206]*[ \t]*){1,4})"
)
_SENTENCE_WORDS = re.compile(
    r"^(?:The|This|That|I|We|You|He|She|It|They|Please|Thanks|Thank|Is|Are|Was|If|In|On|At|"
    r"And|But|Or|So|Then|Call|Phone|Mobile|Fax|Desk|E-mail|Email|Website|Name|Hi|Hello|Dear|"
    r"During|Since|Until|From|For|Of|By|With|Date|When|Where|Musicians)\b"
)
_PHONE_AFTER = re.compile(
    r"^\s*[-(]?\s*(?:fax|mobile|office|cell|phone|tel|home|work)\b", re.IGNORECASE
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2})?|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
_CARD_CONTEXT = re.compile(r"card\b[^\n\d]{0,20}$", re.IGNORECASE)
_MAX_TAIL_PARTS = 5


@dataclass(frozen=True, slots=True)
class PersonalDatum:
    kind: str
    start: int
    end: int
    text: str


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = int(ch)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in taken)


def _phone_plausible(candidate: str, before: str, after: str, regions: tuple[str, ...]) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if not 7 <= digits <= 15:
        return False
    bare = candidate.strip("()")  # "(2018-08-07)", "1945-1950 (2017"
    if (
        _DATE.fullmatch(bare)
        or (_DATE.match(bare) and ":" in bare)
        or re.fullmatch(r"(?:19|20)\d\d(?:[ .-]+\(?(?:19|20)\d\d\)?)*", bare)
    ):
        return False  # dates and years
    groups = re.findall(r"\d+", candidate)
    context = bool(_PHONE_CONTEXT.search(before) or _PHONE_AFTER.match(after))
    if len(groups) == 1 and not candidate.startswith("+") and not context:
        return False  # a bare run of digits is more often an amount, an order or a year
    if context or candidate.startswith("+") or "(" in candidate:
        return True
    if groups[0].startswith("0") and 9 <= digits <= 13:
        return True  # a national trunk prefix: 0699 868 88 55, 0961-7596216
    if len(groups) >= 3 and 8 <= digits <= 13 and all(len(group) <= 4 for group in groups):
        return True  # 28-64-66-98, 930.167.3943
    for region in regions:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
    return False


def _extend_address(text: str, end: int) -> int:
    """Swallow the flat, city, state, postcode and country parts after a street line."""
    for _ in range(_MAX_TAIL_PARTS):
        match = _ADDRESS_TAIL.match(text, end)
        if match is None or match.end() == end:
            break
        part = match.group().strip(" \t,\n")
        if not part or _SENTENCE_WORDS.match(part) or len(part) > 40:
            break
        end = match.end()
        while end > 0 and text[end - 1] in " \t":
            end -= 1
    return end


def _digit_count(text: str) -> int:
    """How many characters of ``text`` are digits (``str.isdigit``); on ASCII text those are
    0-9, counted by ``str.count`` ten times faster than a loop over the characters."""
    if text.isalpha():
        return 0
    if text.isascii():
        return sum(map(text.count, "0123456789"))
    return sum(ch.isdigit() for ch in text)


def find_personal_data(
    text: str,
    phone_regions: tuple[str, ...] = ("US", "GB"),
    urls: list[FoundUrl] | None = None,
) -> list[PersonalDatum]:
    """Every personal datum in ``text``, by decreasing certainty; spans never overlap.
    ``urls``: the links of ``text`` when the caller has them (the analysis keeps them)."""
    found: list[PersonalDatum] = []
    taken: list[tuple[int, int]] = []

    # Links: digits in a path or a query ("/posts/v5-page-028-21069756", "?v=5825273648001") are
    # ids, not phone or card numbers; the host itself is rule 15's business. The links are
    # found as rule 15 finds them, in linear time on any input.
    if urls is None:
        urls = extract_urls(text) if "/" in text or "www" in text.lower() else []
    links = [(url.start, url.end) for url in urls]

    def add(kind: str, start: int, end: int) -> None:
        if end <= start or _overlaps(start, end, taken):
            return
        if links and kind != "e-mail address" and _overlaps(start, end, links):
            return
        taken.append((start, end))
        found.append(PersonalDatum(kind, start, end, text[start:end]))

    has_at = "@" in text
    digit_count = _digit_count(text)
    if has_at:
        for match in _EMAIL.finditer(text):
            add("e-mail address", *match.span())
    if digit_count >= 4:
        for match in _IBAN.finditer(text):
            if iban_valid(match.group()):
                add("IBAN", *match.span())
        for match in _SSN.finditer(text):
            add("social security number", *match.span())
        for match in _CARD.finditer(text):
            digits = re.sub(r"\D", "", match.group())
            if 13 <= len(digits) <= 19 and luhn_valid(digits) and len(set(digits)) > 2:
                add("card number", *match.span())
            elif 12 <= len(digits) <= 19 and _CARD_CONTEXT.search(
                text[max(0, match.start() - 30) : match.start()]
            ):
                add("card number", *match.span())  # "my card # 5038...": the word says it
        for match in _NINO.finditer(text):
            add("national insurance number", *match.span())
        for match in _ID_DOCUMENT.finditer(text):
            if any(ch.isdigit() for ch in match.group(1)):
                add("identity document number", *match.span(1))
        for match in _IPV4.finditer(text):
            if text[max(0, match.start() - 3) : match.start()].endswith(("//", "@")):
                continue  # the host of a link: rule 15's business, not personal data
            add("IP address", *match.span())
    if text.count(":") >= 5:
        for match in _IPV6.finditer(text):
            add("IP address", *match.span())
    if digit_count >= 1:
        for match in _MILITARY_ADDRESS.finditer(text):
            add("street address", *match.span())
        for match in _ADDRESS_CORE.finditer(text):
            start, end = match.span()
            if start and text[start - 1] in "#-/":
                continue  # "#5-5-5 Improvement Drive": a heading's or a link's number
            if match.group("bare") and _NOT_AFTER_BARE_ADDRESS.match(text, end):
                continue
            core = match.group()
            words = core.split()
            if any(word.lower().strip(".") in _NOT_ADDRESS_WORDS for word in words):
                continue
            name_letters = sum(ch.isalpha() for word in words if not word.isupper() for ch in word)
            if name_letters < _MIN_NAME_LETTERS:
                continue  # "20 FIFA 14", "360 Sony 60": products, not streets
            add("street address", start, _extend_address(text, end))
    if digit_count >= 7:
        for match in _PHONE.finditer(text):
            start, end = match.span()
            before, after = text[max(0, start - 40) : start], text[end : end + 12]
            if _HELPLINE_BEFORE.search(before) or _NOT_PHONE_NUMBER.search(before):
                continue  # the words before it say whose number it is: a service's, a case's
            if _phone_plausible(match.group(), before, after, phone_regions):
                add("phone number", start, end)
    found.sort(key=lambda datum: datum.start)
    return found


def combine(weights: list[float]) -> float:
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining


class PrivacyDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = (SLUG,)
    uses_embedding: ClassVar[bool] = False

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        regions = policy.extra.get("phone_regions", ("US", "GB"))
        self.phone_regions = tuple(str(region).upper() for region in regions) or ("US",)

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        text = analysis.text
        data = find_personal_data(text, self.phone_regions, analysis.urls)
        evidence = [
            Evidence(
                slug=SLUG,
                explanation=f"{datum.kind}",
                start=datum.start,
                end=datum.end,
                text=datum.text,
            )
            for datum in data
        ]
        return {
            SLUG: Finding(score=combine([WEIGHTS[datum.kind] for datum in data]), evidence=evidence)
        }
