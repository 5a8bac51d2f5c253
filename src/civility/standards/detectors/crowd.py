"""Rules 16 and 17, the cross-comment rules: flash mobs and floods.

Both read ``context.recent_comments`` and ignore the comment itself (same id) and anything
created after it, so replaying a stream gives the same answers as living through it.

**flash_mob** -- near-duplicates of this comment from *different* authors within
``policy.flash_mob_window_minutes``. Each text becomes a set of character 5-gram shingles
(over the case-folded, NFKC-folded text with punctuation and spacing removed), then
a 24-hash MinHash signature, banded 8 x 3 for locality-sensitive hashing (pairs with Jaccard
similarity around 0.5 and up collide: 0.6 is found with probability 0.87, 0.8 with 0.9999). Candidates are confirmed with the exact Jaccard
similarity (``policy.extra["flash_mob_similarity"]``, default 0.6). The score rises with the
number of distinct authors in the cluster: 0.3 for two, 0.6 for three
(``policy.extra["flash_mob_min_authors"]``, default 3), 0.9 from eight. Short texts ("Thank
you!", "Great article") are what many readers write independently, so under six words the
author count needed doubles and the score stops at 0.7, and under 25 letters it never fires.

**flood** -- the author's own comments within ``policy.flood_window_minutes``: how many, and
how incoherent they are (very short, repeated, or gibberish by character statistics). Many
long, distinct comments are an active debater, not a flood; many short, repeated or
gibberish ones are. The score is ``rate * (0.45 + 0.55 * incoherence)`` (+0.1 when four or
more messages are mostly incoherent), where ``rate`` goes from 0 at two messages to 1 at
six; fifteen or more messages in the window score at least 0.6 whatever they say.

Signatures are kept per comment id in a bounded memo, so each comment is shingled and hashed
once however often it appears in other comments' windows.
"""

from __future__ import annotations

import itertools
import operator
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import numpy as np

from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.policy import Policy
from civility.standards.types import Context, Evidence, Finding, RecentComment

SHINGLE = 5
PERMUTATIONS = 24
BANDS = 8
ROWS = PERMUTATIONS // BANDS
_PRIME = (1 << 31) - 1
_BASE = 1_000_003  # Mersenne prime; a, b and the reduced hashes all stay below it
_generator = np.random.default_rng(20260601)  # fixed seed: signatures identical in every process
_A = _generator.integers(1, _PRIME, size=PERMUTATIONS, dtype=np.uint64)
_B = _generator.integers(0, _PRIME, size=PERMUTATIONS, dtype=np.uint64)
_MEMO_SIZE = 20_000
# "Thank you!", "Great article", "+1": identical because they are short, not organised.
_TINY_LETTERS = 25
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_VOWELS = frozenset("aeiouy")
_ID = operator.attrgetter("id")
_TEXT = operator.attrgetter("text")


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def compact(text: str) -> str:
    """Case-folded, NFKC-folded (fullwidth and styled letters), punctuation and spacing
    removed. (Cheaper than the full skeleton: every recent comment goes through it.)"""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _NOT_WORD.sub("", text.casefold())


