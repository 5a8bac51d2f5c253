"""Rule 20, foreign language: the comment is not in one of the site's languages.

The language guess comes from :mod:`civility.standards.language` (computed once per comment
by the engine). Its ``foreign_probability`` is how far the best site language trails the
best language overall (1 - site/top; letters in scripts no site language writes count as
foreign outright). The score is that, damped for short text, where every identifier guesses:
- one word or fewer than eight letters ("Bravo!", "merci"): at most 0.6, a queue, and only
  when the site language trails by at least 70%;
- under three words or fifteen letters: at most 0.6, when it trails by at least 50%;
- longer text: the value itself once it reaches 0.5 (so a clearly foreign paragraph reaches
  the reject threshold), below that 0.45 at most (publish).
When the best guess is a site language the score is 0.
Thresholds were chosen on the train part of langid_kaggle17 (CC0).
"""

from __future__ import annotations

from typing import ClassVar

from civility.standards import language
from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.types import Context, Evidence, Finding

SLUG = "foreign_language"
TINY_MIN_PROBABILITY = 0.7
SHORT_MIN_PROBABILITY = 0.5
LONG_MIN_PROBABILITY = 0.5
SHORT_SCORE = 0.6
BELOW = 0.45  # the most a score may be when the guess is not sure enough: never fires


def foreign_score(guess: language.LanguageGuess, site_languages: tuple[str, ...] = ()) -> float:
    if guess.code and guess.code in site_languages:
        return 0.0
    probability = guess.foreign_probability
    if guess.words < 2 or guess.letters < 8:
        return SHORT_SCORE if probability >= TINY_MIN_PROBABILITY else BELOW * probability
    if guess.short:
        return SHORT_SCORE if probability >= SHORT_MIN_PROBABILITY else BELOW * probability
    return probability if probability >= LONG_MIN_PROBABILITY else min(probability, BELOW)


class ForeignLanguageDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = (SLUG,)
    uses_embedding: ClassVar[bool] = False

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        site_languages = tuple(self.policy.languages)
        guess = language.guess_of(analysis)
        if guess is None:
            guess = language.identify(analysis.text, site_languages)
            analysis.cache[language.CACHE_KEY] = guess
        score = foreign_score(guess, site_languages)
        evidence: list[Evidence] = []
        if score >= BELOW and guess.code not in site_languages:
            named = guess.code or "an unrecognised language"
            evidence.append(
                Evidence(
                    slug=SLUG,
                    explanation=(
                        f"written in {named} ({guess.foreign_probability:.0%} sure it is not "
                        f"{'/'.join(site_languages)}; {guess.method})"
                    ),
                    start=0,
                    end=len(analysis.text),
                    text=analysis.text[:80],
                )
            )
        return {SLUG: Finding(score=score, evidence=evidence)}
