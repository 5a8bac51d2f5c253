"""Fine-tune all-MiniLM-L6-v2 on the licensed training corpus before it is exported.

Runs in the torch environment of ``export_minilm.py`` (Python 3.11; torch is never a runtime
dependency), through ``export_minilm.py --fine-tune CORPUS.jsonl``. The corpus file is written
by the Civility environment, which knows the datasets and their licences:

    civility train --dump-corpus /tmp/civility-corpus.jsonl

Recipe (models/README.md §1 gives the measurements that chose it): multi-task, one logistic
output per learned head (14 rules + profanity) on the pooled, normalised sentence vector,
binary cross-entropy over the labels each row has (a head's own labels plus the fair
negatives of ``heads.training_set``; absent labels are masked out), positives weighted up to
20x; plus ``FIDELITY_WEIGHT`` x (1 - cosine to the original model's vector of the same text),
so the sentence space the other detectors read (off_topic's similarity to the article, the
static first stage) stays close to the original. 12,000 rows (every row with a positive up
to half of them, the rest sampled from the clean rows), one epoch, batches of 32 texts of
similar length, AdamW (encoder 3e-5 with 50 warm-up steps and a linear decay; output layer
1e-3), texts cut at 96 tokens. The output layer is thrown away: the shipped heads are
refitted on the exported vectors by ``civility train``.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

ROWS = 12_000
EPOCHS = 1.0
FIDELITY_WEIGHT = 2.0
ENCODER_LEARNING_RATE = 3e-5
OUTPUT_LEARNING_RATE = 1e-3
MAX_TOKENS = 96
BATCH = 32
WARM_UP_STEPS = 50
MAX_POSITIVE_WEIGHT = 20.0
LOGIT_SCALE = 10.0  # the vector is unit length; this lets the output layer reach confident logits


def read_corpus(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """Texts, head slugs and a (rows, heads) target matrix with -1 where a label is absent."""
    with path.open(encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        slugs: list[str] = header["slugs"]
        texts: list[str] = []
        targets: list[list[float]] = []
        for line in handle:
            row = json.loads(line)
            texts.append(row["text"])
            targets.append([float(row["targets"].get(slug, -1.0)) for slug in slugs])
    return texts, slugs, np.array(targets, dtype=np.float32)


def _sample(targets: np.ndarray, rows: int, rng: np.random.Generator) -> np.ndarray:
    with_positive = np.where((targets == 1).any(axis=1))[0]
    rest = np.setdiff1d(np.arange(len(targets)), with_positive)
    half = rows // 2
    positives = (
        with_positive
        if len(with_positive) < half
        else rng.choice(with_positive, half, replace=False)
    )
    others = rng.choice(rest, min(len(rest), rows - len(positives)), replace=False)
    keep = np.concatenate([positives, others])
    rng.shuffle(keep)
    return keep


def fine_tune(
    student: torch.nn.Module,
    teacher: torch.nn.Module,
    tokenizer_path: Path,
    corpus_path: Path,
    *,
    rows: int = ROWS,
    epochs: float = EPOCHS,
) -> torch.nn.Module:
    """Fine-tune ``student`` in place (``teacher``: a frozen copy of the original) and return it."""
    import torch  # only here: the Civility environment reads corpora with this module, no torch
    from tokenizers import Tokenizer

    # torch's generator is left as the caller seeded it (export_minilm: seed 0, then both
    # encoders built), so the output layer starts where the measured run's did.
    random.seed(0)
    texts_all, slugs, targets_all = read_corpus(corpus_path)
    keep = _sample(targets_all, rows, np.random.default_rng(0))
    texts = [texts_all[i] for i in keep]
    targets = torch.from_numpy(targets_all[keep])
    positive_weight = []
    for column in targets.T:
        positives = float((column == 1).sum())
        negatives = float((column == 0).sum())
        positive_weight.append(min(MAX_POSITIVE_WEIGHT, negatives / max(positives, 1.0)))
    print(f"fine-tune: {len(texts):,} rows of {len(texts_all):,}, heads {', '.join(slugs)}")

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest text
    tokenizer.enable_truncation(MAX_TOKENS)

    def batch_ids(batch_texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        encodings = tokenizer.encode_batch(batch_texts)
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
        return ids, mask

    teacher.eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    output = torch.nn.Linear(int(student.word.weight.shape[1]), len(slugs))
    optimiser = torch.optim.AdamW(
        [
            {"params": student.parameters(), "lr": ENCODER_LEARNING_RATE},
            {"params": output.parameters(), "lr": OUTPUT_LEARNING_RATE},
        ],
        weight_decay=0.01,
    )
    by_length = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = [by_length[i : i + BATCH] for i in range(0, len(by_length), BATCH)]
    steps = int(len(batches) * epochs)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min(1.0, (step + 1) / WARM_UP_STEPS) * max(0.0, 1 - step / steps),
    )
    weights = torch.tensor(positive_weight)
    started = time.monotonic()
    student.train()
    for step in range(steps):
        # A fixed stride walks the length-sorted batches in a mixed order, each once per epoch.
        if step < len(batches):
            batch = batches[(step * 7919) % len(batches)]
        else:
            batch = batches[random.randrange(len(batches))]
        ids, mask = batch_ids([texts[i] for i in batch])
        labels = targets[batch]
        with torch.no_grad():
            original = teacher(ids, mask)
        vectors = student(ids, mask)
        logits = output(vectors) * LOGIT_SCALE
        known = (labels >= 0).float()
        losses = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, labels.clamp(min=0), pos_weight=weights, reduction="none"
        )
        task = (losses * known).sum() / known.sum().clamp(min=1)
        drift = (1 - (vectors * original).sum(dim=1)).mean()
        loss = task + FIDELITY_WEIGHT * drift
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        if step % 25 == 0 or step == steps - 1:
            print(
                f"fine-tune: step {step + 1}/{steps} task {task.item():.3f} "
                f"drift {drift.item():.4f} ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
    return student.eval()
