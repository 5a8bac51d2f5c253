"""Detectors: one module per family of rules. See :class:`Detector`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from civility.standards.analysis import Analysis
from civility.standards.policy import Policy
from civility.standards.types import Context, Finding

# A first stage that leaves a value in ``analysis.cache`` for a later cheap family (the learned
# profanity head for the profanity rule) leaves its ceiling under the same key plus this
# suffix. The engine runs the later family on the ceilings to bound its score; such a family
# must score no lower when the value it reads is higher.
CEILING_SUFFIX = ":ceiling"
# Before the first stage the engine leaves here the decision the cheap families already force
# ("publish", "queue" or "reject"): a first stage may skip work that could not change it. An
# engine that keeps scores as the full model has them (``cascade_goal="scores"``, the default)
# leaves "publish" for every comment: any rule that could reach its queue point counts.
FLOOR_CACHE_KEY = "engine:floor"


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

    :meth:`estimate_many` is the cascade's richer first stage: for every comment it may give
    first-stage scores with a ``ceiling`` (the most the second stage could score the rule),
    even when they are not low enough to settle the comment on their own. The engine then
    pays for the full embedding only where a ceiling reaches the queue point (or, with
    ``cascade_goal="decisions"``, only where it could change the decision that the cheap
    families already reached: a comment another rule rejects needs no sentence model). By
    default it is :meth:`screen_many`: a settled comment's scores are final, ``None`` defers.

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

    def estimate_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding] | None]:
        return self.screen_many(analyses, contexts)

    def detect_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding]]:
        return [self.detect(a, c) for a, c in zip(analyses, contexts, strict=True)]
