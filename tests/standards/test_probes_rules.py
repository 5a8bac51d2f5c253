"""Probe sets for the deterministic rules with no public data: flash_mob, flood, shouting.

Each set has at least 60 labelled cases, half of them hard negatives (see each case's
"note"). A case is right when the rule fires (score >= the default policy's queue threshold)
exactly when its label is 1. Each set must be at least 90% right at the default thresholds.

For the cross-comment rules a case carries its context: the comments already posted,
``minutes_ago`` before the judged comment (negative: posted after it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from civility.standards.analysis import analyse
from civility.standards.detectors import Detector
from civility.standards.detectors.crowd import FlashMobDetector, FloodDetector
from civility.standards.detectors.style import ShoutingDetector
from civility.standards.engine import InMemoryContext
from civility.standards.policy import default_policy
from civility.standards.types import Comment, RecentComment

PROBES = Path(__file__).parent / "probes"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
REQUIRED_ACCURACY = 0.9


def load(name: str) -> list[dict[str, Any]]:
    with (PROBES / f"{name}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def judge(detector: Detector, slug: str, case: dict[str, Any]) -> float:
    if "comment" in case:
        raw = case["comment"]
        comment = Comment(text=raw["text"], author_id=raw["author"], id=raw["id"], created_at=NOW)
        context = InMemoryContext(
            [
                RecentComment(
                    id=item["id"],
                    author_id=item["author"],
                    text=item["text"],
                    created_at=NOW - timedelta(minutes=item["minutes_ago"]),
                )
                for item in case["context"]
            ]
        )
    else:
        comment = Comment(text=case["text"], id=case["id"], created_at=NOW)
        context = InMemoryContext()
    return detector.detect(analyse(comment), context)[slug].score


@pytest.mark.parametrize(
    ("name", "factory"),
    [("flash_mob", FlashMobDetector), ("flood", FloodDetector), ("shouting", ShoutingDetector)],
)
def test_probe_set_accuracy(name: str, factory: type[Detector]) -> None:
    policy = default_policy()
    detector = factory(policy)
    cases = load(name)
    assert len(cases) >= 60
    positives = sum(case["label"] for case in cases)
    assert positives * 2 == len(cases), "half the cases are hard negatives"
    queue = policy.rule(name).queue
    scores = [judge(detector, name, case) for case in cases]
    wrong = [
        (case["id"], case["label"], round(score, 3), case.get("note", ""))
        for case, score in zip(cases, scores, strict=True)
        if (score >= queue) != bool(case["label"])
    ]
    accuracy = 1 - len(wrong) / len(cases)
    assert accuracy >= REQUIRED_ACCURACY, f"{name}: accuracy {accuracy:.3f}; wrong: {wrong}"
