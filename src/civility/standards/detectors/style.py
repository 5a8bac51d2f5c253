"""Rule 19, written-language rules: shouting in capitals, and text never broken into sentences.

Capitals. Only letters that have case count (Chinese, Arabic, Hindi... never trigger), and
only in words of two or more letters. Acronyms and codes ("NATO", "USA", "COVID-19", "EU")
are left out when the rest of the comment is in lower case; a comment whose words are all in
capitals is shouting however short its words are ("STOP THE WAR NOW"). The score rises from
0.6 at 60% capital words to 0.85 at 100% (capped at 0.7 when the shouting is short: fewer
than four capital words or twenty capital letters). Style never scores above 0.85, so under
the default policy (queue 0.5, reject 0.9) it holds a comment for review but never removes it.

Handles, tags and links are in nobody's voice: "@USER", "#MAGA", "https://t.co/AbCd" and
"&AMP;" are blanked (same length, so spans still point into the comment) before either
measure, or a reply to three accounts ("@USER @USER @USER EXACTLY! Nice") would be shouting
and a list of handles a run-on sentence.

Run-on text. The longest stretch of words without a sentence break (. ! ? ; : a line break,
and the CJK/Devanagari/Arabic full stops). Forty words in one sentence are common in news
prose; sixty starts the score at 0.5; a hundred and forty or more scores the maximum. A long
sentence that is punctuated inside (commas, brackets, dashes, quotes) is prose, not a wall
of text: it counts only when forty of its words run without any such mark, or when it is a
hundred and twenty words long. On the Globe and Mail comments of c3 (eval only) that every
crowd worker judged not toxic, the sentence length alone held 68 of 3,255; with the inner
marks, 16, each a chain of "and... which... then" clauses.
"""

from __future__ import annotations

import re
from typing import ClassVar

from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.types import Context, Evidence, Finding

SLUG = "shouting"
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_SENTENCE_BREAK = re.compile(r"[.!?;:\n\u2026\u3002\uff01\uff1f\u0964\u06d4\u061f]+")
ACRONYM_MAX_LETTERS = 5
CAPS_START = 0.6  # share of capital words where the score starts to rise
SHORT_SHOUT_CAP = 0.7
RUN_ON_START = 60  # words without a break where the run-on score starts to rise
RUN_ON_FULL = 160  # ... and where it reaches the maximum
RUN_ON_PLAIN = 40  # words of such a sentence that must run without a comma, bracket or dash...
RUN_ON_ANYWAY = 120  # ... unless the sentence is this long
_INNER_MARK = re.compile(r"[,()\[\]\u2014\u2013\"\u201c\u201d]|\s[-/]\s|--")
# Links, @handles, #tags and HTML entities: written by the platform or copied, not shouted.
_NOT_WRITTEN = re.compile(r"(?i:https?://|www\.)\S+|[@#][^\W_][\w.]*|&#?\w+;", re.UNICODE)
# Style alone never removes a comment under the default policy (reject 0.9): the author can
# fix it, so the worst case is a queue.
MAX_SCORE = 0.85


def _cased(word: str) -> tuple[int, int]:
    """Upper- and lower-case letters in ``word`` (``str.isupper``/``islower`` per letter)."""
    if word.isalpha() and word.isascii():
        # Most words are all lower case (or all capitals): one C-level test each, not a loop.
        if word.islower():
            return 0, len(word)
        if word.isupper():
            return len(word), 0
    upper = lower = 0
    for ch in word:
        if ch.isupper():
            upper += 1
        elif ch.islower():
            lower += 1
    return upper, lower


# In ASCII text, what a word in capitals (two or more capital letters, no small one) must
# hold: two capitals with at most digits, hyphens and apostrophes between them. Most comments
# have none, and one search tells so (the word walk took 20-80 us a comment).
_TWO_CAPITALS = re.compile(r"[A-Z][0-9'-]*[A-Z]")


def blank_unwritten(text: str) -> str:
    """``text`` with links, @handles, #tags and HTML entities replaced by spaces."""
    if not ("@" in text or "#" in text or "&" in text or "://" in text or "www." in text.lower()):
        return text  # most comments: nothing to blank, no search
    return _NOT_WRITTEN.sub(lambda match: " " * len(match.group()), text)


def capitals_score(text: str) -> tuple[float, tuple[int, int] | None, str]:
    """The shouting score, the span of the shouted words, and an explanation."""
    if text.isascii() and not _TWO_CAPITALS.search(text):
        return 0.0, None, ""
    return _capitals_walk(text)


def _capitals_walk(text: str) -> tuple[float, tuple[int, int] | None, str]:
    cased_words: list[tuple[re.Match[str], int, int]] = []
    for match in _WORD.finditer(text):
        upper, lower = _cased(match.group())
        if upper + lower >= 2:
            cased_words.append((match, upper, lower))
    if len(cased_words) < 2:
        return 0.0, None, ""
    capital = [(m, u) for m, u, low in cased_words if low == 0]
    lower_words = len(cased_words) - len(capital)
    if lower_words and len(capital) / len(cased_words) < 0.5:
        # Mostly lower case: capital words are acronyms or emphasis unless they are long.
        capital = [(m, u) for m, u in capital if u > ACRONYM_MAX_LETTERS]
    share = len(capital) / len(cased_words)
    if share < CAPS_START or not capital:
        return 0.0, None, ""
    score = min(MAX_SCORE, 0.6 + 0.4 * (share - CAPS_START) / (1.0 - CAPS_START))
    capital_letters = sum(u for _, u in capital)
    if len(capital) < 4 or capital_letters < 20:
        score = min(score, SHORT_SHOUT_CAP)
    span = (capital[0][0].start(), capital[-1][0].end())
    return score, span, f"{share:.0%} of the words are in capital letters"


def _unmarked_run(sentence: str) -> int:
    """The most words of ``sentence`` in a row with no comma, bracket, dash or quote."""
    return max(len(part.split()) for part in _INNER_MARK.split(sentence))


def run_on_score(text: str) -> tuple[float, tuple[int, int] | None, str]:
    longest = 0
    longest_span: tuple[int, int] | None = None
    position = 0
    for piece in _SENTENCE_BREAK.split(text):
        words = len(piece.split())
        if (
            words > longest
            and words >= RUN_ON_START
            and (words >= RUN_ON_ANYWAY or _unmarked_run(piece) >= RUN_ON_PLAIN)
        ):
            longest = words
            start = text.find(piece, position)
            longest_span = (start, start + len(piece))
        position += len(piece)
    if longest < RUN_ON_START:
        return 0.0, None, ""
    score = min(MAX_SCORE, 0.5 + 0.5 * (longest - RUN_ON_START) / (RUN_ON_FULL - RUN_ON_START))
    return score, longest_span, f"{longest} words without a sentence break"


class ShoutingDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = (SLUG,)
    uses_embedding: ClassVar[bool] = False

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        text = analysis.text
        written = blank_unwritten(text)
        evidence: list[Evidence] = []
        best = 0.0
        for score, span, explanation in (capitals_score(written), run_on_score(written)):
            if span is None or score <= 0.0:
                continue
            best = max(best, score)
            start, end = span
            evidence.append(
                Evidence(
                    slug=SLUG,
                    explanation=explanation,
                    start=start,
                    end=end,
                    text=text[start:end][:200],
                )
            )
        return {SLUG: Finding(score=best, evidence=evidence)}
