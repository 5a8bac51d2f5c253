"""What the learned rules are made of: trained heads, cue inputs, lexicons, calibration.

Owned by training (standards/training/heads.py writes models/learned-heads.npz); the
runtime detector (detectors/learned.py) reads it. See learned.py for the design.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from civility.standards.analysis import Analysis
from civility.standards.detectors.profanity import Lexicon, find_hits, load_lexicon
from civility.standards.embedding import MODELS_DIR
from civility.standards.text import Skeleton, skeleton

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