def shingles(text: str) -> np.ndarray:
    """Sorted, distinct hashes of the character 5-grams of :func:`compact` (vectorised
    polynomial hashing; deterministic in every process)."""
    squeezed = compact(text)
    if not squeezed:
        return np.zeros(0, dtype=np.uint64)
    codes = _codes(squeezed)
    return _sorted_distinct(_window_hashes(codes, min(SHINGLE, len(codes))))


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` for a 1-d integer array, by a sort and a neighbour test: numpy
    2.5's ``unique`` hashes first and took 3.2 ms on 30,000 keys where this takes 0.15 ms
    (the fingerprints of a 256-comment batch spent a quarter of their time there)."""
    ordered = np.sort(values)
    if ordered.size < 2:
        return ordered
    first = np.empty(ordered.size, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    distinct: np.ndarray = ordered[first]
    return distinct


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _window_hashes(codes: np.ndarray, width: int) -> np.ndarray:
    """The polynomial hash (mod PRIME) of every run of ``width`` consecutive codes."""
    count = len(codes) - width + 1
    hashes = np.zeros(count, dtype=np.uint64)
    for offset in range(width):
        hashes = (hashes * np.uint64(_BASE) + codes[offset : offset + count]) % np.uint64(_PRIME)
    return hashes


def _permuted(shingle_hashes: np.ndarray) -> np.ndarray:
    """(PERMUTATIONS, shingles): each hash under each universal hash (a*h + b) mod p, with
    a, b, h < p = 2**31 - 1, so the products stay below 2**62."""
    products: np.ndarray = (_A[:, None] * shingle_hashes[None, :] + _B[:, None]) % np.uint64(_PRIME)
    return products


def minhash(shingle_hashes: np.ndarray) -> np.ndarray:
    if shingle_hashes.size == 0:
        return np.zeros(PERMUTATIONS, dtype=np.uint64)
    signature: np.ndarray = _permuted(shingle_hashes).min(axis=1)
    return signature


def jaccard(left: np.ndarray, right: np.ndarray) -> float:
    if left.size == 0 or right.size == 0:
        return 0.0
    common = np.intersect1d(left, right, assume_unique=True).size
    return common / (left.size + right.size - common)


# A batch's shingles are hashed together in pieces of at most this many characters, so
# that the minhash products (PERMUTATIONS per shingle, 8 bytes each) stay near 40 MB.
_BATCH_CHARACTERS = 200_000


def fingerprints(texts: Sequence[str]) -> list[Fingerprint]:
    """:func:`fingerprint` of every text, the same values, with the numpy work done once per
    piece of the batch rather than once per text (a comment's own hashing is otherwise a
    fixed 20-odd small numpy calls: about 0.09 ms of the 0.3 ms flash_mob spends on it)."""
    squeezed = [compact(text) for text in texts]
    found: list[Fingerprint | None] = [None] * len(texts)
    piece: list[int] = []
    size = 0
    for index, letters in enumerate(squeezed):
        if len(letters) < SHINGLE:
            found[index] = fingerprint(texts[index])  # none or one short shingle: rare
            continue
        piece.append(index)
        size += len(letters)
        if size >= _BATCH_CHARACTERS:
            _fingerprint_piece(piece, texts, squeezed, found)
            piece, size = [], 0
    if piece:
        _fingerprint_piece(piece, texts, squeezed, found)
    return [f for f in found if f is not None]


def _fingerprint_piece(
    piece: list[int],
    texts: Sequence[str],
    squeezed: list[str],
    found: list[Fingerprint | None],
) -> None:
    """Fingerprints of the texts at ``piece`` (each at least SHINGLE letters long): the
    rolling hash over their codes laid end to end, keeping only windows inside one text;
    one sort of (text, hash) keys for the distinct sorted hashes of each; one product and a
    segmented minimum for the signatures."""
    lengths = np.array([len(squeezed[i]) for i in piece], dtype=np.int64)
    hashes = _window_hashes(_codes("".join(squeezed[i] for i in piece)), SHINGLE)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    windows = lengths - SHINGLE + 1
    owner = np.repeat(np.arange(len(piece), dtype=np.uint64), windows)
    position = np.repeat(starts, windows) + (
        np.arange(int(windows.sum()), dtype=np.int64)
        - np.repeat(np.cumsum(windows) - windows, windows)
    )
    # Hashes are below 2**31, so (owner, hash) packs into one sortable integer.
    keys = _sorted_distinct((owner << np.uint64(31)) | hashes[position])
    owners = keys >> np.uint64(31)
    distinct = keys & np.uint64(_PRIME)
    bounds = np.searchsorted(owners, np.arange(len(piece) + 1, dtype=np.uint64))
    signatures = np.minimum.reduceat(_permuted(distinct), bounds[:-1], axis=1)
    for slot, index in enumerate(piece):
        found[index] = _fingerprint_of(
            texts[index],
            distinct[bounds[slot] : bounds[slot + 1]],  # _fingerprint_of copies it
            np.ascontiguousarray(signatures[:, slot]),
        )


@dataclass(frozen=True, slots=True, eq=False)
class Fingerprint:
    # Sorted distinct shingle hashes. Kept as uint32 (every hash is below 2**31): the memo
    # holds up to 20,000 of them, and half the bytes is about 9 MB less there.
    shingles: np.ndarray
    bands: tuple[int, ...]  # one key per LSH band: see _band_keys
    words: int


def fingerprint(text: str) -> Fingerprint:
    shingle_set = shingles(text)
    return _fingerprint_of(text, shingle_set, minhash(shingle_set))


def _band_keys(signature: np.ndarray) -> tuple[int, ...]:
    """Each band's ROWS minimum hashes (each below 2**31) and the band's number packed into
    one int: equal keys exactly when the same band of two signatures is equal, as the
    band's bytes were, at a third of the memory in the memo's inverted index."""
    values = signature.tolist()
    keys = []
    for band in range(BANDS):
        key = band
        for value in values[band * ROWS : (band + 1) * ROWS]:
            key = (key << 31) | value
        keys.append(key)
    return tuple(keys)


def _fingerprint_of(text: str, shingle_set: np.ndarray, signature: np.ndarray) -> Fingerprint:
    return Fingerprint(
        shingles=shingle_set.astype(np.uint32),
        bands=_band_keys(signature),
        words=len(text.split()),
    )


class _FingerprintMemo:
    """Fingerprints by comment id (and text, in case an id is reused with new text), with
    an inverted index from LSH bands to comments, so a query touches only its candidates."""

    def __init__(self, size: int = _MEMO_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], Fingerprint] = OrderedDict()
        # band key -> the one comment in that bucket, or a set once there are several: most
        # buckets hold one comment, and an empty set alone costs 216 bytes (20,000 comments
        # have 160,000 band keys).
        self._buckets: dict[int, tuple[str, str] | set[tuple[str, str]]] = {}
        self.texts: dict[str, str] = {}  # id -> the text last fingerprinted under it
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every fingerprint (benchmarks time each pass from a cold memo)."""
        with self._lock:
            self._items.clear()
            self._buckets.clear()
            self.texts.clear()

    def get(self, comment_id: str, text: str) -> Fingerprint:
        key = (comment_id, text)
        found = self._items.get(key)
        if found is not None:
            return found
        with self._lock:
            return self._add(key, comment_id, text)

    def _add(self, key: tuple[str, str], comment_id: str, text: str) -> Fingerprint:
        found = self._items.get(key)
        if found is None:
            found = fingerprint(text)
            self._store(key, comment_id, text, found)
        return found

    def _store(self, key: tuple[str, str], comment_id: str, text: str, found: Fingerprint) -> None:
        if key not in self._items:
            self._items[key] = found
            self.texts[comment_id] = text
            buckets = self._buckets
            for band in found.bands:
                bucket = buckets.get(band)
                if bucket is None:
                    buckets[band] = key
                elif isinstance(bucket, set):
                    bucket.add(key)
                elif bucket != key:
                    buckets[band] = {bucket, key}
            if len(self._items) > self.size:
                old_key, old = self._items.popitem(last=False)
                if self.texts.get(old_key[0]) == old_key[1]:
                    del self.texts[old_key[0]]
                for band in old.bands:
                    bucket = buckets.get(band)
                    if isinstance(bucket, set):
                        bucket.discard(old_key)
                        if len(bucket) == 1:
                            buckets[band] = next(iter(bucket))
                    elif bucket == old_key:
                        del buckets[band]

    def add_many(self, items: Sequence[tuple[str, str]]) -> None:
        """Fingerprint the (id, text) pairs not yet known, hashed as one batch."""
        missing = list(dict.fromkeys(key for key in items if key not in self._items))
        if not missing:
            return
        computed = fingerprints([text for _, text in missing])
        with self._lock:
            for (comment_id, text), found in zip(missing, computed, strict=True):
                self._store((comment_id, text), comment_id, text, found)

    def candidates(self, found: Fingerprint) -> set[tuple[str, str]]:
        """Comments sharing at least one band with ``found``."""
        keys: set[tuple[str, str]] = set()
        with self._lock:
            for band in found.bands:
                bucket = self._buckets.get(band)
                if isinstance(bucket, set):
                    keys |= bucket
                elif bucket is not None:
                    keys.add(bucket)
        return keys


# One memo for the process: fingerprints depend only on the text, and flash_mob and flood
# see the same recent comments, so each comment is shingled and hashed once for both.
SHARED_FINGERPRINTS = _FingerprintMemo()


def _is_before(candidate: RecentComment, moment: datetime) -> bool:
    try:
        return candidate.created_at <= moment
    except TypeError:  # a naive timestamp: read as UTC
        return _utc(candidate.created_at) <= moment


def _before(
    recent: Sequence[RecentComment], comment_id: str, moment: datetime
) -> list[RecentComment]:
    return [c for c in recent if c.id != comment_id and _utc(c.created_at) <= moment]


class FlashMobDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = ("flash_mob",)
    uses_embedding: ClassVar[bool] = False

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.similarity = float(policy.extra.get("flash_mob_similarity", 0.6))
        self.min_authors = int(policy.extra.get("flash_mob_min_authors", 3))
        self.window = timedelta(minutes=policy.flash_mob_window_minutes)
        self.limit = int(policy.extra.get("flash_mob_max_recent", 500))
        self.memo = SHARED_FINGERPRINTS

    def detect_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding]]:
        # The batch's own comments are fingerprinted together first (same values, a fraction
        # of the numpy calls); each comment then finds its own in the memo.
        self.memo.add_many(
            [(a.comment.id or f"text:{a.comment.text}", a.comment.text) for a in analyses]
        )
        return super().detect_many(analyses, contexts)

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        comment = analysis.comment
        moment = _utc(comment.created_at)
        own = self.memo.get(comment.id or f"text:{comment.text}", comment.text)
        if own.shingles.size == 0:
            return {"flash_mob": Finding(score=0.0)}
        recent = context.recent_comments(since=moment - self.window, limit=self.limit)
        # (map/zip over attrgetters: up to 500 recent comments per comment, and C-level loops
        # cost a third of Python-level ones.)
        ids = list(map(_ID, recent))
        # In a stream every comment was fingerprinted when it was judged, so this is
        # usually empty; after a restart, or for an edited comment, it fingerprints what is new.
        # (One list comparison tells that nothing is; the lazy walk below fingerprints in
        # order, each step seeing what the previous ones added.)
        known = self.memo.texts
        texts = list(map(_TEXT, recent))
        if list(map(known.get, ids)) != texts:
            stale = map(operator.ne, map(known.get, ids), texts)
            for missing in itertools.compress(recent, stale):
                if missing.id != comment.id:
                    self.memo.get(missing.id, missing.text)
        # (This comment's own id is never one of the others: it leaves ``present`` below.)
        candidates = [key for key in self.memo.candidates(own) if key[0] != comment.id]
        if not candidates:
            return {"flash_mob": Finding(score=0.0)}  # only this comment: one author
        present = dict(zip(ids, recent, strict=True))
        present.pop(comment.id, None)
        cluster: list[RecentComment] = []
        for other_id, other_text in candidates:
            other = present.get(other_id)
            if other is None or other.text != other_text or not _is_before(other, moment):
                continue
            if (
                jaccard(own.shingles, self.memo.get(other_id, other_text).shingles)
                >= self.similarity
            ):
                cluster.append(other)
        cluster.sort(key=lambda c: c.id)
        authors = {c.author_id or f"anonymous:{c.id}" for c in cluster}
        authors.add(comment.author_id or "anonymous:self")
        count = len(authors)
        short = own.words < 6
        tiny = len(compact(comment.text)) < _TINY_LETTERS
        needed = self.min_authors * (2 if short else 1)
        if count < 2:
            return {"flash_mob": Finding(score=0.0)}
        if count < needed or tiny:
            score = min(0.45, 0.15 * count)
        else:
            score = 1.0 - 0.4 * 0.75 ** (count - needed)
            if short:
                score = min(score, 0.7)
        evidence = [
            Evidence(
                slug="flash_mob",
                explanation=(
                    f"{len(cluster) + 1} near-identical comments from {count} authors within "
                    f"{self.policy.flash_mob_window_minutes} minutes"
                ),
                comment_ids=tuple(sorted(c.id for c in cluster)[:50]),
            )
        ]
        return {"flash_mob": Finding(score=score, evidence=evidence)}


_LETTERS_ONLY = re.compile(r"[\W\d_]+", re.UNICODE)
_LATIN_WORD = re.compile(r"[a-z]+")
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}")
_REPEATED_CHARACTER = re.compile(r"(.)\1{4,}")


def gibberish(text: str) -> float:
    """How much ``text`` looks like keyboard mashing, in [0, 1] (Latin-script heuristics;
    other scripts only by repetition)."""
    lowered = text.lower()
    letters = _LETTERS_ONLY.sub("", lowered)
    if not letters:
        return 1.0 if text.strip() else 0.0  # only symbols, digits or emoji
    score = 0.0
    if _REPEATED_CHARACTER.search(text):
        score = 0.8  # "aaaaaaa", "!!!!!!!!"
    words = _LATIN_WORD.findall(lowered)
    latin_letters = sum(map(len, words))
    if latin_letters >= 6:
        vowels = sum(map(lowered.count, "aeiouy"))
        vowel_share = vowels / latin_letters
        if vowel_share < 0.15 or vowel_share > 0.75:
            score = max(score, 0.9)
        mashed = sum(1 for word in words if _CONSONANT_RUN.search(word))
        if mashed / len(words) >= 0.3:
            score = max(score, 0.9)
    if 8 <= len(letters) <= 40 and len(set(letters)) / len(letters) < 0.25:
        score = max(score, 0.7)  # "hahahahahaha", "asdasdasdasd"
    return score


class FloodDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = ("flood",)
    uses_embedding: ClassVar[bool] = False

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.window = timedelta(minutes=policy.flood_window_minutes)
        self.memo = SHARED_FINGERPRINTS
        self._gibberish: dict[tuple[str, str] | str, float] = {}
        # The texts of two messages -> whether they are repeats. An author's
        # window moves one message at a time, so each comment of a flood would otherwise
        # compare the same pairs again (in the backlog benchmark, 19 Jaccard computations a
        # comment, a third of its flood time).
        self._alike: dict[tuple[str, str], bool] = {}

    def _repeats(self, texts: list[tuple[str, str]], prints: list[Fingerprint]) -> set[int]:
        """The messages with a repeat among the others: a message sharing an LSH band with
        it whose Jaccard similarity is at least 0.7."""
        buckets: dict[int, list[int]] = {}
        for index, found in enumerate(prints):
            for band in found.bands:
                buckets.setdefault(band, []).append(index)
        repeated: set[int] = set()
        for members in buckets.values():
            if len(members) < 2:
                continue
            for left in members:
                if left in repeated:
                    continue
                for right in members:
                    if right != left and self._repeat_pair(
                        texts[left][1], texts[right][1], prints[left], prints[right]
                    ):
                        repeated.add(left)
                        repeated.add(right)
                        break
        return repeated

    def _repeat_pair(
        self, left_text: str, right_text: str, left_print: Fingerprint, right_print: Fingerprint
    ) -> bool:
        if left_text == right_text:
            return left_print.shingles.size > 0  # Jaccard 1, or 0 for text without shingles
        # A fingerprint is a function of the text alone, and so is the answer.
        pair = (left_text, right_text) if left_text < right_text else (right_text, left_text)
        known = self._alike.get(pair)
        if known is None:
            known = jaccard(left_print.shingles, right_print.shingles) >= 0.7
            if len(self._alike) >= _MEMO_SIZE:
                self._alike.clear()
            self._alike[pair] = known
        return known

    def _incoherence(self, texts: list[tuple[str, str]]) -> list[float]:
        prints = [self.memo.get(key, text) for key, text in texts]
        repeated = self._repeats(texts, prints)
        values = []
        for index, (key, text) in enumerate(texts):
            value = self._gibberish.get(key)
            if value is None:
                value = gibberish(text)
                if len(self._gibberish) >= _MEMO_SIZE:
                    self._gibberish.clear()
                self._gibberish[key] = value
            if prints[index].words < 4:
                value = max(value, 0.6)
            if index in repeated:
                value = 1.0  # the same message again
            values.append(value)
        return values

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        comment = analysis.comment
        if not comment.author_id:
            return {"flood": Finding(score=0.0)}
        moment = _utc(comment.created_at)
        recent = _before(
            context.recent_comments(
                since=moment - self.window, author_id=comment.author_id, limit=200
            ),
            comment.id,
            moment,
        )
        recent = [c for c in recent if c.author_id == comment.author_id]
        count = len(recent) + 1
        if count < 3:
            return {"flood": Finding(score=0.0)}
        texts = [(comment.id or f"text:{comment.text}", comment.text)] + [
            (c.id, c.text) for c in recent[:49]
        ]
        values = self._incoherence(texts)
        incoherence = sum(values) / len(values)
        rate = min(1.0, (count - 2) / 4)
        score = rate * (0.45 + 0.55 * incoherence)
        if count >= 4 and incoherence >= 0.5:
            score += 0.1
        if count >= 15:
            score = max(score, 0.6)
        score = min(1.0, score)
        evidence = [
            Evidence(
                slug="flood",
                explanation=(
                    f"{count} comments by this author within {self.policy.flood_window_minutes} minutes; "
                    f"{sum(v >= 0.6 for v in values)} of them very short, repeated or gibberish"
                ),
                comment_ids=tuple(c.id for c in recent[:50]),
            )
        ]
        return {"flood": Finding(score=score, evidence=evidence)}
