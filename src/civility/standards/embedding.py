"""Sentence embeddings: a static first stage and the full MiniLM model (ONNX)."""

from __future__ import annotations

from civility.standards.analysis import Analysis


def annotate_static(analyses: list[Analysis]) -> None:
    """Set ``analysis.static_vector``. Placeholder until the shipped static model lands."""


def annotate_full(analyses: list[Analysis]) -> None:
    """Set ``analysis.embedding`` in one batch. Placeholder until the ONNX model lands."""
