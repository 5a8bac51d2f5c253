"""`civility evaluate` and its numpy metrics."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from civility.standards.cli import evaluate as evaluate_cli
from civility.standards.cli.metrics import (
    average_precision,
    confusion,
    precision_recall_curve,
    roc_auc,
    span_scores,
)
from civility.standards.datasets import shared_root
from civility.standards.engine import Engine

TIMEOUT = 300


def brute_force_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    pairs = [
        1.0 if p > n else 0.5 if p == n else 0.0
        for p, n in itertools.product(scores[labels], scores[~labels])
    ]
    return float(np.mean(pairs))


class TestMetrics:
    def test_roc_auc_matches_the_pairwise_definition_with_ties(self) -> None:
        rng = np.random.default_rng(7)
        for _ in range(20):
            labels = rng.random(60) < 0.3
            scores = np.round(rng.random(60), 1)  # many ties
            if labels.all() or not labels.any():
                continue
            assert roc_auc(labels, scores) == pytest.approx(brute_force_auc(labels, scores))

    def test_roc_auc_extremes_and_undefined(self) -> None:
        labels = np.array([True, True, False, False])
        assert roc_auc(labels, np.array([0.9, 0.8, 0.2, 0.1])) == 1.0
        assert roc_auc(labels, np.array([0.1, 0.2, 0.8, 0.9])) == 0.0
        assert roc_auc(labels, np.zeros(4)) == 0.5
        assert roc_auc(np.array([True, True]), np.array([0.1, 0.2])) is None

    def test_average_precision_by_hand(self) -> None:
        labels = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=bool)
        scores = np.array([0.9, 0.8, 0.7, 0.7, 0.3, 0.7, 0.2, 0.1])
        # thresholds .9 (P 1, R .25), .8 (P .5), .7 (P .6, R .75), .3, .2 (P 4/7, R 1), .1
        assert average_precision(labels, scores) == pytest.approx(0.25 + 0.5 * 0.6 + 0.25 * 4 / 7)
        assert average_precision(np.zeros(3, dtype=bool), np.ones(3)) is None
        precision, recall, thresholds = precision_recall_curve(labels, scores)
        assert list(thresholds) == [0.9, 0.8, 0.7, 0.3, 0.2, 0.1]
        assert recall[-1] == 1.0 and precision[0] == 1.0

    def test_confusion_at_threshold_counts_equal_scores_as_positive(self) -> None:
        labels = np.array([True, False, True, False])
        result = confusion(labels, np.array([0.5, 0.5, 0.49, 0.1]), 0.5)
        assert (result.tp, result.fp, result.fn, result.tn) == (1, 1, 1, 1)
        assert result.f1 == pytest.approx(0.5)
        assert confusion(labels, np.zeros(4), 0.5).precision is None

    def test_span_scores(self) -> None:
        result = span_scores([[(0, 4), (10, 14)], []], [[(0, 4), (20, 22)], [(1, 2)]])
        assert result["char_precision"] == pytest.approx(4 / 7)
        assert result["char_recall"] == pytest.approx(4 / 8)
        assert result["span_precision"] == pytest.approx(1 / 3)
        assert result["span_recall"] == pytest.approx(1 / 2)


def row(i: int, text: str, **labels: Any) -> dict[str, Any]:
    return {"id": f"r{i}", "text": text, "labels": labels, "source": "test"}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    rows = [
        row(1, "What a fucking disgrace this shit is", profanity=1, **{"topic:drugs": 1}),
        row(2, "A calm and thoughtful comment about roads.", profanity=0, **{"src:score": 0.1}),
        row(3, "Have you seen the damn mess, bastards", profanity=0.67),  # fractional: positive
        row(4, "The weather is nice today.", profanity=0.2),  # fractional: negative
        row(5, "Email me at jane.doe@example.com please", privacy=1),  # profanity absent
        row(6, "Nothing personal here.", privacy=0),
        row(7, "x" * 10_001, profanity=1),  # over max_length: skipped and counted
        {"id": "r8", "text": "no labels at all", "source": "test"},
    ]
    rows[4]["spans"] = [
        {"type": "EMAIL_ADDRESS", "start": 12, "end": 32},
        {"type": "PERSON", "start": 0, "end": 2},
    ]
    rows[5]["spans"] = []
    path = tmp_path / "mini" / "data.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_absent_labels_are_skipped_never_counted_as_negative(dataset: Path) -> None:
    report = evaluate_cli.evaluate(Engine(strict=True), [dataset], part="all")
    profanity = report["per_dataset"]["mini"]["profanity"]
    assert profanity["n"] == 4  # rows 1-4; row 5/6 have no profanity label, row 7 too long
    assert profanity["positives"] == 2  # 1 and 0.67
    assert report["rules"]["privacy"]["n"] == 2
    assert set(report["rules"]) == {"profanity", "privacy"}  # topic:* / src:* are not rules
    assert report["datasets"]["mini"] == {"rows": 8, "too_long": 1, "unlabelled": 1}
    assert report["privacy_spans"]["gold_spans"] == 1  # PERSON is not a privacy span
    counts = profanity["at_queue"]
    assert counts["tp"] + counts["fp"] + counts["fn"] + counts["tn"] == 4


def test_cli_writes_markdown_json_and_png(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "civility.cli", "evaluate", str(dataset.parent), "--part", "all", "--out", str(out)],
        capture_output=True, timeout=TIMEOUT, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads((out / "report.json").read_text())
    assert data["part"] == "all" and data["cascade"] is True
    assert {"roc_auc", "auprc", "f1", "at_queue", "at_reject"} <= set(data["rules"]["profanity"])
    markdown = (out / "report.md").read_text()
    assert "| profanity |" in markdown and "ROC-AUC" in markdown
    png = out / "pr_profanity.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "profanity" in result.stdout.decode()


def test_cli_no_cascade_and_jsonl_path(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "nc"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "civility.cli", "evaluate", str(dataset), "--part", "all", "--no-cascade", "--out", str(out)],
        capture_output=True, timeout=TIMEOUT, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads((out / "report.json").read_text())["cascade"] is False


def test_cli_compare_cascade_reports_both(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "both"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "civility.cli", "evaluate", str(dataset), "--part", "all", "--compare-cascade", "--out", str(out)],
        capture_output=True, timeout=TIMEOUT, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads((out / "report.json").read_text())
    assert set(data["cascade_comparison"]["rules"]["profanity"]["roc_auc"]) == {"cascade", "full"}
    assert "Cascade against the full model" in (out / "report.md").read_text()


def test_unknown_dataset_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "civility.cli", "evaluate", "no_such_dataset", "--out", str(tmp_path)],
        capture_output=True, timeout=TIMEOUT, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert b"no_such_dataset" in result.stderr


def test_limit_takes_a_fixed_sample() -> None:
    rows = [{"id": str(i)} for i in range(100)]
    first = evaluate_cli.sample(rows, 10, "x")
    assert len(first) == 10
    assert first == evaluate_cli.sample(rows, 10, "x")
    assert first != rows[:10]  # not just the head of the file (often sorted by label)


@pytest.mark.skipif(
    not (shared_root() / "youtube_spam" / "data.jsonl").is_file(), reason="shared datasets absent"
)
def test_shared_dataset_names_resolve_and_the_test_part_is_used() -> None:
    path = evaluate_cli.resolve("youtube_spam")
    report = evaluate_cli.evaluate(Engine(strict=True), [path], part="test", limit=40)
    assert report["rules"]["spam"]["n"] == 40
