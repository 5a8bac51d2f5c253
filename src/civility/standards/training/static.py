"""Distil the static first-stage embedding from the full MiniLM model.

A comment's static vector is the weighted mean of one learned vector per WordPiece token,
normalised (``embedding._StaticModel``): a look-up and a sum, no network. The token vectors
are *learned* so that this mean predicts the full model's sentence vector ("tokenlearn"-style
distillation):

1. the full model embeds every distillation text (the train parts of the shippable sets and
   the team's seeds, minus a calibration tenth kept out: :func:`calibration_text`);
2. the targets are those 384-d vectors projected onto their top ``DIMENSIONS`` principal
   directions (uncentred, so a target's length stays about 1);
3. the starting point (and the ridge prior, which decides where a rare token stays) is each
   token run alone through the full model (``[CLS] token [SEP]``), projected the same way;
4. the table solves the ridge least-squares problem
   ``min ||A T - Y||^2 + RIDGE ||T - T0||^2``, where row i of the sparse matrix A holds text
   i's token weights divided by their sum, by conjugate gradients on the normal equations
   (all columns at once, Jacobi preconditioner).

Tokens are weighted by smooth inverse frequency (a / (a + p(token))) counted on the same
texts, so that frequent function words weigh little in a comment's mean. Output:
``models/static-minilm-128.npz`` (the file name is kept; ``vectors`` holds the table).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from civility.standards import datasets, embedding

DIMENSIONS = 256
SIF_A = 1e-3
# Pull of each token towards its lone-token vector, on the scale of A^T A (a token seen once
# in a 30-token text contributes about 1e-3 there): a token moves halfway from its prior
# after some 30 uses. Chosen on the calibration texts (median cosine to the full vector):
# 3e-4 0.785, 3e-3 0.811, 1e-2 0.842, 3e-2 0.852 (less shrinkage over-fits rare tokens).
RIDGE = 3e-2
ITERATIONS = 80
# One text in CALIBRATION_MODULO (by hash) is kept out of the distillation and of the
# students' fit: the cascade's residual bounds are measured on those texts.
CALIBRATION_MODULO = 10


# Sets in other languages teach the table their tokens, but the learned rules do not judge
# those languages: the residual bounds are measured without them.
NOT_FOR_CALIBRATION = frozenset({"langid_kaggle17"})


def distillation_texts(*, for_calibration: bool = False) -> list[str]:
    """The train parts of every shippable set and the team's seeds (unique, non-blank)."""
    from civility.standards.training.data import seed_examples, shared_rows

    names = sorted(datasets.SHIPPABLE - (NOT_FOR_CALIBRATION if for_calibration else set()))
    texts = [row["text"] for name in names for row in shared_rows(name, "train")]
    texts += [example.text for example in seed_examples("all")]
    return list(dict.fromkeys(text for text in texts if text.strip()))


def calibration_text(text: str) -> bool:
    """Whether ``text`` belongs to the calibration tenth (kept out of every fit)."""
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % CALIBRATION_MODULO == 0


def token_vectors(vocab_size: int, batch: int = 512) -> np.ndarray:
    """Every token run alone through the full model: (vocab, 384)."""
    model = embedding.full_model()
    cls_id, sep_id = 101, 102
    vectors = np.zeros((vocab_size, embedding.FULL_DIMENSIONS), dtype=np.float32)
    for start in tqdm(range(0, vocab_size, batch), desc="static: token vectors", unit="batch"):
        ids = np.arange(start, min(vocab_size, start + batch), dtype=np.int64)
        input_ids = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        mask = np.ones_like(input_ids)
        vectors[ids] = model.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
    return vectors


def static_tokenizer() -> Any:
    """The tokenizer as the static model runs it (no padding, ``STATIC_MAX_TOKENS``)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(embedding.TOKENIZER_PATH))
    tokenizer.no_padding()
    tokenizer.enable_truncation(embedding.STATIC_MAX_TOKENS)
    return tokenizer


def sif_weights(token_lists: Sequence[Sequence[int]], vocab_size: int) -> np.ndarray:
    counts: Counter[int] = Counter()
    for ids in token_lists:
        counts.update(ids)
    total = max(1, sum(counts.values()))
    frequency = np.zeros(vocab_size, dtype=np.float64)
    for token, count in counts.items():
        frequency[token] = count / total
    return (SIF_A / (SIF_A + frequency)).astype(np.float32)


def mixing_matrix(token_lists: Sequence[Sequence[int]], weights: np.ndarray) -> object:
    """Sparse (texts, vocab) matrix: row i is text i's token weights over their sum."""
    from scipy import sparse

    rows: list[int] = []
    cols: list[int] = []
    for row, ids in enumerate(token_lists):
        rows.extend([row] * len(ids))
        cols.extend(ids)
    values = weights[np.array(cols, dtype=np.int64)].astype(np.float64)
    matrix = sparse.csr_matrix(
        (values, (np.array(rows), np.array(cols))), shape=(len(token_lists), len(weights))
    )
    matrix.sum_duplicates()
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = sparse.diags(1.0 / np.maximum(sums, 1e-12))
    return (scale @ matrix).tocsr()


