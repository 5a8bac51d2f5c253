"""The shared analysis of one comment: computed once, read by every detector."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np

from civility.standards.types import Comment

_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, case folded. Detectors with span evidence use
    ``civility.standards.text`` for offset-preserving forms instead."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch not in _INVISIBLE).casefold()


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
    cache: dict[str, object] = field(default_factory=dict)  # per-comment scratch shared by detectors

    @property
    def text(self) -> str:
        return self.comment.text


def analyse(comment: Comment) -> Analysis:
    normalised = normalise(comment.text)
    return Analysis(comment=comment, normalised=normalised, tokens=normalised.split())
