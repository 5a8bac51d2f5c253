"""Heads refitted on another sentence encoder's vectors, against the shipped encoder.

    python benchmarks/encoder_heads.py --model /tmp/student/student-int8.onnx [--model ...]

For each encoder (the shipped one first), every head below is fitted as ``civility train``
fits it (the heads' training corpus, its row weights and C), on the embedding alone (no cue
or word-model inputs, which do not depend on the encoder), and scored on the test parts of
the shared sets that label its rule (ROC-AUC). The sets marked "eval only" never train a
shipped model: they measure how a head generalises to sources it never saw. Vectors are kept
in the training cache (``CIVILITY_TRAIN_CACHE``), keyed by each encoder file's content.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from civility.standards import datasets, embedding
from civility.standards.training import heads

# rule -> the sets whose test parts score its head
SCORED: dict[str, tuple[str, ...]] = {
    "hate": (
        "davidson_hate_offensive",
        "stormfront_hate_sentences",
        "implicit_hate_latent",
        "fox_news_comments_hate",
        "gab_hate_corpus",
    ),
    "profanity": ("davidson_hate_offensive", "olid_offenseval2019"),
    "spam": ("youtube_spam", "datacamp_tutorial_comments_spam"),
    "insult": ("civil_comments_toxic_spans", "olid_offenseval2019", "c3_constructive_comments"),
    "threat": ("civil_comments_toxic_spans",),
    "self_harm": ("twitter_suicidal_intention",),
    "violence": ("gab_hate_corpus",),
}


def use_encoder(path: Path) -> None:
    """Make ``path`` the encoder that :mod:`embedding` (and the training cache) use."""
    embedding.FULL_MODEL_PATH = path
    embedding._full = None


def test_rows(name: str, slug: str) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for row in datasets.rows(name, "test"):
        value = row["labels"].get(slug)
        if value is None:
            continue
        texts.append(row["text"])
        labels.append(int(float(value) >= 0.5))
    return texts, np.array(labels)


def head_scores(
    corpus: heads.Corpus, vectors: np.ndarray, cache: heads.EmbeddingCache
) -> dict[tuple[str, str], float]:
    from sklearn.metrics import roc_auc_score

    found: dict[tuple[str, str], float] = {}
    for slug, names in SCORED.items():
        index, y = heads.training_set(corpus, slug)
        weights = heads.head_row_weights(corpus, slug, index, y)
        coef, bias = heads.fit_logistic(vectors[index], y, heads.head_c(slug), weights)
        for name in names:
            texts, labels = test_rows(name, slug)
            if labels.sum() == 0 or labels.sum() == len(labels):
                continue
            scores = cache.full(texts, desc=f"{name} ({slug})") @ coef + bias
            found[slug, name] = float(roc_auc_score(labels, scores))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    corpus = heads.training_corpus()
    shipped = embedding.FULL_MODEL_PATH
    columns: list[tuple[str, dict[tuple[str, str], float]]] = []
    for path in [shipped, *args.model]:
        use_encoder(path)
        cache = heads.EmbeddingCache()
        vectors = cache.full(corpus.texts, desc=f"corpus, {path.name}")
        columns.append((path.name, head_scores(corpus, vectors, cache)))
    use_encoder(shipped)
    shippable = set(heads.TRAIN_SETS)
    print("| rule | test part of | " + " | ".join(name for name, _ in columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for key in columns[0][1]:
        slug, name = key
        label = name if name in shippable else f"{name} (eval only)"
        cells = " | ".join(f"{found.get(key, float('nan')):.3f}" for _, found in columns)
        print(f"| {slug} | {label} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
