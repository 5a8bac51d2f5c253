"""Rule 12, profanity: a lexicon matched on the comment's skeleton.

The skeleton (``civility.standards.text``) already undoes homoglyphs, leetspeak, separators
and zero-width characters. This matcher adds what must not happen in the skeleton itself:
- repeated letters: ``fuuuuck`` matches ``fuck``, yet ``as`` never matches ``ass`` (a
  lexicon letter written twice must be doubled in the text too);
- inflections: ``fucking``, ``bitches``, ``asses``, but never ``assess``;
- compounds, only for stems marked ``part`` (``motherfucker``, ``bullshit``), so words
  like ``Scunthorpe``, ``cockpit``, ``class`` and ``assassin`` stay clean;
- masked letters as hints: ``f*ck``, ``sh**``, ``f***``.

The score is a noisy-OR of the weights of the hits (a second occurrence of the same word
counts for less), so one strong swear word scores about 0.9, one mild word about 0.3 and
several words more than any of them. When the learned helper put an offensive-language
probability in ``analysis.cache["learned:profanity"]``, it is combined with the lexicon.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import ClassVar

from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.policy import Policy
from civility.standards.text import Skeleton, squeeze
from civility.standards.types import Context, Evidence, Finding

SLUG = "profanity"
LEARNED_CACHE_KEY = "learned:profanity"
# Endings a whole-word entry may take; compared after runs of 3+ letters shrink to one.
_SUFFIXES = frozenset(
    {"", "s", "es", "ed", "d", "er", "ers", "ing", "in", "ings", "y", "ie", "ies", "z", "a"}
)
# Masked weight: "f**k" is a hint, a little less certain than the word itself.
_MASKED_FACTOR = 0.8
_DENY_WEIGHT = 0.9
# A word, masks inside it included ("f**k"), or a word that starts masked ("**ck"). The second
# form starts only where a run of masks starts (the look-behind): the same tokens (tested
# against the plain form), where "*" x 10,000 took the plain form 0.8 s, trying every
# position of the run.
_TOKEN = re.compile(
    r"[^\W\d_]+(?:[*#]+[^\W\d_]*)*|(?<![*#])[*#]++(?=[^\W\d_])[^\W\d_]+", re.UNICODE
)
_MASK = re.compile(r"[*#]")
# What follows a stem in compounds that start with it (fuckwit, shithead); any other ending
# makes an ordinary word ("shitake").
_COMPOUND_TAILS = frozenset(
    [
        "head",
        "heads",
        "headed",
        "face",
        "faces",
        "faced",
        "hole",
        "holes",
        "bag",
        "bags",
        "wit",
        "wits",
        "tard",
        "tards",
        "show",
        "shows",
        "storm",
        "load",
        "loads",
        "stain",
        "wad",
        "wads",
        "nut",
        "nuts",
        "stick",
        "sticks",
        "box",
        "hat",
        "hats",
        "lord",
        "lords",
        "tastic",
        "ty",
        "ter",
        "ters",
        "fest",
        "post",
        "poster",
        "bird",
        "breath",
        "brain",
        "brains",
        "fuck",
        "fucker",
        "fuckers",
        "fucking",
        "sucker",
        "suckers",
        "licker",
        "lickers",
        "kisser",
        "kissers",
        "weasel",
        "monkey",
        "talk",
        "talking",
        "face",
        "fuk",
        "less",
        "ery",
        "ness",
        "er",
        "ers",
    ]
)
_MEMO_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class Entry:
    term: str
    weight: float
    part: bool  # may occur inside a longer word
    squeezed: str
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    term: str
    weight: float
    start: int  # skeleton offsets
    end: int
    masked: bool = False


def _entry(term: str, weight: float, part: bool) -> Entry:
    squeezed, counts = squeeze(term)
    return Entry(term=term, weight=weight, part=part, squeezed=squeezed, counts=tuple(counts))


@cache
def load_lexicon(name: str = "profanity.txt") -> tuple[Entry, ...]:
    """Parse a lexicon file shipped in ``civility.standards.lexicons``."""
    text = resources.files("civility.standards.lexicons").joinpath(name).read_text("utf-8")
    entries: list[Entry] = []
    for line_number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) < 2 or not fields[0].isalpha():
            raise ValueError(f"{name}:{line_number}: expected 'TERM WEIGHT [word|part]'")
        mode = fields[2] if len(fields) > 2 else "word"
        if mode not in ("word", "part"):
            raise ValueError(f"{name}:{line_number}: mode must be 'word' or 'part'")
        entries.append(_entry(fields[0].lower(), float(fields[1]), mode == "part"))
    return tuple(entries)


def _counts_fit(entry: Entry, counts: list[int], offset: int) -> bool:
    """Each letter run must be as long as in the lexicon (``as`` is not ``ass``, ``assess``
    is not ``asses``), or three or more long (emphasis: ``fuuuck``); long entries are
    distinctive enough to forgive a missing double (``ashole``)."""
    forgiving = len(entry.term) >= 6
    for index, needed in enumerate(entry.counts):
        written = counts[offset + index]
        if written == needed or written >= 3 or (forgiving and needed == 2 and written == 1):
            continue
        return False
    return True


def _tail(letters: str, counts: list[int], start: int) -> str:
    return "".join(
        ch * (1 if n >= 3 else n) for ch, n in zip(letters[start:], counts[start:], strict=True)
    )


class Lexicon:
    """Lexicon entries indexed for matching one token at a time."""

    def __init__(self, entries: tuple[Entry, ...] | list[Entry]) -> None:
        self.by_squeezed: dict[str, list[Entry]] = {}
        self.by_length_initial: dict[tuple[int, str], list[Entry]] = {}
        parts: list[Entry] = []
        for entry in entries:
            self.by_squeezed.setdefault(entry.squeezed, []).append(entry)
            self.by_length_initial.setdefault((len(entry.term), entry.term[0]), []).append(entry)
            if entry.part:
                parts.append(entry)
        self.parts = {entry.squeezed: entry for entry in parts}
        alternatives = sorted(self.parts, key=len, reverse=True)
        self.part_pattern = (
            re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
        )
        self._memo: dict[str, list[tuple[Entry, int, int]]] = {}
        # The memo's words that hold no entry: a comment made only of them has no hit, which
        # one C-level set test tells (find_hits), where the memo walk took 20 us a comment.
        self.clean_words: set[str] = set()

    def match_word(self, word: str) -> list[tuple[Entry, int, int]]:
        """Entries found in one unmasked word, with their ``[start, end)`` in the word."""
        letters, counts = squeeze(word)
        positions = [0]
        for n in counts:
            positions.append(positions[-1] + n)
        found: list[tuple[Entry, int, int]] = []
        # Suffixes are at most four runs long, so only the last few splits can match.
        for split in range(len(letters), max(0, len(letters) - 5), -1):
            # The stem look-up first: it is one dict access and almost always empty, where
            # the suffix test builds a string (long comments of new words: half the time).
            entries = self.by_squeezed.get(letters[:split])
            if not entries or _tail(letters, counts, split) not in _SUFFIXES:
                continue
            for entry in entries:
                if _counts_fit(entry, counts, 0):
                    found.append((entry, 0, positions[split]))
            if found:
                return found
        if self.part_pattern is not None:
            for match in self.part_pattern.finditer(letters):
                entry = self.parts[match.group()]
                # A compound starts or ends with the stem (fuckwit, bullshitting); a stem in
                # the middle of a word is a coincidence ("kushite").
                tail = _tail(letters, counts, match.end())
                at_start = match.start() == 0 and (tail in _SUFFIXES or tail in _COMPOUND_TAILS)
                at_end = tail in _SUFFIXES
                if (at_start or at_end) and _counts_fit(entry, counts, match.start()):
                    found.append((entry, positions[match.start()], positions[match.end()]))
        return found

    def match_word_cached(self, word: str) -> list[tuple[Entry, int, int]]:
        """:meth:`match_word` through a bounded memo: comments reuse the same few
        thousand words, so most lookups cost one dict access."""
        found = self._memo.get(word)
        if found is None:
            found = self.match_word(word)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
                self.clean_words.clear()
            self._memo[word] = found
            if not found:
                self.clean_words.add(word)
        return found

    def match_masked(self, word: str) -> Entry | None:
        """``f*ck``, ``sh**``: the entry of the same length whose visible letters agree."""
        visible = sum(1 for ch in word if not _MASK.match(ch))
        if _MASK.match(word[0]) or visible < 1 or len(word) < 3:
            return None
        best: Entry | None = None
        for entry in self.by_length_initial.get((len(word), word[0]), ()):
            agrees = all(_MASK.match(w) or w == t for w, t in zip(word, entry.term, strict=True))
            if agrees and (best is None or entry.weight > best.weight):
                best = entry
        return best


def find_hits(skeleton: Skeleton, lexicon: Lexicon) -> list[Hit]:
    text = skeleton.text
    masks = "*" in text or "#" in text
    if (
        not masks
        and not skeleton.ambiguous
        and lexicon.clean_words.issuperset(_TOKEN.findall(text))
    ):
        return []  # every word known and clean: the walk would find nothing
    return _walk_hits(skeleton, lexicon)


def _walk_hits(skeleton: Skeleton, lexicon: Lexicon) -> list[Hit]:
    text = skeleton.text
    masks = "*" in text or "#" in text
    hits: list[Hit] = []
    memo = lexicon._memo
    for match in _TOKEN.finditer(text):
        word = match.group()
        # Most words are known and clean: one memo look-up, nothing else.
        found = memo.get(word)
        if found is not None and not found and not skeleton.ambiguous:
            continue
        begin = match.start()
        if masks and _MASK.search(word):
            entry = lexicon.match_masked(word)
            if entry is not None:
                hits.append(
                    Hit(entry.term, entry.weight * _MASKED_FACTOR, begin, match.end(), masked=True)
                )
            continue
        if found is None:
            found = lexicon.match_word_cached(word)
        if not found and skeleton.ambiguous and "i" in word:
            # "1" and "|" may have stood for "l": s1ut, |oser.
            relettered = "".join(
                "l" if ch == "i" and begin + i in skeleton.ambiguous else ch
                for i, ch in enumerate(word)
            )
            if relettered != word:
                found = lexicon.match_word(relettered)
        for entry, start, end in found:
            hits.append(Hit(entry.term, entry.weight, begin + start, begin + end))
    return hits


_DETECTOR_NUMBERS = itertools.count()


def combine(weights: list[float]) -> float:
    """Noisy-OR; the n-th occurrence of the same term counts ``0.5 ** (n-1)`` as much."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - min(max(weight, 0.0), 1.0)
    return 1.0 - remaining


class ProfanityDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = (SLUG,)
    uses_embedding: ClassVar[bool] = False

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        allowed = {squeeze(word)[0] for word in policy.allow_words}
        entries = [e for e in load_lexicon() if e.squeezed not in allowed]
        for word in policy.deny_words:
            letters = "".join(ch for ch in word.lower() if ch.isalpha())
            if letters and squeeze(letters)[0] not in allowed:
                entries.append(_entry(letters, _DENY_WEIGHT, part=False))
        self.lexicon = Lexicon(entries)
        # Per detector (its lexicon follows its policy's allow and deny lists).
        self._cache_key = f"profanity:lexicon:{next(_DETECTOR_NUMBERS)}"

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        score, found = self._lexicon_part(analysis)
        evidence = list(found)
        learned = analysis.cache.get(LEARNED_CACHE_KEY)
        if isinstance(learned, float | int):
            # The learned probability covers insults the lexicon lacks; noisy-OR keeps a
            # lexicon hit decisive and lets the model rank the comments with no hit.
            score = 1.0 - (1.0 - score) * (1.0 - min(max(float(learned), 0.0), 1.0))
            if not evidence and score >= 0.5:
                evidence.append(
                    Evidence(slug=SLUG, explanation="offensive language (learned model)")
                )
        return {SLUG: Finding(score=score, evidence=evidence)}

    def _lexicon_part(self, analysis: Analysis) -> tuple[float, tuple[Evidence, ...]]:
        """The lexicon's score and evidence, worked out once per comment: the cascade runs
        this family up to four times on a comment (without a learned value, on the first
        stage's ceiling and lower bound, and at the end), and only the learned part changes."""
        return analysis.once(self._cache_key, tuple, lambda: self._lexicon_score(analysis))

    def _lexicon_score(self, analysis: Analysis) -> tuple[float, tuple[Evidence, ...]]:
        skeleton = analysis.skeleton
        seen: dict[str, int] = {}
        weights: list[float] = []
        evidence: list[Evidence] = []
        for hit in find_hits(skeleton, self.lexicon):
            repeat = seen.get(hit.term, 0)
            seen[hit.term] = repeat + 1
            weights.append(hit.weight * 0.5**repeat)
            start, end = skeleton.span(hit.start, hit.end)
            written = analysis.text[start:end]
            disguised = written.lower() != skeleton.text[hit.start : hit.end]
            how = "masked" if hit.masked else ("disguised" if disguised else "")
            explanation = f'offensive word "{hit.term}"' + (f" ({how})" if how else "")
            evidence.append(
                Evidence(slug=SLUG, explanation=explanation, start=start, end=end, text=written)
            )
        return combine(weights), tuple(evidence)
