"""The cascade's "scores" goal with lower bounds: a comment is settled only where every rule's
first-stage range (lower bound to ceiling) lies in one band, so every rule fires and rejects
exactly as with the full model; evidently clean and evidently bad comments are both settled.

Small real detectors give the ranges a test needs (the engine under test is the real one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import ClassVar

import pytest

from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.detectors.learned_model import LOWER_BOUNDS_CACHE_KEY
from civility.standards.engine import Engine
from civility.standards.policy import Policy, RulePolicy, default_policy
from civility.standards.rules import SLUGS
from civility.standards.types import Comment, Context, Decision, Finding


class RangedSpam(Detector):
    """An embedding family: "est=0.95/0.99/0.92" gives first-stage score 0.95, ceiling 0.99
    and lower bound 0.92; its second stage scores the text's "full=" value."""

    slugs: ClassVar[tuple[str, ...]] = ("spam",)
    uses_embedding: ClassVar[bool] = True
    detected: ClassVar[list[str]] = []

    @staticmethod
    def _value(analysis: Analysis, prefix: str) -> list[float]:
        for token in analysis.tokens:
            if token.startswith(prefix):
                return [float(part) for part in token.removeprefix(prefix).split("/")]
        return [0.0, 0.0, 0.0]

    def estimate_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding] | None]:
        found: list[dict[str, Finding] | None] = []
        for analysis in analyses:
            score, ceiling, lower = self._value(analysis, "est=")
            analysis.cache[LOWER_BOUNDS_CACHE_KEY] = {"spam": lower}
            found.append({"spam": Finding(score=score, ceiling=ceiling)})
        return found

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        self.detected.append(analysis.text)
        return {"spam": Finding(score=self._value(analysis, "full=")[0])}


def policy() -> Policy:
    rules = {slug: RulePolicy(enabled=False) for slug in SLUGS}
    rules["spam"] = RulePolicy(queue=0.5, reject=0.9)
    return replace(default_policy(), rules=rules)


def engine(**kwargs: object) -> Engine:
    chosen = policy()
    return Engine(chosen, detectors=[RangedSpam(chosen)], strict=True, **kwargs)  # type: ignore[arg-type]


TEXTS = [
    "est=0.1/0.3/0.0 full=0.2 evidently clean",
    "est=0.95/0.99/0.92 full=0.97 evidently spam",
    "est=0.7/0.8/0.6 full=0.75 surely queued, surely not rejected",
    "est=0.45/0.6/0.3 full=0.55 could be queued",
    "est=0.88/0.95/0.8 full=0.93 could be rejected",
]


def test_settled_only_where_every_range_lies_in_one_band() -> None:
    RangedSpam.detected.clear()
    verdicts = engine().check_many([Comment(text) for text in TEXTS])
    assert RangedSpam.detected == TEXTS[3:]
    assert [v.stage for v in verdicts] == ["screen", "screen", "screen", "full", "full"]
    assert [v.decision for v in verdicts] == [
        Decision.PUBLISH, Decision.REJECT, Decision.QUEUE, Decision.QUEUE, Decision.REJECT,
    ]  # fmt: skip
    # Settled comments keep the first-stage score; the others get the full model's.
    assert [v.scores["spam"] for v in verdicts] == [0.1, 0.95, 0.7, 0.55, 0.93]


def test_same_rules_fire_and_reject_as_with_the_full_model() -> None:
    cascade = engine().check_many([Comment(text) for text in TEXTS])
    full = engine(cascade=False).check_many([Comment(text) for text in TEXTS])
    assert [v.decision for v in cascade] == [v.decision for v in full]
    assert [v.fired for v in cascade] == [v.fired for v in full]


def test_the_decisions_goal_settles_what_a_lower_bound_already_rejects() -> None:
    RangedSpam.detected.clear()
    texts = ["est=0.9/1.0/0.9 full=0.99 rejected by its lower bound", *TEXTS[3:4]]
    verdicts = engine(cascade_goal="decisions").check_many([Comment(t) for t in texts])
    assert RangedSpam.detected == texts[1:]
    assert verdicts[0].decision is Decision.REJECT
    assert verdicts[0].stage == "screen"


def test_a_policy_can_choose_the_cascade_goal() -> None:
    chosen = replace(policy(), extra={"cascade_goal": "decisions"})
    assert Engine(chosen, detectors=[RangedSpam(chosen)]).cascade_goal == "decisions"
    assert engine().cascade_goal == "scores"  # the default
    # An explicit argument wins over the policy.
    explicit = Engine(chosen, detectors=[RangedSpam(chosen)], cascade_goal="scores")
    assert explicit.cascade_goal == "scores"
    with pytest.raises(ValueError, match="cascade_goal"):
        Engine(replace(policy(), extra={"cascade_goal": "fastest"}), detectors=[])
