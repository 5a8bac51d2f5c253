"""Score the learned detectors on held-out data: the test part of every shared set.

Shippable sets and evaluation-only sets (NC or no licence) are both scored here; only the
test part is read, so nothing here leaks into training. Each rule is scored twice: with the
full model on every comment, and through the cascade (the static first stage settles what it
can, the full model the rest), to show the cascade costs no accuracy.

Writes models/learned-eval.json and prints a Markdown table (pasted into the data card).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from civility.standards import datasets, embedding
from civility.standards.analysis import analyse
from civility.standards.detectors.learned import PROFANITY_CACHE_KEY, LearnedDetector
from civility.standards.engine import EMPTY_CONTEXT
from civility.standards.policy import default_policy
from civility.standards.training.heads import EmbeddingCache
from civility.standards.types import Comment

EVAL_PATH = embedding.MODELS_DIR / "learned-eval.json"
# dataset -> (rules it labels, at most how many test rows to score)
EVAL_SETS: dict[str, tuple[tuple[str, ...], int]] = {
    "davidson_hate_offensive": (("hate", "profanity"), 2500),
    "youtube_spam": (("spam",), 500),
    "stormfront_hate_sentences": (("hate",), 1000),
    "implicit_hate_latent": (("hate",), 1000),
    "fox_news_comments_hate": (("hate",), 400),
    "civil_comments_toxic_spans": (("insult", "threat", "hate", "profanity"), 1000),
    "jigsaw_toxic_small": (("insult", "threat", "hate", "profanity"), 500),
    # evaluation only (licence: NC or none stated)
    "olid_offenseval2019": (("insult", "profanity"), 1000),
    "gab_hate_corpus": (("hate", "violence"), 1000),
    "twitter_suicidal_intention": (("self_harm",), 800),
    "c3_constructive_comments": (("insult",), 800),
    "datacamp_tutorial_comments_spam": (("spam",), 200),
}


@dataclass(slots=True)
class RuleScore:
    dataset: str
    rule: str
    rows: int
    positives: int
    roc_auc: float
    auprc: float
    roc_auc_cascade: float
    auprc_cascade: float
    f1_at_queue: float
    screened_share: float
    shippable: bool


def _scores(
    detector: LearnedDetector, texts: list[str], cache: EmbeddingCache
) -> tuple[list[dict[str, float]], list[dict[str, float]], list[bool]]:
    full_vectors = cache.full(texts, desc="evaluate: embeddings")
    static_vectors = embedding.embed_static(texts)
    full_scores: list[dict[str, float]] = []
    cascade_scores: list[dict[str, float]] = []
    screened: list[bool] = []
    for text, vector, static in zip(texts, full_vectors, static_vectors, strict=True):
        analysis = analyse(Comment(text=text))
        analysis.static_vector = static
        analysis.embedding = vector
        found = detector.detect(analysis, EMPTY_CONTEXT)
        full = {slug: f.score for slug, f in found.items()}
        full["profanity"] = float(analysis.cache.get(PROFANITY_CACHE_KEY, 0.0))  # type: ignore[arg-type]
        first = detector.screen(analysis, EMPTY_CONTEXT)
        if first is None:
            cascade = dict(full)
        else:
            cascade = {slug: f.score for slug, f in first.items()}
            cascade["profanity"] = float(analysis.cache.get(PROFANITY_CACHE_KEY, 0.0))  # type: ignore[arg-type]
        full_scores.append(full)
        cascade_scores.append(cascade)
        screened.append(first is not None)
    return full_scores, cascade_scores, screened


def run(
    cache: EmbeddingCache | None = None,
    progress: Callable[[str], None] = print,
    out: Path = EVAL_PATH,
    sets: dict[str, tuple[tuple[str, ...], int]] | None = None,
) -> list[RuleScore]:
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    cache = cache or EmbeddingCache()
    detector = LearnedDetector(default_policy())
    results: list[RuleScore] = []
    for name, (rules, cap) in tqdm(list((sets or EVAL_SETS).items()), desc="evaluate", unit="set"):
        try:
            rows = list(datasets.rows(name, part="test"))
        except FileNotFoundError:
            progress(f"{name}: not found, skipped")
            continue
        random.Random(5).shuffle(rows)
        rows = rows[:cap]
        texts = [row["text"] for row in rows]
        full, cascade, screened = _scores(detector, texts, cache)
        for rule in rules:
            labelled = [i for i, row in enumerate(rows) if rule in row["labels"]]
            y = np.array([int(rows[i]["labels"][rule] >= 0.5) for i in labelled])
            if len(set(y.tolist())) < 2:
                continue
            s_full = np.array([full[i].get(rule, 0.0) for i in labelled])
            s_cascade = np.array([cascade[i].get(rule, 0.0) for i in labelled])
            results.append(
                RuleScore(
                    dataset=name, rule=rule, rows=len(labelled), positives=int(y.sum()),
                    roc_auc=float(roc_auc_score(y, s_full)),
                    auprc=float(average_precision_score(y, s_full)),
                    roc_auc_cascade=float(roc_auc_score(y, s_cascade)),
                    auprc_cascade=float(average_precision_score(y, s_cascade)),
                    f1_at_queue=float(f1_score(y, s_cascade >= 0.5)),
                    screened_share=float(np.mean([screened[i] for i in labelled])),
                    shippable=name in datasets.SHIPPABLE,
                )
            )  # fmt: skip
    out.write_text(json.dumps([_row(r) for r in results], indent=1) + "\n")
    progress(markdown(results))
    return results


def _row(result: RuleScore) -> dict[str, object]:
    return {name: getattr(result, name) for name in RuleScore.__slots__}  # type: ignore[attr-defined]


def markdown(results: list[RuleScore]) -> str:
    lines = [
        "| test part of | rule | rows | pos | ROC-AUC full | AUPRC full | ROC-AUC cascade | "
        "AUPRC cascade | F1 @0.5 | settled by screen |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        mark = "" if r.shippable else " (eval only)"
        lines.append(
            f"| {r.dataset}{mark} | {r.rule} | {r.rows} | {r.positives} | {r.roc_auc:.3f} | "
            f"{r.auprc:.3f} | {r.roc_auc_cascade:.3f} | {r.auprc_cascade:.3f} | "
            f"{r.f1_at_queue:.3f} | {r.screened_share:.0%} |"
        )
    return "\n".join(lines)
