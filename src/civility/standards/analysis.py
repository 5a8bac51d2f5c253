"""The shared analysis of one comment: computed once, read by every detector."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from civility.standards.text import FoundUrl, Skeleton, extract_urls, skeleton
from civility.standards.types import Comment

_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, case folded. Detectors with span evidence use
    :attr:`Analysis.skeleton` (``civility.standards.text``) for offset-preserving forms."""
    if text.isascii():
        return text.lower()  # NFKC and casefold are the identity/lower() on ASCII
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch not in _INVISIBLE).casefold()


@dataclass(frozen=True, slots=True)
class Sentences:
    """A comment's sentences as the full model read them: character ranges in its text and,
    per range, the mean of the model's token vectors over it, normalised (float16: kept in
    the encoder's text cache beside the comment's vector). Only for comments of two or more
    sentences (``embedding.sentence_pieces``); the learned rules mark the sentence that reads
    most like what they found."""

    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray  # (len(spans), 384), float16


@dataclass(slots=True)
class Analysis:
    comment: Comment
    normalised: str
    tokens: list[str]
    language: str = ""
    # Cheap static embedding (first stage); always set by the engine before detectors run.
    static_vector: np.ndarray | None = None
    # Full sentence embedding (second stage); set by the engine, in batches, only when a
    # detector's screen() could not settle the comment, or when the cascade is off.
    embedding: np.ndarray | None = None
    # Its sentences, set with ``embedding`` where the comment has two or more.
    sentences: Sentences | None = None
    cache: dict[str, object] = field(
        default_factory=dict
    )  # per-comment scratch shared by detectors

    @property
    def text(self) -> str:
        return self.comment.text

    def once[T](self, key: str, kind: type[T], compute: Callable[[], T]) -> T:
        """``cache[key]`` when it holds a ``kind``; else ``compute()``, kept there: what
        several detectors, or several stages of one, read of this comment is worked out once."""
        found = self.cache.get(key)
        if isinstance(found, kind):
            return found
        value = compute()
        self.cache[key] = value
        return value

    @property
    def skeleton(self) -> Skeleton:
        """The disguise-stripped form with offsets back to ``text`` (computed once)."""
        return self.once("text:skeleton", Skeleton, lambda: skeleton(self.comment.text))

    @property
    def urls(self) -> list[FoundUrl]:
        """Links in the original text, with spans (computed once)."""
        return self.once("text:urls", list, lambda: extract_urls(self.comment.text))


def analyse(comment: Comment) -> Analysis:
    normalised = normalise(comment.text)
    analysis = Analysis(comment=comment, normalised=normalised, tokens=normalised.split())
    analysis.cache["text:skeleton"] = skeleton(comment.text)
    return analysis
