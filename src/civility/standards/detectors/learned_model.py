"""What the learned rules are made of: trained heads, cue inputs, lexicons, calibration.

Owned by training (standards/training/heads.py writes models/learned-heads.npz); the
runtime detector (detectors/learned.py) reads it. See learned.py for the design.
"""

from __future__ import annotations

import itertools
import re
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from civility.standards.analysis import Analysis
from civility.standards.detectors.profanity import Lexicon, find_hits, load_lexicon
from civility.standards.embedding import MODELS_DIR
from civility.standards.language import guess_of
from civility.standards.pattern_set import (
    PatternSet,
    ascii_stand_in,
    single_pattern,
    takes_stand_ins,
)
from civility.standards.text import Skeleton, skeleton

HEADS_PATH = MODELS_DIR / "learned-heads.npz"
LEARNED_SLUGS: tuple[str, ...] = (
    "hate", "insult", "threat", "violence", "self_harm", "minors", "extremism", "narcotics",
    "animal_cruelty", "trolling", "disrespect_site", "advertising", "promotion", "spam",
)  # fmt: skip
PROFANITY_CACHE_KEY = "learned:profanity"
# First-stage lower bounds (``estimate_many``): under "<key>" + LOWER_SUFFIX in
# ``analysis.cache``, beside the ceilings under "<key>:ceiling"; and, per comment, a dict of
# every rule's lower bound under LOWER_BOUNDS_CACHE_KEY (read by the engine's cascade).
LOWER_SUFFIX = ":lower"
LOWER_BOUNDS_CACHE_KEY = "estimate:lower"
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
        r"sling\w*|hunt\w*|cours\w*|baiting|get\s+rid\s+of|put\s+down|"
        # Means and acts without a verb of harm: "antifreeze in its bowl", "in a bucket",
        # "target practice", "dogfighting", "set the lurchers on", "fed them to the pigs".
        r"antifreeze|slug\s+pellets|rat\s+bait|bucket|under\s+(?:the\s+)?water|"
        r"target\s+practi[cs]e|bb\s+gun|pellet\s+gun|wring\w*|flush\w*|pliers|bash\w*|"
        r"whack\w*|smash\w*|swerv\w*|\w+fight\w*|let\s+(?:the\s+)?\w+\s+loose\s+on|"
        r"feed\w*\s+(?:\w+\s+){1,3}to|fed\s+(?:\w+\s+){1,3}to|under\s+the\s+wheels|"
        r"set\s+(?:\w+\s+){0,2}(?:dogs?|lurchers?|hounds?|terriers?)\s+on|bleed\w*|"
        r"(?:tear\w*|torn|ripp?\w*)\s+(?:\w+\s+)?apart)\b",
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


# Escapes whose meaning does not depend on case (classes, anchors, quoted punctuation).
_CASELESS_ESCAPES = frozenset("bBsSwWdD") | frozenset(string.punctuation) | {" "}


def _lower_case_form(expression: str) -> re.Pattern[str] | None:
    """``expression`` with its letters lower-cased, compiled without IGNORECASE, or None when
    that would not be the same search: an escape other than a class, an anchor or quoted
    punctuation, a non-ASCII character, an inline group flag, or a range whose ends are not
    two letters of one case or two digits. On ASCII text, the IGNORECASE pattern matches
    exactly where this one matches the text's ``lower()`` (and runs about twice as fast:
    case-insensitive literals defeat the regex engine's first-character checks)."""
    if "(?" in expression.replace("(?:", "").replace("(?=", "").replace("(?!", "").replace(
        "(?<=", ""
    ).replace("(?<!", ""):
        return None
    escaped = in_class = False
    class_start = 0
    lowered: list[str] = []
    for index, ch in enumerate(expression):
        lowered.append(ch if escaped else ch.lower())
        if escaped:
            if ch not in _CASELESS_ESCAPES:
                return None
            escaped = False
        elif ch == "\\":
            escaped = True
        elif not ch.isascii():
            return None
        elif not in_class and ch == "[":
            in_class, class_start = True, index
        elif (
            in_class
            and ch == "]"
            and index > class_start + 1 + expression.startswith("^", class_start + 1)
        ):
            in_class = False
        elif (
            in_class
            and ch == "-"
            and expression[index - 1] != "["
            and (index + 1 < len(expression) and expression[index + 1] != "]")
        ):
            # A range such as "!-_" or "A-z" holds letters of one case without naming them.
            before, after = expression[index - 1], expression[index + 1]
            if not (
                ("a" <= before <= "z" and "a" <= after <= "z")
                or ("A" <= before <= "Z" and "A" <= after <= "Z")
                or (before.isdigit() and after.isdigit())
            ):
                return None
    return re.compile("".join(lowered))


