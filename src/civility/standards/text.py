"""Offset-preserving text forms shared by the detectors.

The *skeleton* of a comment is a lower-case, disguise-stripped form in which lexicons match
plainly, plus a map from every skeleton character back to the original text, so that
evidence always points at what the author actually typed.

What the skeleton sees through, in order:
1. NFKC per character (fullwidth forms, mathematical alphanumerics, ligatures, circled letters);
2. invisible characters: zero-width joiners and spaces, soft hyphens, bidi overrides and other
   format characters (Unicode category Cf), and combining marks (zalgo, accents: ``fück``);
3. homoglyphs: Cyrillic and Greek letters that look Latin, inside words that are not wholly
   Cyrillic or Greek (so Russian text stays Russian, but ``cunt`` spelled with a Cyrillic ``es`` does not);
4. leetspeak: ``0→o 1→i 3→e 4→a 5→s 7→t 8→b @→a $→s !→i |→i +→t`` inside words that also
   contain letters (``$5`` and ``2024`` are left alone); ``1`` and ``|`` may also stand for ``l``,
   which :attr:`Skeleton.ambiguous` records so matchers can try both;
5. separators between single letters: ``f.u.c.k``, ``f u c k``, ``f-u-c-k``, ``f_u_c_k``.

Repeated letters (``fuuuuck``) and masked letters (``f*ck``) are left in the skeleton; the
lexicon matcher (:func:`squeeze`, profanity detector) handles them, because collapsing
``ass`` to ``as`` here would make every matcher collide with ordinary words.

The skeleton is computed once per comment (``Analysis.skeleton``) and costs a few
microseconds for plain ASCII text, which takes a fast path.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Letters that are drawn like Latin letters in common fonts (subset of Unicode's
# confusables.txt restricted to what abusers actually use).
_CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "\u0430": "a",
    "\u0432": "b",
    "\u0435": "e",
    "\u0451": "e",
    "\u043a": "k",
    "\u043c": "m",
    "\u043d": "h",
    "\u043e": "o",
    "\u0440": "p",
    "\u0441": "c",
    "\u0442": "t",
    "\u0443": "y",
    "\u0445": "x",
    "\u0455": "s",
    "\u0456": "i",
    "\u0457": "i",
    "\u0458": "j",
    "\u04bb": "h",
    "\u0501": "d",
    "\u051b": "q",
    "\u051d": "w",
    "\u04cf": "l",
    "\u04af": "y",
    "\u0261": "g",
    "\u0578": "n",
    "\u057d": "u",
    # Greek
    "\u03b1": "a",
    "\u03b2": "b",
    "\u03b3": "y",
    "\u03b5": "e",
    "\u03b7": "n",
    "\u03b9": "i",
    "\u03ba": "k",
    "\u03bc": "u",
    "\u03bd": "v",
    "\u03bf": "o",
    "\u03c1": "p",
    "\u03c4": "t",
    "\u03c5": "u",
    "\u03c7": "x",
    "\u03c9": "w",
    "\u03c2": "s",
    "\u03f2": "c",
    "\u03f3": "j",
}
# Latin letters outside ASCII that NFKC keeps but readers take for plain letters.
_LATIN_LOOKALIKES: dict[str, str] = {
    "\u0131": "i",
    "\u0142": "l",
    "\u00f8": "o",
    "\u0111": "d",
    "\u0127": "h",
    "\u0167": "t",
    "\u0192": "f",
    "\u00df": "ss",
    "\u00e6": "ae",
    "\u0153": "oe",
    "\u00fe": "th",
    "\u00f0": "d",
}
_CYRILLIC_OR_GREEK = re.compile(r"[\u0370-\u03ff\u0400-\u04ff]")
_LEET: dict[str, str] = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "i",
    "+": "t",
    "€": "e",
    "£": "l",
}
_LEET_AMBIGUOUS = frozenset("1|!")  # may stand for "i" or "l"
# Symbols that only count as letters when a letter follows them inside the word
# ("sh!t" but not "shit!", "@ss" but not "@user" at the start of a word).
_LEET_NEEDS_LETTER_AFTER = frozenset("!|+")
_LEET_TRANSLATION = str.maketrans(_LEET)
# Leet characters, and the words (runs of letters, digits and leet characters) around them.
# Two linear scans: a single pattern that starts with a letter run backtracks
# quadratically on a long word without any leet character.
_LEET_CHARACTER = re.compile(r"[0-9@$!|+\u20ac\u00a3]")
_LEET_WORD = re.compile(r"[\w@$!|+\u20ac\u00a3]+", re.UNICODE)
# Three or more single letters joined by separators: f.u.c.k, f u c k, f-u-c-k, f_u_c_k, f*u*c*k.
_SPACED_LETTERS = re.compile(
    r"(?<![^\W\d_])[^\W\d_](?:[ .\-_*~/\\]{1,2}[^\W\d_](?![^\W\d_])){2,}", re.UNICODE
)
_SEPARATOR = re.compile(r"[ .\-_*~/\\]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(slots=True)
class Skeleton:
    """``text`` and, for each of its characters, the original ``[start, end)`` it came from."""

    text: str
    original: str
    starts: list[int] | None = None  # None: identity mapping (the fast path)
    ends: list[int] | None = None
    ambiguous: frozenset[int] = field(default_factory=frozenset)  # positions of 1 | ! read as "i"

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a skeleton span ``[start, end)`` to the original text."""
        if end <= start:
            return start, start
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]

    def original_text(self, start: int, end: int) -> str:
        begin, finish = self.span(start, end)
        return self.original[begin:finish]


