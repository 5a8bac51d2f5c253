"""Distil the static first-stage embedding from the full MiniLM model.

Every WordPiece token is run through the full model on its own (``[CLS] token [SEP]``); the
384-dimension outputs are reduced to 128 by PCA. Tokens are weighted by smooth inverse
frequency (a / (a + p(token))) counted on the shippable training texts, so that frequent
function words weigh little in a comment's mean. Output: ``models/static-minilm-128.npz``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from civility.standards import embedding

DIMENSIONS = 128
SIF_A = 1e-3


def token_vectors(vocab_size: int, batch: int = 512) -> np.ndarray:
    model = embedding.full_model()
    cls_id, sep_id = 101, 102
    vectors = np.zeros((vocab_size, embedding.FULL_DIMENSIONS), dtype=np.float32)
    for start in tqdm(range(0, vocab_size, batch), desc="static: token vectors", unit="batch"):
        ids = np.arange(start, min(vocab_size, start + batch), dtype=np.int64)
        input_ids = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        mask = np.ones_like(input_ids)
        vectors[ids] = model.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
    return vectors


def build(texts: Sequence[str], out: Path | None = None) -> Path:
    """Build the static table; ``texts`` (training comments) give token frequencies."""
    out = out or embedding.STATIC_MODEL_PATH
    model = embedding.full_model()
    vocab_size = model.tokenizer.get_vocab_size()
    counts: Counter[int] = Counter()
    for encoding in model.tokenizer.encode_batch(list(texts), add_special_tokens=False):
        counts.update(encoding.ids)
    total = max(1, sum(counts.values()))
    frequency = np.zeros(vocab_size, dtype=np.float64)
    for token, count in counts.items():
        frequency[token] = count / total
    weights = (SIF_A / (SIF_A + frequency)).astype(np.float32)

    raw = token_vectors(vocab_size)
    # PCA fitted on the tokens people actually write (weighted by use), applied to all.
    seen = frequency > 0
    centre = raw[seen].mean(axis=0) if seen.any() else raw.mean(axis=0)
    sample = raw[seen] - centre if seen.sum() > DIMENSIONS else raw - centre
    _, _, components = np.linalg.svd(sample, full_matrices=False)
    projection = components[:DIMENSIONS].T.astype(np.float32)
    vectors = ((raw - centre) @ projection).astype(np.float32)

    # The corpus mean of comment vectors: subtracted at run time so that it carries no signal.
    np.savez(
        out,
        vectors=vectors.astype(np.float16),
        weights=weights,
        mean=np.zeros(DIMENSIONS, dtype=np.float32),
    )
    embedding._static = None
    mean = _mean_of_averages(list(texts)[:20000])
    np.savez(out, vectors=vectors.astype(np.float16), weights=weights, mean=mean)
    embedding._static = None
    return out


def _mean_of_averages(texts: Sequence[str]) -> np.ndarray:
    model = embedding.static_model()
    ids_list = model.token_ids(texts)
    averages = []
    for ids in ids_list:
        if ids:
            w = model.weights[ids]
            averages.append((model.table[ids].sum(axis=0)) / max(float(w.sum()), 1e-9))
    return (
        np.mean(averages, axis=0).astype(np.float32)
        if averages
        else np.zeros(model.dimensions, dtype=np.float32)
    )