@dataclass(frozen=True, slots=True)
class CaselessPattern:
    """A case-insensitive pattern that searches a text through its lower-case form
    (:func:`_lower_case_form`) in the text's lower-case ASCII stand-in
    (pattern_set.ascii_stand_in), compiled by RE2 where RE2 gives the same answers
    (pattern_set.single_pattern); the answers are the IGNORECASE pattern's."""

    pattern: re.Pattern[str]
    lower_form: re.Pattern[str] | None
    ascii_form: Any = None  # an RE2 pattern, or None
    takes_stand_ins: bool = False

    @classmethod
    def of(cls, pattern: re.Pattern[str]) -> CaselessPattern:
        assert pattern.flags & re.IGNORECASE
        lower_form = _lower_case_form(pattern.pattern)
        if lower_form is None:
            return cls(pattern, None)
        return cls(
            pattern,
            lower_form,
            single_pattern(lower_form.pattern),
            takes_stand_ins(lower_form.pattern),
        )

    def found_in(self, text: str) -> bool:
        if self.lower_form is not None:
            stood_in = ascii_stand_in(text, other_scripts=self.takes_stand_ins)
            if stood_in is not None:
                searcher = self.ascii_form if self.ascii_form is not None else self.lower_form
                return searcher.search(stood_in) is not None
        return self.pattern.search(text) is not None


@dataclass(frozen=True, slots=True)
class CaselessAlternatives:
    """Whether any of several case-insensitive patterns occurs: their lower-case forms
    searched together (:class:`PatternSet`) in the text's ASCII stand-in; one IGNORECASE
    alternation where the text has no exact stand-in. A pattern without a lower-case form
    stays case-insensitive in the set's Python part (an IGNORECASE pattern finds the same in
    the lower-cased text)."""

    alternation: re.Pattern[str]
    ascii_set: PatternSet

    @classmethod
    def of(cls, sources: list[str]) -> CaselessAlternatives:
        forms = [_lower_case_form(source) for source in sources]
        return cls(
            re.compile("|".join(f"(?:{source})" for source in sources), re.IGNORECASE),
            PatternSet(
                [
                    form.pattern if form is not None else f"(?i:{source})"
                    for source, form in zip(sources, forms, strict=True)
                ]
            ),
        )

    def found_in(self, text: str) -> bool:
        stood_in = ascii_stand_in(text, other_scripts=self.ascii_set.takes_stand_ins)
        if stood_in is not None:
            return self.ascii_set.any_match(stood_in)
        return self.alternation.search(text) is not None


@cache
def _lower_case_cue_patterns() -> tuple[re.Pattern[str] | None, ...]:
    return tuple(_lower_case_form(pattern.pattern) for _, _, pattern in _cue_patterns())


@cache
def _cue_pattern_set() -> PatternSet:
    """The cue patterns that have a lower-case form, searched together in lower-case ASCII."""
    return PatternSet([form.pattern if form else None for form in _lower_case_cue_patterns()])


@cache
def _caseless_cues() -> tuple[int, ...]:
    """The cue patterns without a lower-case form: searched case-insensitively as written."""
    return tuple(n for n, form in enumerate(_lower_case_cue_patterns()) if form is None)


@cache
def _slur_lexicon() -> Lexicon:
    return Lexicon(load_lexicon("hate_slurs.txt"))


# Heads that read a word model's verdict as one more cue ("<slug>:words", see WordModel).
WORD_CUE_SLUGS: tuple[str, ...] = ("hate",)
WORDS_PATH = MODELS_DIR / "learned-words.npz"


