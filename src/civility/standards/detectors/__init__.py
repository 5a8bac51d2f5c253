"""Detectors: one module per family of rules. See :class:`Detector`."""

from __future__ import annotations

from typing import ClassVar

from civility.standards.analysis import Analysis
from civility.standards.policy import Policy
from civility.standards.types import Context, Finding


class Detector:
    """Scores one family of rules from the shared :class:`Analysis`.

    Detectors are built once per engine (load models in ``__init__`` or lazily, never per
    comment) and must be deterministic: the same input gives the same findings.

    Cheap detectors implement :meth:`detect` only. Detectors that need the full sentence
    embedding set ``uses_embedding = True`` and may implement :meth:`screen`, the first stage
    of the cascade: from ``analysis.static_vector`` and lexicons, return findings when sure, or
    ``None`` to ask for the full embedding. The engine then sets ``analysis.embedding`` (in
    batches) and calls :meth:`detect`.
    """

    slugs: ClassVar[tuple[str, ...]] = ()
    uses_embedding: ClassVar[bool] = False

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def screen(self, analysis: Analysis, context: Context) -> dict[str, Finding] | None:
        return None

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        raise NotImplementedError