def solve_table(
    mixing: object,
    targets: np.ndarray,
    prior: np.ndarray,
    *,
    ridge: float = RIDGE,
    iterations: int = ITERATIONS,
    progress: Callable[[Sequence[float]], None] | None = None,
) -> np.ndarray:
    """Preconditioned conjugate gradients for (A^T A + r I) T = A^T Y + r T0, every column
    at once (each with its own step sizes)."""
    a = mixing
    at = a.T.tocsr()  # type: ignore[attr-defined]
    diagonal = np.asarray(a.multiply(a).sum(axis=0)).ravel() + ridge  # type: ignore[attr-defined]
    inverse = (1.0 / diagonal)[:, None]

    def operator(x: np.ndarray) -> np.ndarray:
        return at @ (a @ x) + ridge * x  # type: ignore[operator,no-any-return]

    x = prior.astype(np.float64).copy()
    rhs = at @ targets.astype(np.float64) + ridge * x
    residual = rhs - operator(x)
    z = inverse * residual
    direction = z.copy()
    rz = np.einsum("ij,ij->j", residual, z)
    start_norm = np.linalg.norm(residual)
    for _ in tqdm(range(iterations), desc="static: distil", unit="step"):
        product = operator(direction)
        alpha = rz / np.maximum(np.einsum("ij,ij->j", direction, product), 1e-30)
        x += direction * alpha
        residual -= product * alpha
        z = inverse * residual
        rz_next = np.einsum("ij,ij->j", residual, z)
        direction = z + direction * (rz_next / np.maximum(rz, 1e-30))
        rz = rz_next
        if progress is not None:
            progress([float(np.linalg.norm(residual) / max(start_norm, 1e-30))])
    return x.astype(np.float32)


def build(
    texts: Sequence[str],
    full_vectors: np.ndarray,
    out: Path | None = None,
    *,
    dimensions: int = DIMENSIONS,
    ridge: float = RIDGE,
    iterations: int = ITERATIONS,
    lone: np.ndarray | None = None,
) -> Path:
    """Build the static table from distillation ``texts`` and their full-model vectors
    (callers leave the calibration texts out). ``lone`` (the lone-token vectors) may be given
    to save computing them again."""
    out = out or embedding.STATIC_MODEL_PATH
    model = embedding.full_model()
    vocab_size = model.tokenizer.get_vocab_size()
    tokenizer = static_tokenizer()
    token_lists = [e.ids for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]
    keep = [i for i, ids in enumerate(token_lists) if ids]
    token_lists = [token_lists[i] for i in keep]
    vectors = np.asarray(full_vectors, dtype=np.float32)[keep]
    weights = sif_weights(token_lists, vocab_size)

    # Uncentred principal directions of the sentence vectors: the targets keep their length.
    _, _, components = np.linalg.svd(vectors, full_matrices=False)
    basis = components[:dimensions].T.astype(np.float32)  # (384, dimensions)
    targets = vectors @ basis
    if lone is None:
        lone = token_vectors(vocab_size)
    prior = lone @ basis
    mixing = mixing_matrix(token_lists, weights)
    table = solve_table(mixing, targets, prior, ridge=ridge, iterations=iterations)
    np.savez(
        out,
        vectors=table.astype(np.float16),
        weights=weights,
        mean=np.zeros(dimensions, dtype=np.float32),
        basis=basis.astype(np.float16),
    )
    embedding._static = None
    return out


def fidelity(texts: Sequence[str], full_vectors: np.ndarray) -> np.ndarray:
    """Cosine of each text's static vector to its full vector projected on the table's basis
    (the calibration texts: how well the first stage tracks the full model)."""
    with np.load(embedding.STATIC_MODEL_PATH) as data:
        basis = data["basis"].astype(np.float32)
    static = embedding.embed_static(list(texts))
    target = np.asarray(full_vectors, dtype=np.float32) @ basis
    norms = np.linalg.norm(target, axis=1) * np.linalg.norm(static, axis=1)
    return np.asarray((static * target).sum(axis=1) / np.maximum(norms, 1e-9))
