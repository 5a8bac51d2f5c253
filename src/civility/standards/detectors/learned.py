"""Learned rules: logistic heads on the shared sentence embedding, plus lexicons.

One detector scores fourteen rules (``LearnedDetector.slugs``). Each rule has two heads,
trained by ``civility train`` (standards/training/heads.py; data card in models/README.md):

- a *static* head on ``analysis.static_vector`` (the cascade's first stage, microseconds);
- a *full* head on ``analysis.embedding`` (MiniLM, the second stage).

Scores are calibrated so that the default policy means the same for every rule: 0.5 is the
head's best-F1 point in cross-validation (queue), 0.9 the point where 95% of what it flags is
a true violation (reject).

``screen`` settles a comment without the full model when every rule's static score sits
below that rule's screen bound (a bound that at most 2% of the training positives fall
under) and no lexicon phrase matched. Everything else goes to ``detect``.

Cues (``cue_vector``: slurs from lexicons/hate_slurs.txt matched on the disguise-stripped
skeleton, and the patterns of lexicons/cues.txt: links, "subscribe to my channel"...) are
extra inputs of the hate and spam heads, weighed by their logistic regression beside the
embedding: hate in the public data is dominated by slurs, which a sentence embedding blurs.

Lexicons (standards/lexicons/<rule>.txt) hold phrases that are violations on their own
("kill yourself", "DM me for coke"): they raise the score to their weight and give the span
as evidence. They are deliberately narrow: topics alone (drugs, suicide, terrorism in the
news) are not violations, and the heads were trained with such hard negatives.
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np

from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.detectors.learned_model import (
    ACT_CUE_CEILING,
    ACT_CUES,
    CUE_NAMES,
    HEADS_PATH,
    LEARNED_SLUGS,
    MODEL_LANGUAGES,
    PROFANITY_CACHE_KEY,
    SCREEN_SCORE_CEILING,
    Heads,
    LexiconEntry,
    _learned_available,
    _sigmoid,
    calibrate,
    cue_group,
    cue_vector,
    lexicon,
    lexicon_hits,
    load_heads,
)
from civility.standards.policy import Policy
from civility.standards.rules import RULES_BY_SLUG
from civility.standards.types import Context, Evidence, Finding

__all__ = [
    "ACT_CUES",
    "ACT_CUE_CEILING",
    "CUE_NAMES",
    "HEADS_PATH",
    "LEARNED_SLUGS",
    "MODEL_LANGUAGES",
    "PROFANITY_CACHE_KEY",
    "SCREEN_SCORE_CEILING",
    "Heads",
    "LearnedDetector",
    "LexiconEntry",
    "calibrate",
    "cue_group",
    "cue_vector",
    "lexicon",
    "lexicon_hits",
    "load_heads",
]


class LearnedDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = LEARNED_SLUGS
    uses_embedding: ClassVar[bool] = True

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.heads = load_heads()
        self._rows = np.array([self.heads.index(slug) for slug in LEARNED_SLUGS])
        self._profanity_row = (
            self.heads.index("profanity") if "profanity" in self.heads.slugs else None
        )
        self._used_cues = np.any(self.heads.cue_weights != 0, axis=0)
        # Lexicons read once; rules without a lexicon file have none.
        self._lexicon_slugs = tuple(slug for slug in LEARNED_SLUGS if lexicon(slug))
        # One alternation over every phrase: the screen asks only "any hit at all?".
        sources = [f"(?:{e.source})" for slug in self._lexicon_slugs for e in lexicon(slug)]
        self._any_phrase = re.compile("|".join(sources), re.IGNORECASE) if sources else None

    # -- first stage -------------------------------------------------------------------------
    def screen(self, analysis: Analysis, context: Context) -> dict[str, Finding] | None:
        if not _learned_available(analysis):
            return self._unavailable()
        vector = analysis.static_vector
        if vector is None:
            return None
        if not np.any(vector):
            # No word the model knows (empty, emoji or symbols only): nothing to judge.
            return {slug: Finding(score=0.0) for slug in LEARNED_SLUGS}
        heads = self.heads
        raw = _sigmoid(heads.static_weights @ vector + heads.static_bias)
        if np.any(raw >= heads.screen_bound):
            return None
        if self._any_lexicon_hit(analysis.comment.text):
            return None
        if self._used_cues.any() and np.any(
            cue_vector(analysis.comment.text, analysis.skeleton)[self._used_cues]
        ):
            # A slur or a link is what the static stage cannot weigh: the full heads decide.
            return None
        scores = np.minimum(calibrate(raw, heads.static_knots), SCREEN_SCORE_CEILING)
        if self._profanity_row is not None:
            analysis.cache[PROFANITY_CACHE_KEY] = float(scores[self._profanity_row])
        return {
            slug: Finding(score=float(scores[row]))
            for slug, row in zip(LEARNED_SLUGS, self._rows, strict=True)
        }

    # -- second stage ------------------------------------------------------------------------
    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        if not _learned_available(analysis):
            return self._unavailable()
        vector = analysis.embedding
        if vector is None:
            from civility.standards import embedding

            embedding.annotate_full([analysis])
            vector = analysis.embedding
        assert vector is not None
        heads = self.heads
        cues = cue_vector(analysis.comment.text, analysis.skeleton)
        scores = calibrate(
            _sigmoid(heads.full_weights @ vector + heads.cue_weights @ cues + heads.full_bias),
            heads.full_knots,
        )
        if self._profanity_row is not None:
            analysis.cache[PROFANITY_CACHE_KEY] = float(scores[self._profanity_row])
        text = analysis.comment.text
        findings: dict[str, Finding] = {}
        for slug, row in zip(LEARNED_SLUGS, self._rows, strict=True):
            score = float(scores[row])
            evidence: list[Evidence] = []
            hits = lexicon_hits(slug, text) if slug in self._lexicon_slugs else []
            cue = ACT_CUES.get(slug)
            if cue is not None and score >= ACT_CUE_CEILING and not hits and not cue.search(text):
                score = ACT_CUE_CEILING
            if hits:
                score = max(score, max(weight for _, _, weight in hits))
                evidence.extend(
                    Evidence(
                        slug=slug,
                        explanation=f"phrase typical of {RULES_BY_SLUG[slug].title.lower()}",
                        start=start,
                        end=end,
                        text=text[start:end],
                    )
                    for start, end, _ in hits[:5]
                )
            if score >= 0.5:
                evidence.insert(
                    0,
                    Evidence(
                        slug=slug,
                        explanation=(
                            f"the sentence model rates this as {RULES_BY_SLUG[slug].title.lower()}"
                            f" ({score:.2f}): it resembles the violations it was trained on"
                        ),
                    ),
                )
            findings[slug] = Finding(score=score, evidence=evidence)
        return findings

    def _any_lexicon_hit(self, text: str) -> bool:
        return self._any_phrase is not None and self._any_phrase.search(text) is not None

    @staticmethod
    def _unavailable() -> dict[str, Finding]:
        return {slug: Finding(score=0.0, available=False) for slug in LEARNED_SLUGS}
