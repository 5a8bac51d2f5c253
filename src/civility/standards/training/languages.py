"""Measure the learned rules on another language (docs/engine-languages.md).

    python -m civility.standards.training.languages [--rows 2000] [--engine]

- the heads' ROC-AUC on the Russian sets (ru_* in the shared datasets: CC BY-NC-SA, so
  evaluation only), with the learned rules *forced available* (the analyses carry no language,
  as in ``training/evaluation.py``), and the share of messages that reach the queue point;
- ``--engine``: the whole engine on a Russian-language site (policy languages = ru): decisions
  on Russian and English comments, and foreign_language accuracy on langid_kaggle17.

Embeddings come from the training cache (``heads.EmbeddingCache``); nothing is written into
the repository.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from typing import Any

import numpy as np

from civility.standards import datasets

ABUSE_HEADS = ("insult", "hate", "threat", "trolling", "profanity")
# (dataset, label, head): the label's meaning is in docs/engine-languages.md.
PAIRS: tuple[tuple[str, str, str], ...] = (
    ("ru_inappropriate_messages", "src:inappropriate_ge_0.5", "insult"),
    ("ru_inappropriate_messages", "src:inappropriate_ge_0.5", "hate"),
    ("ru_inappropriate_messages", "src:inappropriate_ge_0.5", "trolling"),
    ("ru_inappropriate_messages", "src:inappropriate_ge_0.5", "profanity"),
    ("ru_inappropriate_messages", "src:inappropriate_ge_0.5", "max_abuse"),
    ("ru_inappropriate_messages", "src:toxic_auto>=0.5", "insult"),
    ("ru_inappropriate_messages", "src:toxic_auto>=0.5", "hate"),
    ("ru_inappropriate_messages", "src:toxic_auto>=0.5", "profanity"),
    ("ru_inappropriate_messages", "src:toxic_auto>=0.5", "max_abuse"),
    ("ru_inappropriate_messages", "topic:narcotics", "narcotics"),
    ("ru_inappropriate_messages", "topic:self_harm", "self_harm"),
    ("ru_inappropriate_messages", "topic:hate", "hate"),
    ("ru_sensitive_topics", "topic:hate", "hate"),
    ("ru_sensitive_topics", "topic:narcotics", "narcotics"),
    ("ru_sensitive_topics", "topic:self_harm", "self_harm"),
    ("ru_sensitive_topics", "topic:extremism", "extremism"),
    ("ru_sensitive_topics", "topic:advertising_gambling", "advertising"),
)


def sample(name: str, rows: int) -> list[dict[str, Any]]:
    found = list(datasets.rows(name, part="test"))
    random.Random(5).shuffle(found)
    return found[:rows]


def _label(row: dict[str, Any], label: str) -> int | None:
    key = "src:toxic_auto" if label == "src:toxic_auto>=0.5" else label
    value = row["labels"].get(key)
    return None if value is None else int(float(value) >= 0.5)


def heads_on_russian(rows: int) -> list[str]:
    from sklearn.metrics import roc_auc_score

    from civility.standards.detectors.learned import LearnedDetector
    from civility.standards.policy import default_policy
    from civility.standards.training.evaluation import _scores
    from civility.standards.training.heads import EmbeddingCache

    cache = EmbeddingCache()
    detector = LearnedDetector(default_policy())
    lines = [
        "| set | label | head | rows | positives | ROC-AUC | scored >= 0.5 |",
        "|---|---|---|---|---|---|---|",
    ]
    scored: dict[str, tuple[list[dict[str, Any]], list[dict[str, float]]]] = {}
    for name, label, head in PAIRS:
        if name not in scored:
            found = sample(name, rows)
            full, _, _ = _scores(detector, [row["text"] for row in found], cache)
            scored[name] = (found, full)
        found, full = scored[name]
        targets: list[int] = []
        values: list[float] = []
        for row, scores in zip(found, full, strict=True):
            target = _label(row, label)
            if target is None:
                continue
            targets.append(target)
            values.append(
                max(scores[k] for k in ABUSE_HEADS) if head == "max_abuse" else scores[head]
            )
        y, s = np.array(targets), np.array(values)
        auc = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")
        lines.append(
            f"| {name} | {label} | {head} | {len(y)} | {int(y.sum())} | {auc:.3f} | "
            f"{np.mean(s >= 0.5):.1%} |"
        )
    return lines


def engine_on_russian_site(rows: int) -> list[str]:
    from civility.standards.engine import Engine
    from civility.standards.policy import default_policy
    from civility.standards.types import Comment

    engine = Engine(default_policy().with_languages(["ru"]))
    lines = []
    for name, count in (
        ("ru_inappropriate_messages", rows),
        ("ru_sensitive_topics", rows),
        ("youtube_spam", 300),
        ("davidson_hate_offensive", 300),
    ):
        found = sample(name, count)
        verdicts = engine.check_many([Comment(text=row["text"]) for row in found])
        decisions = Counter(v.decision.value for v in verdicts)
        foreign = sum("foreign_language" in v.fired for v in verdicts)
        unavailable = sum(any(not r.available for r in v.results.values()) for v in verdicts)
        lines.append(
            f"{name} on a ru site: {len(found)} rows, decisions {dict(decisions)}, "
            f"foreign_language fired {foreign}, learned rules not available {unavailable}"
        )
    langid = list(datasets.rows("langid_kaggle17", part="test"))
    verdicts = engine.check_many([Comment(text=row["text"]) for row in langid])
    right = sum(
        ("foreign_language" in v.fired) == (row["lang"] != "ru")
        for row, v in zip(langid, verdicts, strict=True)
    )
    lines.append(
        f"langid_kaggle17 test part on a ru site: foreign_language accuracy "
        f"{right / len(langid):.4f} ({len(langid)} texts)"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=2000, help="test rows per Russian set")
    parser.add_argument("--engine", action="store_true", help="also run the whole engine")
    args = parser.parse_args(argv)
    print("\n".join(heads_on_russian(args.rows)))
    if args.engine:
        print("\n".join(engine_on_russian_site(min(args.rows, 1000))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
