"""The shipped first stage against the shipped full model, on a fixed sample: the probe texts
(written for the tests, none of them in any training set).

- the distilled static table tracks the full model's sentence vector;
- the students' residual bounds mostly hold: the full model's score falls between the first
  stage's lower bound and ceiling (1% of misses on the calibration texts by construction);
- the cascade (default goal, "scores") settles no comment whose full-model scores would fire
  or reject differently, and changes no decision.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from civility.standards import embedding
from civility.standards.analysis import analyse
from civility.standards.detectors.learned import LearnedDetector
from civility.standards.detectors.learned_model import LOWER_BOUNDS_CACHE_KEY
from civility.standards.engine import EMPTY_CONTEXT, Engine
from civility.standards.policy import default_policy
from civility.standards.types import Article, Comment

PROBES = Path(__file__).parent / "probes"
# Median cosine of a probe's static vector to its full vector (on the table's basis): the
# distilled table scores 0.846 here (0.852 on the calibration texts).
MEDIAN_COSINE = 0.8


def probe_comments() -> list[Comment]:
    comments = []
    for path in sorted(PROBES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            case = json.loads(line)
            if "text" not in case:
                continue  # (the cross-comment probes carry a comment and its context)
            article = case.get("article")
            comments.append(
                Comment(
                    text=case["text"],
                    id=case.get("id", ""),
                    parent_text=case.get("parent_text") or "",
                    article=Article(article.get("title", ""), article.get("lead", ""))
                    if isinstance(article, dict)
                    else None,
                )
            )
    return comments


@pytest.fixture(scope="module")
def comments() -> list[Comment]:
    return probe_comments()


def test_the_static_table_tracks_the_full_sentence_vector(comments: list[Comment]) -> None:
    with np.load(embedding.STATIC_MODEL_PATH) as data:
        basis = data["basis"].astype(np.float32)
    texts = [c.text for c in comments]
    static = embedding.embed_static(texts)
    target = embedding.embed(texts) @ basis
    cosines = (static * target).sum(axis=1) / np.maximum(
        np.linalg.norm(static, axis=1) * np.linalg.norm(target, axis=1), 1e-9
    )
    assert float(np.median(cosines)) >= MEDIAN_COSINE


def test_the_full_score_lies_within_the_first_stage_bounds(comments: list[Comment]) -> None:
    detector = LearnedDetector(default_policy())
    analyses = [analyse(c) for c in comments]
    embedding.annotate_static(analyses)
    estimates = detector.estimate_many(analyses, [EMPTY_CONTEXT] * len(analyses))
    lowers = [a.cache.get(LOWER_BOUNDS_CACHE_KEY, {}) for a in analyses]
    fulls = detector.detect_many(analyses, [EMPTY_CONTEXT] * len(analyses))
    checked = outside = 0
    for estimate, lower, full in zip(estimates, lowers, fulls, strict=True):
        if estimate is None:
            continue
        for slug, finding in estimate.items():
            if not finding.available or finding.ceiling is None:
                continue
            checked += 1
            score = full[slug].score
            if not (lower[slug] - 1e-6 <= score <= finding.ceiling + 1e-6):
                outside += 1
    assert checked > 1000
    # On the calibration texts 1% fall outside by construction (0.5% each side). The probes
    # are another kind of text (news comments written for the rules without public data):
    # 114 of 5,880 scores (1.9%) fell outside when this was written; the cascade test below
    # shows none of those misses changed what a rule decided.
    assert outside / checked <= 0.025


def test_the_cascade_changes_no_decision_and_no_fired_rule(comments: list[Comment]) -> None:
    cascade = Engine().check_many(comments)
    full = Engine(cascade=False).check_many(comments)
    assert [v.decision for v in cascade] == [v.decision for v in full]
    settled = [(c, f) for c, f in zip(cascade, full, strict=True) if c.stage == "screen"]
    assert settled, "the first stage settles some probe comments"
    assert all(c.fired == f.fired for c, f in settled)