def _per_character(text: str) -> tuple[str, list[int], list[int]]:
    """Stages 1-3: NFKC, invisible characters, homoglyphs. One original char may become
    zero or several skeleton chars; each keeps the original index it came from."""
    chars: list[str] = []
    starts: list[int] = []
    for index, ch in enumerate(text):
        if ch.isascii():
            chars.append(ch.lower())
            starts.append(index)
            continue
        folded = unicodedata.normalize("NFKC", ch)
        for part in folded:
            category = unicodedata.category(part)
            if category == "Cf" or category.startswith("M"):
                continue  # zero-width, bidi controls, soft hyphen; combining marks (zalgo)
            decomposed = unicodedata.normalize("NFD", part)
            if len(decomposed) > 1 and not unicodedata.category(decomposed[0]).startswith("M"):
                part = decomposed[0]  # é -> e, ü -> u: accents are a disguise here
            for lowered in part.casefold():
                for plain in _LATIN_LOOKALIKES.get(lowered, lowered):
                    chars.append(plain)
                    starts.append(index)
    ends = [start + 1 for start in starts]
    skeleton = "".join(chars)
    if _CYRILLIC_OR_GREEK.search(skeleton):
        skeleton, starts, ends = _map_homoglyphs(skeleton, starts, ends)
    return skeleton, starts, ends


def _map_homoglyphs(
    text: str, starts: list[int], ends: list[int]
) -> tuple[str, list[int], list[int]]:
    """Map Cyrillic/Greek lookalikes to Latin in words that also hold Latin letters, or that
    are made only of lookalikes and sit in mostly-Latin text."""
    latin_letters = sum(1 for ch in text if "a" <= ch <= "z")
    other_letters = len(_CYRILLIC_OR_GREEK.findall(text))
    mostly_latin = latin_letters >= other_letters
    pieces: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    position = 0
    for match in _WORD.finditer(text):
        word = match.group()
        if not _CYRILLIC_OR_GREEK.search(word):
            continue
        has_latin = any("a" <= ch <= "z" for ch in word)
        all_lookalike = all(ch in _CONFUSABLES or "a" <= ch <= "z" for ch in word)
        if not (has_latin or (mostly_latin and all_lookalike)):
            continue
        begin, finish = match.span()
        pieces.append(text[position:begin])
        new_starts.extend(starts[position:begin])
        new_ends.extend(ends[position:begin])
        for offset, ch in enumerate(word):
            replacement = _CONFUSABLES.get(ch, ch)
            pieces.append(replacement)
            new_starts.extend([starts[begin + offset]] * len(replacement))
            new_ends.extend([ends[begin + offset]] * len(replacement))
        position = finish
    if not pieces:
        return text, starts, ends
    pieces.append(text[position:])
    new_starts.extend(starts[position:])
    new_ends.extend(ends[position:])
    return "".join(pieces), new_starts, new_ends


def _map_leet(text: str) -> tuple[str, frozenset[int]]:
    """Stage 4, length-preserving: leet characters inside words that contain letters."""
    if not _LEET_CHARACTER.search(text):
        return text, frozenset()
    chars = list(text)
    ambiguous: set[int] = set()
    for match in _LEET_WORD.finditer(text):
        word = match.group()
        if not _LEET_CHARACTER.search(word) or not any(ch.isalpha() for ch in word):
            continue  # no leet character; or "2024", "$5", "!!!"
        begin = match.start()
        # Where the word's last letter is: "a letter after this one" for every character in
        # one pass (a search after each one took 1 s on "f" and 9,999 "!").
        last_letter = max(index for index, ch in enumerate(word) if ch.isalpha())
        for offset, ch in enumerate(word):
            if ch not in _LEET:
                continue
            if ch in _LEET_NEEDS_LETTER_AFTER and offset >= last_letter:
                continue  # "shit!!!" keeps its exclamation marks
            if ch == "@" and offset == 0 and len(word) > 4:
                continue  # "@username" is a mention, "@ss" is not
            if ch in "$€£" and offset == 0 and word[1:].isdigit():
                continue
            chars[begin + offset] = _LEET[ch]
            if ch in _LEET_AMBIGUOUS:
                ambiguous.add(begin + offset)
    return "".join(chars), frozenset(ambiguous)