def _cue_names() -> tuple[str, ...]:
    return (
        tuple(f"hate:{name}" for name in SLUR_CUES)
        + tuple(n for _, n, _ in _cue_patterns())
        + tuple(f"{slug}:words" for slug in WORD_CUE_SLUGS)
    )


CUE_NAMES: tuple[str, ...] = _cue_names()


def cue_group(name: str) -> str:
    return name.split(":", 1)[0]


def _word_at(text: str, start: int, end: int) -> str:
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    while end < len(text) and text[end].isalpha():
        end += 1
    return text[start:end]


def cue_vector(
    text: str, skeleton_of_text: Skeleton | None = None, *, with_words: bool = True
) -> np.ndarray:
    """Inputs that a sentence embedding blurs but that mark some rules: slurs (matched on the
    disguise-stripped skeleton, like profanity), links and channel-plugging formulas, and the
    word model's verdict (``with_words=False`` leaves it 0: training fills it out of fold).
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
    _set_pattern_cues(values, text, skel.text)
    if with_words and WORD_CUE_SLUGS:
        model = load_word_model()
        if model is not None:
            first = len(CUE_NAMES) - len(WORD_CUE_SLUGS)
            values[first:] = word_cue(model.logits(word_features(skel.text)))
    return values


def _set_pattern_cues(values: np.ndarray, text: str, skeleton_text: str) -> None:
    """Set the cues of lexicons/cues.txt that match the skeleton or the text as written.
    The same answers as ``pattern.search(skeleton_text) or pattern.search(text)`` for each
    pattern, cheaper: each text is searched lower-cased, as ASCII (its characters of other
    scripts replaced by their stand-ins, pattern_set.ascii_stand_in), by one pattern set;
    a text whose lower case is the skeleton's is searched once."""
    pattern_set = _cue_pattern_set()
    patterns = _cue_patterns()
    targets = [skeleton_text]
    same_text = text == skeleton_text or (
        text.isascii() and skeleton_text.isascii() and text.lower() == skeleton_text.lower()
    )
    if not same_text:  # (the same to every case-insensitive pattern)
        targets.append(text)
    found: set[int] = set()
    searched: list[str] = []  # the ASCII forms the set has read
    for target in targets:
        ascii_form = ascii_stand_in(target, other_scripts=pattern_set.takes_stand_ins)
        if ascii_form is None:
            unsure: Iterable[int] = range(len(patterns))
        else:
            if ascii_form not in searched:
                found |= pattern_set.matching(ascii_form, skip=found)
                searched.append(ascii_form)
            unsure = _caseless_cues()
        found.update(n for n in unsure if n not in found and patterns[n][2].search(target))
    for number in found:
        values[len(SLUR_CUES) + number] = 1.0


# -- word model ------------------------------------------------------------------------------
# A sentence embedding blurs the words that decide hate in the public data (which slur, which
# group noun beside which insult); a linear model over word unigrams and bigrams keeps them.
# Its logit enters the hate head as one cue, so the head's regression weighs it against the
# embedding; in training the cue's values come out of fold (training/heads.py), so the head
# does not learn to trust a model that has seen the very row. The cue is signed: words that
# mark "offensive, not hate" lower the score, which ranks better than passing only positive
# evidence (davidson test ROC-AUC 0.882 against 0.866; models/README.md). A cascade that asks
# whether the cues raise a head (``cue_weights @ cues > 0``) still settles the others.
_WORD_NOISE = re.compile(r"(?:https?://|www\.)\S+|@\w+|&#?\w+;|\brt\b")
_WORD_REPEAT = re.compile(r"([a-z])\1{2,}")
_WORD_TOKEN = re.compile(r"[a-z][a-z']+")
WORD_CUE_SCALE = 4.0  # logit +-4 (p = 0.98 / 0.02) -> cue +-1


def word_tokens(skeleton_text: str) -> list[str]:
    """Words of a comment's skeleton: links, @mentions, entities and "rt" dropped, letters
    repeated three times or more cut to two ("niggaaaa" -> "niggaa")."""
    cleaned = _WORD_REPEAT.sub(r"\1\1", _WORD_NOISE.sub(" ", skeleton_text))
    return _WORD_TOKEN.findall(cleaned)


