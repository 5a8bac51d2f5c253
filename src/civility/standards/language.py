"""Language identification for the analysis (rule 20 and per-language availability).

Three steps, cheapest first, so that the usual comment costs microseconds:
1. *script*: letters are counted by Unicode script. A script that only one candidate
   language writes (Greek, Tamil, Hangul, Thai...) decides at once.
2. *function words*: a comment in a site language is recognised by its function words
   ("the", "and", "of"... for English) when they are frequent and clearly ahead of every
   other language's. Most comments on a site stop here.
3. *lingua* (lingua-language-detector), restricted to the candidate languages written in the
   comment's script: the site languages plus a fixed set of about twenty common ones. All 75
   languages would cost over 1 GB; this set costs about 100 MB, built once per process.

Short text (fewer than three words or fifteen letters) is not decided: ``language`` stays ""
(or the caller's declared language, used only as a hint for model availability) and rule 20
does not fire on it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from civility.standards.analysis import Analysis
from civility.standards.policy import Policy

CACHE_KEY = "language:guess"
# Common languages always among the candidates, whatever the site languages are: a comment
# can only be called foreign if its language can be recognised.
COMMON_LANGUAGES = (
    "en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "pl", "cs", "ro", "hu", "fi",
    "tr", "id", "vi", "ru", "uk", "bg", "ar", "fa", "ur", "hi",
)  # fmt: skip
MIN_WORDS = 3
MIN_LETTERS = 15
LINGUA_MAX_CHARS = 300

# Scripts whose letters name one language outright (among languages we consider).
_SINGLE_LANGUAGE_SCRIPTS = {
    "GREEK": "el", "HEBREW": "he", "TAMIL": "ta", "KANNADA": "kn", "MALAYALAM": "ml",
    "TELUGU": "te", "GUJARATI": "gu", "GURMUKHI": "pa", "BENGALI": "bn", "THAI": "th",
    "HANGUL": "ko", "HIRAGANA": "ja", "KATAKANA": "ja", "GEORGIAN": "ka", "ARMENIAN": "hy",
    "DEVANAGARI": "hi", "CJK": "zh", "SINHALA": "si", "KHMER": "km", "ETHIOPIC": "am",
}  # fmt: skip
# Candidate languages written in a multi-language script, for lingua.
_SCRIPT_LANGUAGES = {
    "LATIN": {"en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "pl", "cs", "ro", "hu",
              "fi", "tr", "id", "vi", "ca", "hr", "sk", "sl", "lt", "lv", "et", "sq", "so", "sw",
              "tl", "af", "eu", "ga", "cy", "ms", "az", "bs", "eo", "yo", "zu", "la", "nn", "is"},
    "CYRILLIC": {"ru", "uk", "bg", "sr", "mk", "be", "kk", "mn"},
    "ARABIC": {"ar", "fa", "ur"},
}  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Frequent function words that mark a language (ASCII-folded, lower case). Used only to
# confirm a language quickly; anything unclear goes to lingua.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and of to is in that it was for on are with as this be have not you they but "
        "what from by at or an will would my we he she his her has i there their which "
        "about been if can just so do all were more your our than them who its had these "
        "those should could does did when how why because into over also only very yes "
        "thanks thank please sorry good great nice well now here then out up some any "
        "much many want need said think know see let take make care one moment help sure "
        "go get really right like just something nothing anything everything people time "
        "way too again still never always who whom"
        " wow lol lmao lmfao omg yes yeah yep nope ok okay oh ah wtf cool nice great amazing"
        " awesome true agreed exactly indeed sad ugh hmm god check out thanks lame stupid"
        " idiot love hate fuck shit damn hell"
    ),
    "fr": _words(
        "le la les des et est une du que qui dans pour pas sur au avec il elle ce je nous "
        "vous sont mais plus par ne se son sa cette aux ont leur être été fait comme tout"
    ),
    "de": _words(
        "der die das und ist nicht ein eine zu den von mit sich des auf fur im dem es ich "
        "du wir sie auch als wie oder aber noch nach bei war hat sind wird werden einer "
        "kann"
    ),
    "es": _words(
        "el la los las de que y en un una es por con para se no lo del al su como mas "
        "pero sus le ya este esta son muy fue ha hay tambien entre"
    ),
    "it": _words(
        "il lo la gli le di che e un una per non con del della sono da si al come piu ma "
        "anche questo ha nel delle dei alla essere stato"
    ),
    "pt": _words(
        "o os as de que e do da em um uma para com nao por no na se mais dos das como mas "
        "foi ao ele ela sao tem muito pelo pela"
    ),
    "nl": _words(
        "de het een en van is dat op te niet zijn voor met die ook als maar er aan om ik "
        "je wij bij naar dan wordt werd heeft deze hoe ze hij zij was over wat nog geen "
        "mijn"
    ),
    "ru": _words(
        "и в не на что я с он как это по но из к у же за от так его она то все вы мы для "  # noqa: RUF001
        "был бы"
    ),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}", re.UNICODE)
_REPETITIVE = re.compile(r"\b([^\W\d_]{1,3})\1+[^\W\d_]{0,2}\b", re.IGNORECASE)
_NOISE = re.compile(r"(?i:https?://|www\.)\S+|[@#]\w+|&#?\w+;", re.UNICODE)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    code: str  # ISO 639-1, or "" when undecided
    confidence: float  # how sure of ``code``, in [0, 1]
    method: str  # "script", "function-words", "lingua", "empty"
    words: int
    letters: int
    # Probability that the text is NOT in a site language: rule 20's raw signal.
    foreign_probability: float = 0.0

    @property
    def short(self) -> bool:
        return self.words < MIN_WORDS or self.letters < MIN_LETTERS


def _script_of(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if not name:
        return ""
    if name.startswith("CJK") or name.startswith("KANGXI"):
        return "CJK"
    return name.split(" ", 1)[0]


_ASCII_LETTER = re.compile(r"[A-Za-z]")


def _script_counts(text: str) -> tuple[dict[str, int], int]:
    if text.isascii():  # most comments: every letter is Latin, no per-character lookups
        letters = len(_ASCII_LETTER.findall(text))
        return ({"LATIN": letters} if letters else {}), letters
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        script = "LATIN" if ch.isascii() else _script_of(ch)
        counts[script] = counts.get(script, 0) + 1
    return counts, letters


def _fold(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _languages_of_function_word() -> dict[str, tuple[str, ...]]:
    """Function word -> the languages whose list holds it (one look-up per word)."""
    languages: dict[str, list[str]] = {}
    for code, vocabulary in _FUNCTION_WORDS.items():
        for word in vocabulary:
            languages.setdefault(word, []).append(code)
    return {word: tuple(codes) for word, codes in languages.items()}


def _function_word_guess(words: list[str], site_languages: Iterable[str]) -> str:
    """A site language recognised by its function words, or ""."""
    tallies = {code: 0 for code in _FUNCTION_WORDS}
    languages_of = _languages_of_function_word()
    for word in words:
        for code in languages_of.get(_fold(word), ()):
            tallies[code] += 1
    ranked = sorted(tallies.items(), key=lambda item: item[1], reverse=True)
    best, best_count = ranked[0]
    runner_up = ranked[1][1]
    if best not in site_languages:
        return ""
    if best_count >= 3 and best_count >= 0.25 * len(words) and best_count >= 2 * runner_up + 1:
        return best
    # Short text: every word a function word of the site language, none of another's.
    if runner_up == 0 and best_count >= max(1, 0.5 * len(words)):
        return best
    return ""


class _Lingua:
    """One lingua detector per candidate set, built lazily and shared by the process."""

    _lock = threading.Lock()
    _detectors: dict[frozenset[str], Any] = {}

    @classmethod
    def detector(cls, codes: frozenset[str]) -> Any:
        with cls._lock:
            found = cls._detectors.get(codes)
            if found is None:
                from lingua import IsoCode639_1, LanguageDetectorBuilder

                isos = []
                for code in sorted(codes):
                    try:
                        isos.append(IsoCode639_1.from_str(code))
                    except ValueError:
                        continue  # a site language lingua does not know
                if len(isos) < 2:
                    return None
                found = LanguageDetectorBuilder.from_iso_codes_639_1(*isos).build()
                cls._detectors[codes] = found
            return found


@cache
def _candidates(site_languages: tuple[str, ...], script: str) -> frozenset[str]:
    written = _SCRIPT_LANGUAGES.get(script, set())
    common = {code for code in COMMON_LANGUAGES if code in written}
    site = {code for code in site_languages if code in written}
    return frozenset(common | site)


def _script_of_language(code: str) -> str:
    for script, codes in _SCRIPT_LANGUAGES.items():
        if code in codes:
            return script
    for script, single in _SINGLE_LANGUAGE_SCRIPTS.items():
        if single == code:
            return script
    return "LATIN"


@dataclass(frozen=True, slots=True)
class _Pending:
    """A text the cheap steps could not settle: it waits for lingua."""

    text: str
    candidates: frozenset[str]
    words: int
    letters: int
    foreign_script_share: float


def _cheap_guess(text: str, site_languages: tuple[str, ...]) -> LanguageGuess | _Pending:
    """Steps 1 and 2 (script, function words); a :class:`_Pending` when lingua must decide."""
    # Links, @mentions, #hashtags and HTML entities are in no language.
    text = _NOISE.sub(" ", text)
    if not text.isascii():
        text = _INVISIBLE.sub("", text)  # zero-width characters split words
        text = unicodedata.normalize("NFKC", text)  # fullwidth and mathematical letters
    # Laughter and shouted vowels ("hahaha", "Gooooood", "zzzz") are in no language.
    text = _ELONGATED.sub(r"\1", text)
    text = _REPETITIVE.sub(" ", text)
    words = _WORD.findall(text.lower())
    counts, letters = _script_counts(text)
    if letters == 0:
        return LanguageGuess("", 0.0, "empty", len(words), 0)
    script, script_letters = max(counts.items(), key=lambda item: item[1])
    share = script_letters / letters
    site_scripts = {_script_of_language(code) for code in site_languages}
    # Letters in scripts no site language writes are foreign whatever lingua says.
    foreign_script_share = sum(n for s, n in counts.items() if s not in site_scripts) / letters
    if script in _SINGLE_LANGUAGE_SCRIPTS and share >= 0.5:
        code = _SINGLE_LANGUAGE_SCRIPTS[script]
        if script == "CJK" and ("HIRAGANA" in counts or "KATAKANA" in counts):
            code = "ja"
        foreign = 0.0 if code in site_languages else max(foreign_script_share, share)
        return LanguageGuess(code, share, "script", len(words), letters, foreign)
    if foreign_script_share < 0.2:
        quick = _function_word_guess(words, site_languages)
        if quick:
            return LanguageGuess(
                quick, 0.95, "function-words", len(words), letters, foreign_script_share
            )
    candidates = _candidates(tuple(site_languages), script)
    if len(candidates) < 2:
        # A script none of our candidates writes (e.g. Syriac on a Latin-script site).
        return LanguageGuess("", 0.0, "script", len(words), letters, foreign_script_share)
    # A few hundred characters decide as well as the whole text, at a fraction of the cost.
    return _Pending(text[:LINGUA_MAX_CHARS], candidates, len(words), letters, foreign_script_share)


def _lingua_guess(
    pending: _Pending, values: list[Any], site_languages: tuple[str, ...]
) -> LanguageGuess:
    if not values:
        return LanguageGuess(
            "", 0.0, "lingua", pending.words, pending.letters, pending.foreign_script_share
        )
    # lingua's confidences can differ in the last bits from call to call (its sums run in
    # hash-map order); rounding keeps the engine's output identical for identical input.
    confidences = sorted(
        ((v.language.iso_code_639_1.name.lower(), round(float(v.value), 6)) for v in values),
        key=lambda item: (-item[1], item[0]),
    )
    code, top = confidences[0]
    site = max((value for name, value in confidences if name in site_languages), default=0.0)
    # How far the best site language trails the best language overall: with twenty
    # candidates the probabilities of a short text spread thin, so the ratio is what counts.
    trailing = 1.0 - site / top if top > 0 else 0.0
    in_site_script = 1.0 - pending.foreign_script_share
    foreign = round(pending.foreign_script_share + in_site_script * trailing, 6)
    return LanguageGuess(
        code, top, "lingua", pending.words, pending.letters, min(1.0, max(0.0, foreign))
    )


def identify_many(
    texts: list[str], site_languages: tuple[str, ...] = ("en",)
) -> list[LanguageGuess]:
    """:func:`identify` for a batch: the texts that need lingua go to it together, and it
    spreads them over the CPU cores."""
    results: list[LanguageGuess | _Pending] = [_cheap_guess(text, site_languages) for text in texts]
    groups: dict[frozenset[str], list[int]] = {}
    for index, result in enumerate(results):
        if isinstance(result, _Pending):
            groups.setdefault(result.candidates, []).append(index)
    for candidates, indices in groups.items():
        detector = _Lingua.detector(candidates)
        pendings = [results[i] for i in indices]
        batch = [p.text for p in pendings if isinstance(p, _Pending)]
        if detector is None:
            all_values: list[list[Any]] = [[] for _ in batch]
        elif len(batch) == 1:
            all_values = [detector.compute_language_confidence_values(batch[0])]
        else:
            all_values = detector.compute_language_confidence_values_in_parallel(batch)
        for index, pending, values in zip(indices, pendings, all_values, strict=True):
            assert isinstance(pending, _Pending)
            results[index] = _lingua_guess(pending, values, site_languages)
    return [r for r in results if isinstance(r, LanguageGuess)]


def identify(text: str, site_languages: tuple[str, ...] = ("en",)) -> LanguageGuess:
    """Guess the language of ``text`` (see the module docstring for the steps)."""
    return identify_many([text], site_languages)[0]


def guess_of(analysis: Analysis) -> LanguageGuess | None:
    found = analysis.cache.get(CACHE_KEY)
    return found if isinstance(found, LanguageGuess) else None


def learned_models_support(analysis: Analysis) -> bool:
    """Whether the learned rules can judge ``analysis`` in its language: the detector's own
    rule (``learned_model.MODEL_LANGUAGES``, and an unsure lingua guess on a short Latin text
    still judged by the English model), never a second list that could drift from it."""
    # Imported here: learned_model reads this module's guesses (guess_of) at import time.
    from civility.standards.detectors.learned_model import _learned_available

    return _learned_available(analysis)


def annotate(analyses: list[Analysis], policy: Policy) -> None:
    """Set ``analysis.language`` (ISO 639-1, or "" when unknown) and cache the full guess
    under ``analysis.cache["language:guess"]`` for rule 20."""
    site_languages = tuple(policy.languages)
    todo = [analysis for analysis in analyses if guess_of(analysis) is None]
    for analysis, guess in zip(
        todo, identify_many([a.comment.text for a in todo], site_languages), strict=True
    ):
        analysis.cache[CACHE_KEY] = guess
    for analysis in analyses:
        found = guess_of(analysis)
        code = found.code if found is not None else ""
        analysis.language = code or (analysis.comment.language or "").lower()
