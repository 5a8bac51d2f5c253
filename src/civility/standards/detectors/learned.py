"""Learned rules: logistic heads on the shared sentence embedding, plus lexicons.

One detector scores fourteen rules (``LearnedDetector.slugs``), trained by ``civility train``
(standards/training/heads.py; data card in models/README.md):

- a *full* head per rule on ``analysis.embedding`` (MiniLM, the second stage), plus cues;
- a *student* per head on ``analysis.static_vector`` (the cascade's first stage, microseconds):
  a ridge regression that estimates the full head's embedding term from the distilled static
  vector. The first stage scores with the full head's own cue term, bias, calibration and
  lexicons around that estimate.

Scores are calibrated so that the default policy means the same for every rule: 0.5 is the
head's best-F1 point in cross-validation (queue), 0.9 the point where 95% of what it flags is
a true violation (reject).

``estimate_many`` gives each first-stage score a ceiling and a lower bound: the estimate's
logit plus and minus the head's residual bounds, measured on calibration texts kept out of
every fit (the full logit fell outside them for about 1 text in 1,000 per head). The engine
settles a comment without the full model where those bounds cannot change what matters
(engine.py). ``screen`` is the strict form: settled clean, every ceiling under the queue point.

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

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from civility.standards.analysis import Analysis
from civility.standards.detectors import CEILING_SUFFIX, Detector
from civility.standards.detectors.learned_model import (
    ACT_CUE_CEILING,
    ACT_CUES,
    CALIBRATED_VALUES,
    CUE_NAMES,
    HEADS_PATH,
    LEARNED_SLUGS,
    LOWER_BOUNDS_CACHE_KEY,
    LOWER_SUFFIX,
    MODEL_LANGUAGES,
    PROFANITY_CACHE_KEY,
    SCREEN_SCORE_CEILING,
    CaselessAlternatives,
    CaselessPattern,
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


CUES_CACHE_KEY = "learned:cues"
ANY_PHRASE_CACHE_KEY = "learned:any-phrase"
HITS_CACHE_PREFIX = "learned:hits:"  # + slug: the rule's lexicon phrases in the comment
ACT_CUE_CACHE_PREFIX = "learned:act-cue:"


class _ColumnCalibration:
    """:func:`_calibrate_columns` for fixed knots, bit for bit, in a few whole-matrix steps.

    ``np.interp`` computes, in float64, the segment's slope times the distance from its left
    knot plus that knot's value (a value on a knot gets the knot's value; the right end gets
    1): so does this, with the three slopes computed once, the same way. One ``np.interp``
    per head costs: it is called four times per one-comment check with 15 heads, and those
    60 calls took 0.6 ms of a 10 ms check (cProfile, the benchmark's 1,000-comment latency
    sample). Knots that are not strictly increasing inside (0, 1), or a non-finite value,
    take the per-head ``np.interp`` path (a test compares the two)."""

    def __init__(self, knots: np.ndarray) -> None:
        self.knots = knots
        queue = np.asarray(knots[:, 0], dtype=np.float64)
        reject = np.asarray(knots[:, 1], dtype=np.float64)
        self.queue, self.reject = queue, reject
        self.ordered = bool(np.all(queue > 0.0) and np.all(queue < reject) and np.all(reject < 1.0))
        # (dy[j+1] - dy[j]) / (dx[j+1] - dx[j]), as numpy's interp computes it.
        y0, y1, y2, y3 = CALIBRATED_VALUES
        self.slopes = ((y1 - y0) / (queue - 0.0), (y2 - y1) / (reject - queue),
                       (y3 - y2) / (1.0 - reject))  # fmt: skip

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        x = np.asarray(raw, dtype=np.float64)
        if not self.ordered or not np.isfinite(x).all():
            return _calibrate_columns(raw, self.knots)
        low, middle, high = self.slopes
        y0, y1, y2, y3 = CALIBRATED_VALUES
        result = np.where(
            x < self.queue,
            low * (x - 0.0) + y0,
            np.where(
                x < self.reject, middle * (x - self.queue) + y1, high * (x - self.reject) + y2
            ),
        )
        result[x >= 1.0] = y3
        result[x < 0.0] = y0
        out = np.empty_like(raw)
        out[...] = result
        return out


def _calibrate_columns(raw: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """:func:`calibrate` for a (comments, heads) matrix: one interpolation per head."""
    out = np.empty_like(raw)
    for head in range(raw.shape[1]):
        queue, reject = float(knots[head, 0]), float(knots[head, 1])
        out[:, head] = np.interp(raw[:, head], [0.0, queue, reject, 1.0], CALIBRATED_VALUES)
    return out


class LearnedDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = LEARNED_SLUGS
    uses_embedding: ClassVar[bool] = True

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.heads = load_heads()
        self._calibrate = _ColumnCalibration(self.heads.full_knots)
        self._rows = np.array([self.heads.index(slug) for slug in LEARNED_SLUGS])
        self._profanity_row = (
            self.heads.index("profanity") if "profanity" in self.heads.slugs else None
        )
        self._used_cues = np.any(self.heads.cue_weights != 0, axis=0)
        # Lexicons read once; rules without a lexicon file have none.
        self._lexicon_slugs = tuple(slug for slug in LEARNED_SLUGS if lexicon(slug))
        # One alternation over every phrase: most comments match none, so one search tells
        # whether the per-rule look-ups are needed at all.
        sources = [e.source for slug in self._lexicon_slugs for e in lexicon(slug)]
        self._any_phrase = CaselessAlternatives.of(sources) if sources else None
        self._act_cues = {
            slug: CaselessPattern.of(cue) for slug, cue in ACT_CUES.items() if slug in LEARNED_SLUGS
        }
        self._act_rows = {int(self.heads.index(slug)): cue for slug, cue in self._act_cues.items()}

    # -- first stage -------------------------------------------------------------------------
    def screen(self, analysis: Analysis, context: Context) -> dict[str, Finding] | None:
        """Settled clean without the full model (every ceiling under the queue point), or
        None. The engine uses the richer :meth:`estimate_many`; this is its strict form."""
        found = self.estimate_many([analysis], [context])[0]
        if found is None or any(
            f.available and (f.ceiling if f.ceiling is not None else f.score) > SCREEN_SCORE_CEILING
            for f in found.values()
        ):
            for suffix in ("", CEILING_SUFFIX, LOWER_SUFFIX):
                analysis.cache.pop(PROFANITY_CACHE_KEY + suffix, None)
            return None
        analysis.cache.pop(PROFANITY_CACHE_KEY + CEILING_SUFFIX, None)
        analysis.cache.pop(PROFANITY_CACHE_KEY + LOWER_SUFFIX, None)
        return {slug: Finding(score=f.score, evidence=f.evidence, available=f.available)
                for slug, f in found.items()}  # fmt: skip

    def estimate_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding] | None]:
        """First-stage scores for every comment, each with its ceiling (and, in
        ``analysis.cache[LOWER_BOUNDS_CACHE_KEY]``, its lower bound).

        The student (static vector -> the full head's embedding term) stands in for the
        embedding; the cue term, the bias, the act-cue cap and the lexicons are the full
        stage's own, computed exactly. The bounds add the head's calibrated residual bounds
        to the logit (training/heads.py): the full model's score lies between them for all
        but about one comment in a thousand per rule.
        """
        results: list[dict[str, Finding] | None] = [None] * len(analyses)
        pending: list[int] = []
        for index, analysis in enumerate(analyses):
            if not _learned_available(analysis):
                results[index] = self._unavailable()
            elif analysis.static_vector is None:
                continue
            elif not np.any(analysis.static_vector):
                # No word the model knows (empty, emoji or symbols only): nothing to judge.
                results[index] = {slug: Finding(score=0.0) for slug in LEARNED_SLUGS}
            else:
                pending.append(index)
        if not pending:
            return results
        heads = self.heads
        logits = []
        for index in pending:
            analysis = analyses[index]
            vector = analysis.static_vector
            assert vector is not None
            # One product per comment (not one for the batch): a comment's scores must not
            # depend on its batch mates down to the last bit.
            logits.append(
                heads.static_weights @ vector
                + heads.static_bias
                + self._cue_term(analysis)
                + heads.full_bias
            )
        z = np.stack(logits).astype(np.float64)
        scores = self._calibrate(_sigmoid(z))
        ceilings = self._calibrate(_sigmoid(z + heads.residual_upper[None, :]))
        lowers = self._calibrate(_sigmoid(z - heads.residual_lower[None, :]))
        for position, index in enumerate(pending):
            analysis = analyses[index]
            score, ceiling, lower = scores[position], ceilings[position], lowers[position]
            if self._profanity_row is not None:
                row = self._profanity_row
                analysis.cache[PROFANITY_CACHE_KEY] = float(score[row])
                analysis.cache[PROFANITY_CACHE_KEY + CEILING_SUFFIX] = float(ceiling[row])
                analysis.cache[PROFANITY_CACHE_KEY + LOWER_SUFFIX] = float(lower[row])
            found = self._full_findings(analysis, score, first_stage=True)
            bounds: dict[str, float] = {}
            for slug, row in zip(LEARNED_SLUGS, self._rows, strict=True):
                # The full stage's final score is a monotone function of its head's score (the
                # act-cue cap, the lexicon maximum): the same function bounds it.
                finding = found[slug]
                hits = self._hits(analysis, slug)  # (once for both bounds)
                high = self._final_score(analysis, slug, float(ceiling[row]), hits)
                bounds[slug] = min(self._final_score(analysis, slug, float(lower[row]), hits), high)
                # (A Finding made directly: dataclasses.replace costs 4x as much.)
                found[slug] = Finding(
                    score=finding.score,
                    evidence=finding.evidence,
                    available=finding.available,
                    ceiling=max(high, finding.score),
                )
            analysis.cache[LOWER_BOUNDS_CACHE_KEY] = bounds
            results[index] = found
        return results

    def _cue_term(self, analysis: Analysis) -> np.ndarray:
        """The cues' share of every head's logit (the same in both stages)."""
        cues = self._cues(analysis)
        if cues is None:
            cues = np.zeros(len(CUE_NAMES), dtype=np.float32)
        product: np.ndarray = self.heads.cue_weights @ cues
        return product

    def _cues(self, analysis: Analysis) -> np.ndarray | None:
        """The cue inputs (computed once per comment), or None when no head weighs them."""
        if not self._used_cues.any():
            return None
        cached = analysis.cache.get(CUES_CACHE_KEY)
        if not isinstance(cached, np.ndarray):
            cached = cue_vector(analysis.comment.text, analysis.skeleton)
            analysis.cache[CUES_CACHE_KEY] = cached
        return cached

    # -- second stage ------------------------------------------------------------------------
    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        return self.detect_many([analysis], [context])[0]

    def detect_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding]]:
        available = [_learned_available(a) for a in analyses]
        # (Findings built only for the comments they stand for: 14 objects each.)
        results: list[dict[str, Finding]] = [
            {} if judged else self._unavailable() for judged in available
        ]
        pending = [i for i, judged in enumerate(available) if judged]
        if not pending:
            return results
        missing = [analyses[i] for i in pending if analyses[i].embedding is None]
        if missing:
            from civility.standards import embedding

            embedding.annotate_full(missing)
        heads = self.heads
        raw_rows = []
        for index in pending:
            analysis = analyses[index]
            vector = analysis.embedding
            assert vector is not None
            raw_rows.append(
                _sigmoid(heads.full_weights @ vector + self._cue_term(analysis) + heads.full_bias)
            )
        all_scores = self._calibrate(np.stack(raw_rows))
        for position, index in enumerate(pending):
            analysis = analyses[index]
            analysis.cache.pop(PROFANITY_CACHE_KEY + CEILING_SUFFIX, None)
            analysis.cache.pop(PROFANITY_CACHE_KEY + LOWER_SUFFIX, None)
            results[index] = self._full_findings(analysis, all_scores[position])
        return results

    def _hits(self, analysis: Analysis, slug: str) -> list[tuple[int, int, float]]:
        """The rule's lexicon phrases in the comment (one search for all phrases first), each
        rule's searched once per comment: both stages ask, the first stage three times. The
        list is shared: callers only read it."""
        if slug not in self._lexicon_slugs or not self._any_lexicon_hit(analysis):
            return []
        return analysis.once(
            HITS_CACHE_PREFIX + slug, list, lambda: lexicon_hits(slug, analysis.comment.text)
        )

    def _final_score(
        self,
        analysis: Analysis,
        slug: str,
        score: float,
        hits: list[tuple[int, int, float]] | None = None,
    ) -> float:
        """The rule's score for a head score of ``score``: the act-cue cap (no word of harm:
        under the queue point) and the lexicon phrases (at least their weight). Monotone in
        ``score``, so it maps first-stage bounds to bounds of the final score."""
        if hits is None:
            hits = self._hits(analysis, slug)
        if score >= ACT_CUE_CEILING and not hits and self._lacks_act_cue(analysis, slug):
            score = ACT_CUE_CEILING
        if hits:
            score = max(score, max(weight for _, _, weight in hits))
        return score

    def _lacks_act_cue(self, analysis: Analysis, slug: str) -> bool:
        """Whether the rule has an act cue (a word of harm) and the comment lacks it; searched
        once per comment and rule (the first stage asks for the score and both bounds)."""
        cue = self._act_cues.get(slug)
        if cue is None:
            return False
        found = analysis.once(
            ACT_CUE_CACHE_PREFIX + slug, bool, lambda: cue.found_in(analysis.comment.text)
        )
        return not found

    def _full_findings(
        self, analysis: Analysis, scores: np.ndarray, *, first_stage: bool = False
    ) -> dict[str, Finding]:
        if self._profanity_row is not None and not first_stage:
            analysis.cache[PROFANITY_CACHE_KEY] = float(scores[self._profanity_row])
        text = analysis.comment.text
        findings: dict[str, Finding] = {}
        for slug, row in zip(LEARNED_SLUGS, self._rows, strict=True):
            evidence: list[Evidence] = []
            hits = self._hits(analysis, slug)
            score = self._final_score(analysis, slug, float(scores[row]), hits)
            if hits:
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
                evidence.insert(0, self._model_evidence(analysis, slug, row, score, first_stage))
            findings[slug] = Finding(score=score, evidence=evidence)
        return findings

    def _model_evidence(
        self, analysis: Analysis, slug: str, row: int, score: float, first_stage: bool
    ) -> Evidence:
        """Why the model flagged the comment; where the full model read two or more sentences,
        the one whose own vector the rule's head rates highest, as the span (models/README.md
        section 3: on civil_comments' annotated toxic spans it is the toxic sentence in 75.5% of
        comments, against 36.5% for a sentence picked at random)."""
        model = "first-stage model" if first_stage else "sentence model"
        explanation = (
            f"the {model} rates this as {RULES_BY_SLUG[slug].title.lower()}"
            f" ({score:.2f}): it resembles the violations it was trained on"
        )
        sentences = analysis.sentences
        if first_stage or sentences is None:
            return Evidence(slug=slug, explanation=explanation)
        logits = sentences.vectors.astype(np.float32) @ self.heads.full_weights[row]
        start, end = sentences.spans[int(np.argmax(logits))]
        return Evidence(
            slug=slug,
            explanation=f"{explanation}; the marked sentence reads most like it",
            start=start,
            end=end,
            text=analysis.comment.text[start:end],
        )

    def _any_lexicon_hit(self, analysis: Analysis) -> bool:
        """Whether any lexicon phrase occurs (one search over all of them, once per comment)."""
        cached = analysis.cache.get(ANY_PHRASE_CACHE_KEY)
        if not isinstance(cached, bool):
            cached = self._any_phrase is not None and self._any_phrase.found_in(
                analysis.comment.text
            )
            analysis.cache[ANY_PHRASE_CACHE_KEY] = cached
        return cached

    @staticmethod
    def _unavailable() -> dict[str, Finding]:
        return {slug: Finding(score=0.0, available=False) for slug in LEARNED_SLUGS}