def word_features(skeleton_text: str) -> list[str]:
    """Unigrams and bigrams ("a b") of :func:`word_tokens`, each once."""
    tokens = word_tokens(skeleton_text)
    grams = set(tokens)
    grams.update(f"{a} {b}" for a, b in itertools.pairwise(tokens))
    return sorted(grams)


def word_cue(logits: np.ndarray) -> np.ndarray:
    return np.clip(logits, -8.0, 8.0) / WORD_CUE_SCALE


@dataclass(frozen=True, slots=True)
class WordModel:
    """Per slug of ``WORD_CUE_SLUGS``: a logistic regression on binary word features, each row
    L2-normalised over the features in the vocabulary (scikit-learn's ``normalize`` of a
    ``CountVectorizer(binary=True)`` row), applied here with a dict and numpy."""

    slugs: tuple[str, ...]
    vocabulary: dict[str, int]
    weights: np.ndarray  # (slugs, vocabulary)
    bias: np.ndarray  # (slugs,)

    def logits(self, features: list[str]) -> np.ndarray:
        found = [i for i in map(self.vocabulary.get, features) if i is not None]
        if not found:
            return self.bias.astype(np.float64)
        summed = self.weights[:, found].sum(axis=1, dtype=np.float64)
        return summed / np.sqrt(len(found)) + self.bias

    def save(self, path: Path) -> None:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(
            path,
            slugs=np.array(self.slugs),
            terms=np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8),
            weights=self.weights.astype(np.float16),
            bias=self.bias.astype(np.float32),
        )


_words_lock = threading.Lock()
_word_model: WordModel | None = None
_word_model_loaded = False


def load_word_model() -> WordModel | None:
    """The shipped word model, or None when there is none (the word cues then stay 0)."""
    global _word_model, _word_model_loaded
    if not _word_model_loaded:
        with _words_lock:
            if not _word_model_loaded:
                if WORDS_PATH.exists():
                    with np.load(WORDS_PATH) as data:
                        terms = bytes(data["terms"]).decode("utf-8").split("\n")
                        _word_model = WordModel(
                            slugs=tuple(str(s) for s in data["slugs"]),
                            vocabulary={term: i for i, term in enumerate(terms)},
                            weights=data["weights"].astype(np.float32),
                            bias=data["bias"].astype(np.float64),
                        )
                _word_model_loaded = True
    return _word_model


def reset_word_model() -> None:
    """Forget the loaded word model (training writes a new one)."""
    global _word_model, _word_model_loaded
    with _words_lock:
        _word_model, _word_model_loaded = None, False


@dataclass(frozen=True, slots=True)
class Heads:
    slugs: tuple[str, ...]
    full_weights: np.ndarray  # (heads, 384)
    full_bias: np.ndarray
    full_knots: np.ndarray  # (heads, 2): raw queue and reject points
    # Students: the static vector's estimate of each full head's embedding term
    # (full_weights @ embedding), to which the first stage adds the cue term and full_bias.
    static_weights: np.ndarray  # (heads, static dimensions)
    static_bias: np.ndarray
    # Per head, bounds of (full term - student estimate) in logits on calibration texts kept
    # out of every fit: the full logit lies in [estimate - lower, estimate + upper] for all
    # but a small share (models/README.md section 3).
    residual_upper: np.ndarray
    residual_lower: np.ndarray
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
                    unknown = set(names) - set(CUE_NAMES)
                    if unknown:
                        raise RuntimeError(
                            f"{HEADS_PATH.name} was trained on cues that lexicons/cues.txt no "
                            f"longer defines ({', '.join(sorted(unknown))}): retrain with "
                            "`civility train --only heads`"
                        )
                    slugs = tuple(str(s) for s in data["slugs"])
                    # Heads trained before a cue existed give it weight 0 (by name).
                    cue_weights = np.zeros((len(slugs), len(CUE_NAMES)), dtype=np.float32)
                    if names:
                        columns = [CUE_NAMES.index(name) for name in names]
                        cue_weights[:, columns] = data["cue_weights"].astype(np.float32)
                    _heads = Heads(
                        slugs=slugs,
                        full_weights=data["full_weights"].astype(np.float32),
                        full_bias=data["full_bias"].astype(np.float32),
                        full_knots=data["full_knots"].astype(np.float64),
                        static_weights=data["static_weights"].astype(np.float32),
                        static_bias=data["static_bias"].astype(np.float32),
                        # Heads trained before the residual bounds: nothing is settled.
                        residual_upper=_optional(data, "residual_upper", len(slugs)),
                        residual_lower=_optional(data, "residual_lower", len(slugs)),
                        cue_weights=cue_weights,
                    )
    return _heads


