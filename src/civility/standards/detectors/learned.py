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
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import ClassVar

import numpy as np

from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.detectors.profanity import Lexicon, find_hits, load_lexicon
from civility.standards.embedding import MODELS_DIR
from civility.standards.policy import Policy
from civility.standards.rules import RULES_BY_SLUG
from civility.standards.text import Skeleton, skeleton
from civility.standards.types import Context, Evidence, Finding

HEADS_PATH = MODELS_DIR / "learned-heads.npz"
LEARNED_SLUGS: tuple[str, ...] = (
    "hate", "insult", "threat", "violence", "self_harm", "minors", "extremism", "narcotics",
    "animal_cruelty", "trolling", "disrespect_site", "advertising", "promotion", "spam",
)  # fmt: skip
PROFANITY_CACHE_KEY = "learned:profanity"
# Languages the heads were trained on; other languages make the rules "not available".
MODEL_LANGUAGES = frozenset({"en"})
# A comment settled by the screen is judged clean: its scores stay under the queue point.
SCREEN_SCORE_CEILING = 0.45
# Rules whose violation is an act: the sentence model tells the *subject* well (animals) but
# not whether harm is done to it, and a comment about animal welfare is not cruelty. Without
# any word of harm, such a rule's score stays under the queue point.
ACT_CUES: dict[str, re.Pattern[str]] = {
    "animal_cruelty": re.compile(
        r"\b(?:kill\w*|kick\w*|beat\w*|hit|hitting|drown\w*|poison\w*|shoot\w*|shot|stab\w*|"
        r"burn\w*|tortur\w*|starv\w*|strangl\w*|hang\w*|skin(?:ned|ning)?|throw\w*|threw|"
        r"stomp\w*|run\s+over|ran\s+over|crush\w*|whip\w*|electrocut\w*|abus\w*|hurt\w*|"
        r"break\w*|broke|cut|cutting|microwav\w*|freez\w*|feed\w*\s+\w+\s+to|fed\s+\w+\s+to|"
        r"stuff(?:ed)?|pelts?|fights?|fighting|bait\w*|glue\s+traps?|sack|bin\s+bag|rocks?|stones?|"
        r"suffer\w*|lock\w*|ties|tied?|tying|chain\w*|cag(?:e|ed|ing)|drag\w*|rip\w*|tear|tore|"
        r"torn|poke\w*|trap\w*|dump\w*|abandon\w*|neglect\w*|no\s+(?:food|water)|gas|gassed|"
        r"whipp\w*|stamp\w*|nail\w*|skin\w*|pelts?|set\s+(?:the\s+|our\s+|my\s+)?dogs?\s+on|"
        r"slaughter\w*|bleach|boiling|firework\w*|air\s+rifle|catapult|pull\w*|squash\w*|"
        r"sling\w*|hunt\w*|cours\w*|baiting|get\s+rid\s+of|put\s+down)\b",
        re.IGNORECASE,
    ),
}
ACT_CUE_CEILING = 0.45


SLUR_CUES = ("slur", "slur_count")
# Ordinary words that the slur matcher's inflection and double-letter forgiveness would take
# for a slur ("spicy" = spic + y; "Niger" = a missing double).
NOT_SLURS = frozenset({"spicy", "spice", "niger", "nigers"})


