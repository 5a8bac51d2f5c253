"""Classification metrics in numpy (no scikit-learn at run time).

The definitions follow the usual ones: ROC-AUC is the Mann-Whitney statistic with average
ranks for ties; AUPRC is *average precision* (the step-wise area, one step per distinct
score), which unlike trapezoidal interpolation never overstates the area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Labels = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Confusion:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float | None:
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        actual = self.tp + self.fn
        return self.tp / actual if actual else None

    @property
    def f1(self) -> float | None:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None

    @property
    def accuracy(self) -> float | None:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else None

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
            "precision": self.precision, "recall": self.recall, "f1": self.f1,
            "accuracy": self.accuracy,
        }  # fmt: skip


def confusion(labels: Labels, scores: Scores, threshold: float) -> Confusion:
    predicted = scores >= threshold
    return Confusion(
        tp=int(np.sum(predicted & labels)),
        fp=int(np.sum(predicted & ~labels)),
        fn=int(np.sum(~predicted & labels)),
        tn=int(np.sum(~predicted & ~labels)),
    )


def roc_auc(labels: Labels, scores: Scores) -> float | None:
    """Area under the ROC curve; ``None`` when only one class is present."""
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return None
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    average_rank = upper - (counts - 1) / 2.0  # 1-based rank, ties share their mean rank
    ranks = average_rank[inverse]
    rank_sum = float(ranks[labels].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def precision_recall_curve(
    labels: Labels, scores: Scores
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Precision, recall and threshold at every distinct score, from the highest down."""
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_labels.size - 1]
    true_positives = np.cumsum(sorted_labels)[last_of_each].astype(np.float64)
    predicted = (last_of_each + 1).astype(np.float64)
    precision = true_positives / predicted
    total = true_positives[-1] if true_positives.size else 0.0
    recall = true_positives / total if total else np.zeros_like(true_positives)
    return precision, recall, sorted_scores[last_of_each]


def average_precision(labels: Labels, scores: Scores) -> float | None:
    """AUPRC as average precision; ``None`` without positives."""
    if labels.size == 0 or not labels.any():
        return None
    precision, recall, _ = precision_recall_curve(labels, scores)
    steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(steps * precision))


def span_scores(
    gold: list[list[tuple[int, int]]], predicted: list[list[tuple[int, int]]]
) -> dict[str, float | int | None]:
    """Character-level micro F1 over all texts, and span-level F1 where a predicted span
    counts when it overlaps a gold span (and a gold span is found when any prediction
    overlaps it)."""
    char_tp = char_fp = char_fn = 0
    matched_predictions = total_predictions = found_gold = total_gold = 0
    for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
        gold_chars = {i for start, end in gold_spans for i in range(start, end)}
        predicted_chars = {i for start, end in predicted_spans for i in range(start, end)}
        char_tp += len(gold_chars & predicted_chars)
        char_fp += len(predicted_chars - gold_chars)
        char_fn += len(gold_chars - predicted_chars)
        total_predictions += len(predicted_spans)
        total_gold += len(gold_spans)
        matched_predictions += sum(
            1 for p in predicted_spans if any(_overlap(p, g) for g in gold_spans)
        )
        found_gold += sum(1 for g in gold_spans if any(_overlap(p, g) for p in predicted_spans))
    char = Confusion(tp=char_tp, fp=char_fp, fn=char_fn, tn=0)
    span_precision = matched_predictions / total_predictions if total_predictions else None
    span_recall = found_gold / total_gold if total_gold else None
    span_f1 = (
        2 * span_precision * span_recall / (span_precision + span_recall)
        if span_precision and span_recall
        else (0.0 if total_gold or total_predictions else None)
    )
    return {
        "char_precision": char.precision,
        "char_recall": char.recall,
        "char_f1": char.f1,
        "span_precision": span_precision,
        "span_recall": span_recall,
        "span_f1_overlap": span_f1,
        "gold_spans": total_gold,
        "predicted_spans": total_predictions,
    }


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