def _optional(data: Any, key: str, count: int) -> np.ndarray:
    if key in data:
        return np.asarray(data[key], dtype=np.float64)
    return np.full(count, np.inf)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))), dtype=np.float64)


# What calibration maps 0, a head's raw queue point, its raw reject point and 1 to.
CALIBRATED_VALUES = (0.0, 0.5, 0.9, 1.0)


def calibrate(raw: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Piecewise-linear map: raw queue point -> 0.5, raw reject point -> 0.9 (per head)."""
    out = np.empty_like(raw)
    for i, value in enumerate(raw):
        queue, reject = float(knots[i, 0]), float(knots[i, 1])
        out[i] = np.interp(value, [0.0, queue, reject, 1.0], CALIBRATED_VALUES)
    return out


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    pattern: re.Pattern[str]
    weight: float
    source: str
    # A phrase that is a violation when told with relish is news when a court or an inspector
    # tells it: where this pattern occurs anywhere in the comment, the entry does not hit.
    unless: re.Pattern[str] | None = None


@cache
def lexicon(slug: str) -> tuple[LexiconEntry, ...]:
    """Entries of lexicons/<slug>.txt: ``weight<TAB>regex`` lines, optionally followed by
    ``<TAB>unless<TAB>regex`` (see :class:`LexiconEntry`); '#' starts a comment."""
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
        expression, _, unless = expression.partition("\tunless\t")
        entries.append(
            LexiconEntry(
                pattern=re.compile(expression.strip(), re.IGNORECASE),
                weight=float(weight_text),
                source=expression.strip(),
                unless=re.compile(unless.strip(), re.IGNORECASE) if unless.strip() else None,
            )
        )
    return tuple(entries)


def lexicon_hits(slug: str, text: str) -> list[tuple[int, int, float]]:
    hits: list[tuple[int, int, float]] = []
    for entry in lexicon(slug):
        if entry.unless is not None and entry.unless.search(text):
            continue
        for match in entry.pattern.finditer(text):
            if match.end() > match.start():
                hits.append((match.start(), match.end(), entry.weight))
    return hits


# A language guess by lingua on a short Latin-script text is too unsure to take the learned
# rules away: on the youtube_spam and davidson test parts, 149 of 4,935 tweets and 10 of 395
# YouTube comments ("Waka waka !!!", "plz subscribe me frndz") were called de/es/it/nb/id with
# confidences of 0.1-0.6, and a rule that answers "not available" scores 0, which ranks a
# spam or hate comment below every clean one. Such a text is judged by the English model; a
# confident guess (script, function words, or lingua on a longer text) still makes the rules
# unavailable, so a Russian or a long Spanish comment is queued, never judged by English heads.
UNSURE_GUESS_MAX_LETTERS = 40
UNSURE_GUESS_MAX_CONFIDENCE = 0.5
MODEL_SCRIPT_MIN_SHARE = 0.8  # share of letters in the model's script (ASCII Latin)


def _learned_available(analysis: Analysis) -> bool:
    code = analysis.language
    if not code or code in MODEL_LANGUAGES:
        return True
    guess = guess_of(analysis)
    if guess is None or guess.method != "lingua" or guess.code != code:
        return False  # declared by the caller, or decided by script / function words
    if (
        guess.letters >= UNSURE_GUESS_MAX_LETTERS
        and guess.confidence >= UNSURE_GUESS_MAX_CONFIDENCE
    ):
        return False
    return _model_script_share(analysis.comment.text) >= MODEL_SCRIPT_MIN_SHARE


def _model_script_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if ch.isascii()) / len(letters)