@cache
def _cue_patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(group, name, pattern) of lexicons/cues.txt: ``group<TAB>name<TAB>regex`` lines."""
    text = resources.files("civility.standards").joinpath("lexicons/cues.txt").read_text("utf-8")
    patterns: list[tuple[str, str, re.Pattern[str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        group, name, expression = line.split("\t", 2)
        patterns.append((group, f"{group}:{name}", re.compile(expression, re.IGNORECASE)))
    return tuple(patterns)


@cache
def _slur_lexicon() -> Lexicon:
    return Lexicon(load_lexicon("hate_slurs.txt"))


def _cue_names() -> tuple[str, ...]:
    return tuple(f"hate:{name}" for name in SLUR_CUES) + tuple(n for _, n, _ in _cue_patterns())


CUE_NAMES: tuple[str, ...] = _cue_names()


def cue_group(name: str) -> str:
    return name.split(":", 1)[0]


def _word_at(text: str, start: int, end: int) -> str:
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    while end < len(text) and text[end].isalpha():
        end += 1
    return text[start:end]


def cue_vector(text: str, skeleton_of_text: Skeleton | None = None) -> np.ndarray:
    """Inputs that a sentence embedding blurs but that mark some rules: slurs (matched on the
    disguise-stripped skeleton, like profanity), links and channel-plugging formulas.
    The heads that use them learned their weight from data (training/heads.py)."""
    values = np.zeros(len(CUE_NAMES), dtype=np.float32)
    skel = skeleton_of_text if skeleton_of_text is not None else skeleton(text)
    hits = [
        hit
        for hit in find_hits(skel, _slur_lexicon())
        if _word_at(skel.text, hit.start, hit.end) not in NOT_SLURS
    ]
    if hits:
        values[0] = max(hit.weight for hit in hits)
        values[1] = min(len(hits), 3) / 3.0
    for offset, (_, _, pattern) in enumerate(_cue_patterns(), len(SLUR_CUES)):
        if pattern.search(skel.text) or pattern.search(text):
            values[offset] = 1.0
    return values


@dataclass(frozen=True, slots=True)
class Heads:
    slugs: tuple[str, ...]
    full_weights: np.ndarray  # (heads, 384)
    full_bias: np.ndarray
    full_knots: np.ndarray  # (heads, 2): raw queue and reject points
    static_weights: np.ndarray  # (heads, 128)
    static_bias: np.ndarray
    static_knots: np.ndarray
    screen_bound: np.ndarray  # raw static score under which a rule is settled clean
    # Weights of the cue inputs (``cue_vector``) per head; zero where a head uses no cue.
    cue_weights: np.ndarray  # (heads, cues)

    def index(self, slug: str) -> int:
        return self.slugs.index(slug)


_heads_lock = threading.Lock()
_heads: Heads | None = None


def load_heads() -> Heads:
    global _heads
    if _heads is None:
        with _heads_lock:
            if _heads is None:
                with np.load(HEADS_PATH) as data:
                    names = tuple(str(n) for n in data["cue_names"]) if "cue_names" in data else ()
                    if names and names != CUE_NAMES:
                        raise RuntimeError(
                            f"{HEADS_PATH.name} was trained on other cues than lexicons/cues.txt "
                            "defines: retrain with `civility train --only heads`"
                        )
                    slugs = tuple(str(s) for s in data["slugs"])
                    _heads = Heads(
                        slugs=slugs,
                        full_weights=data["full_weights"].astype(np.float32),
                        full_bias=data["full_bias"].astype(np.float32),
                        full_knots=data["full_knots"].astype(np.float64),
                        static_weights=data["static_weights"].astype(np.float32),
                        static_bias=data["static_bias"].astype(np.float32),
                        static_knots=data["static_knots"].astype(np.float64),
                        screen_bound=data["screen_bound"].astype(np.float32),
                        cue_weights=(
                            data["cue_weights"].astype(np.float32)
                            if names
                            else np.zeros((len(slugs), len(CUE_NAMES)), dtype=np.float32)
                        ),
                    )
    return _heads


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))), dtype=np.float64)


def calibrate(raw: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Piecewise-linear map: raw queue point -> 0.5, raw reject point -> 0.9 (per head)."""
    out = np.empty_like(raw)
    for i, value in enumerate(raw):
        queue, reject = float(knots[i, 0]), float(knots[i, 1])
        out[i] = np.interp(value, [0.0, queue, reject, 1.0], [0.0, 0.5, 0.9, 1.0])
    return out


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    pattern: re.Pattern[str]
    weight: float
    source: str


@cache
def lexicon(slug: str) -> tuple[LexiconEntry, ...]:
    """Entries of lexicons/<slug>.txt: ``weight<TAB>regex`` lines; '#' starts a comment."""
    try:
        text = (
            resources.files("civility.standards")
            .joinpath(f"lexicons/{slug}.txt")
            .read_text("utf-8")
        )
    except FileNotFoundError:
        return ()
    entries: list[LexiconEntry] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        weight_text, _, expression = line.partition("\t")
        entries.append(
            LexiconEntry(
                pattern=re.compile(expression.strip(), re.IGNORECASE),
                weight=float(weight_text),
                source=expression.strip(),
            )
        )
    return tuple(entries)


def lexicon_hits(slug: str, text: str) -> list[tuple[int, int, float]]:
    hits: list[tuple[int, int, float]] = []
    for entry in lexicon(slug):
        for match in entry.pattern.finditer(text):
            if match.end() > match.start():
                hits.append((match.start(), match.end(), entry.weight))
    return hits


def _learned_available(analysis: Analysis) -> bool:
    return not analysis.language or analysis.language in MODEL_LANGUAGES


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
