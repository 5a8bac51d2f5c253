"""How well hate and insult rank labelled news comments above clean ones, and how many clean
news comments they queue, by length.

    python benchmarks/news_ranking.py [--datasets DIR] [--json FILE]

The shared sets' ROC-AUC mixes sources (tweets, forum sentences) whose style alone can tell
their labels apart. This view keeps to news comments, the kind Civility serves:
- positives: hate in the fox_news and civil_comments test parts; insult (personal attacks) in
  c3_constructive_comments (eval only, every row);
- negatives: the c3 and SOCC comments that every annotator judged not toxic
  (``src:toxicity_level`` 1; both sets eval only, never trained on).
It reports, per rule, the ROC-AUC of positives against those negatives, the recall where 5%
of the clean comments are flagged, and how many clean comments the rule queues at the policy's
queue point, in all and among those of 80 words or more (long comments are queued most).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

from civility.standards import datasets
from civility.standards.cli.evaluate import row_comment, rule_labels
from civility.standards.engine import Engine
from civility.standards.policy import default_policy

SLUGS = ("hate", "insult")
BATCH = 256
LONG_WORDS = 80
# Where the positives of each rule come from: (dataset, part).
POSITIVES: dict[str, tuple[tuple[str, datasets.Part], ...]] = {
    "hate": (("fox_news_comments_hate", "test"), ("civil_comments_toxic_spans", "test")),
    "insult": (("c3_constructive_comments", "all"),),
}
CLEAN_SETS = ("c3_constructive_comments", "socc_constructiveness_toxicity")


def scores(engine: Engine, rows: list[dict[str, Any]], desc: str) -> dict[str, np.ndarray]:
    found: dict[str, list[float]] = {slug: [] for slug in SLUGS}
    for start in tqdm(range(0, len(rows), BATCH), desc=desc, unit="batch", leave=False):
        batch = [row_comment(row, start + i) for i, row in enumerate(rows[start : start + BATCH])]
        for verdict in engine.check_many(batch):
            for slug in SLUGS:
                found[slug].append(verdict.scores[slug])
    return {slug: np.array(values) for slug, values in found.items()}


def news_ranking(engine: Engine, root: Path) -> dict[str, float]:
    clean_rows = [
        row
        for name in CLEAN_SETS
        for row in datasets.rows(root / name, part="all")
        if row.get("labels", {}).get("src:toxicity_level") == 1
    ]
    clean = scores(engine, clean_rows, "clean news comments")
    words = np.array([len(row["text"].split()) for row in clean_rows])
    report: dict[str, float] = {
        "clean_comments": float(len(clean_rows)),
        "clean_long": float((words >= LONG_WORDS).sum()),
    }
    for slug in SLUGS:
        positives = []
        for name, part in POSITIVES[slug]:
            rows = [r for r in datasets.rows(root / name, part=part) if rule_labels(r).get(slug)]
            positives.append(scores(engine, rows, f"{slug} in {name}")[slug])
        found = np.concatenate(positives)
        negatives = clean[slug]
        labels = np.r_[np.ones(len(found)), np.zeros(len(negatives))]
        queue = engine.policy.rule(slug).queue
        report[f"{slug}_positives"] = float(len(found))
        report[f"{slug}_roc_auc"] = float(roc_auc_score(labels, np.r_[found, negatives]))
        at_five = float(np.quantile(negatives, 0.95))
        report[f"{slug}_recall_at_5pct_clean"] = float(np.mean(found >= at_five))
        report[f"{slug}_clean_queued"] = float((negatives >= queue).sum())
        report[f"{slug}_clean_long_queued"] = float(
            ((negatives >= queue) & (words >= LONG_WORDS)).sum()
        )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=datasets.shared_root())
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    report = news_ranking(Engine(default_policy()), args.datasets)
    for key, value in report.items():
        shown = f"{value:.4f}" if not value.is_integer() else f"{int(value)}"
        print(f"{key:32} {shown}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