def _join_spaced_letters(
    text: str, starts: list[int] | None, ends: list[int] | None
) -> tuple[str, list[int] | None, list[int] | None]:
    """Stage 5: drop separators between runs of three or more single letters."""
    if not _SPACED_LETTERS.search(text):
        return text, starts, ends
    if starts is None or ends is None:
        starts = list(range(len(text)))
        ends = [index + 1 for index in starts]
    keep = [True] * len(text)
    for match in _SPACED_LETTERS.finditer(text):
        for index in range(match.start(), match.end()):
            if _SEPARATOR.match(text[index]):
                keep[index] = False
    kept = [index for index, flag in enumerate(keep) if flag]
    return (
        "".join(text[index] for index in kept),
        [starts[index] for index in kept],
        [ends[index] for index in kept],
    )


def skeleton(text: str) -> Skeleton:
    """The disguise-stripped, lower-case form of ``text`` with a map back to it."""
    starts: list[int] | None
    ends: list[int] | None
    if text.isascii():
        folded = text.lower()
        starts = ends = None
    else:
        folded, starts, ends = _per_character(text)
    folded, ambiguous = _map_leet(folded)
    joined, starts, ends = _join_spaced_letters(folded, starts, ends)
    if ambiguous and joined is not folded:
        # Positions moved when separators were dropped: recompute from the joined text.
        _, ambiguous = _map_leet(joined)
    return Skeleton(text=joined, original=text, starts=starts, ends=ends, ambiguous=ambiguous)


def squeeze(word: str) -> tuple[str, list[int]]:
    """Collapse runs of the same character: ``fuuuck`` -> (``fuck``, [1, 3, 1, 1])."""
    letters: list[str] = []
    counts: list[int] = []
    for ch in word:
        if letters and letters[-1] == ch:
            counts[-1] += 1
        else:
            letters.append(ch)
            counts.append(1)
    return "".join(letters), counts


# --- URLs -------------------------------------------------------------------------------

# Top-level domains accepted for bare links written without a scheme ("evil.com/x").
# A closed list, because "e.g.", "i.e." and "end.Next" must not read as links.
_BARE_TLDS = (
    "com|net|org|info|biz|io|co|ru|su|uk|de|fr|es|it|nl|be|ch|at|pl|cz|ua|by|kz|cn|jp|kr|in|br|"
    "us|ca|au|eu|me|tv|cc|ws|xyz|top|club|site|online|store|shop|app|dev|link|click|live|"
    "tk|ml|ga|cf|gq|pw|ly|gl|gd|to|sh|am|fm|ai|tech|space|website|icu|vip|win|loan|work|zip|mov"
)
URL_PATTERN = re.compile(
    r"(?:(?:https?|ftp)://|www\d{0,3}\.)[^\s<>\"'`{}|\\^\[\]]+"
    r"|(?<![@\w.\-])(?:[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?\.)+(?:" + _BARE_TLDS + r")"
    r"(?![\w\-])(?::\d{2,5})?(?:/[^\s<>\"'`{}|\\^\[\]]*)?",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)]}'\"\u00bb\u201d\u2019"


@dataclass(frozen=True, slots=True)
class FoundUrl:
    url: str  # as written (trailing punctuation trimmed)
    start: int
    end: int


def extract_urls(text: str) -> list[FoundUrl]:
    """Links in ``text`` with their spans: with a scheme, starting ``www.``, or bare
    ``host.tld/path`` with a common TLD. Trailing punctuation is not part of the link."""
    if "." not in text:
        return []
    found: list[FoundUrl] = []
    for match in URL_PATTERN.finditer(text):
        url = match.group()
        end = match.end()
        while url and url[-1] in _URL_TRAILING:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break  # a wikipedia-style link keeps its closing parenthesis
            url = url[:-1]
            end -= 1
        if len(url) > 3:
            found.append(FoundUrl(url=url, start=match.start(), end=end))
    return found
