"""Detectors: one module per family of rules. See :class:`Detector`."""

from __future__ import annotations

from collections.abc import Sequence
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

    The engine calls the ``*_many`` forms with a whole batch; override them when batching pays
    (a learned head is one matrix product for the batch instead of one per comment). Each
    ``contexts[i]`` belongs to ``analyses[i]``: it shows the recent comments that comment may
    see (in a stream, the ones read before it).

    A finding with ``available=False`` says the rule cannot judge this comment (for example
    its language); the engine then holds the comment for a moderator instead of deciding.
    """

    slugs: ClassVar[tuple[str, ...]] = ()
    uses_embedding: ClassVar[bool] = False

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def screen(self, analysis: Analysis, context: Context) -> dict[str, Finding] | None:
        return None

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        raise NotImplementedError

    def screen_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding] | None]:
        return [self.screen(a, c) for a, c in zip(analyses, contexts, strict=True)]

    def detect_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding]]:
        return [self.detect(a, c) for a, c in zip(analyses, contexts, strict=True)]
