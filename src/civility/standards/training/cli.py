"""``civility train``: rebuild the shipped models from the shared datasets.

    civility train                      # every model below, in order
    civility train --only heads         # one of: static, heads, off_topic, evaluate
    civility train --datasets DIR       # datasets somewhere else than ../shared/datasets
    civility train --dump-corpus FILE   # the corpus the encoder is fine-tuned on, as JSONL

Steps (each writes under standards/models/, see models/README.md):
- ``static``: the static first-stage table, distilled from the ONNX MiniLM model (its
  students and residual bounds are fitted with the heads: rebuild ``heads`` after it);
- ``heads``: the learned heads (14 rules + the auxiliary profanity head) and their students;
- ``off_topic``: the off-topic model;
- ``evaluate``: ROC-AUC / AUPRC of the heads on the held-out test parts (a report only).

The ONNX model itself is fine-tuned and exported by ``training/export_minilm.py
--fine-tune FILE`` (the file from ``--dump-corpus``), which needs torch and therefore runs in
its own Python 3.11 environment (see that file's docstring).
Only datasets whose licence allows shipping a model (``datasets.SHIPPABLE``) are trained on;
the test part of every set is kept out of training.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

STEPS = ("static", "heads", "off_topic", "evaluate")


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--datasets", type=Path, default=None,
        help="folder of the shared datasets (default: $CIVILITY_DATASETS or ../shared/datasets)",
    )  # fmt: skip
    parser.add_argument("--only", choices=STEPS, default=None, help="rebuild one model only")
    parser.add_argument(
        "--dump-corpus", type=Path, default=None, metavar="FILE",
        help="write the heads' training corpus as JSONL for the encoder's fine-tuning "
        "(training/finetune_minilm.py) and stop",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import numpy as np

    root: Path | None = args.datasets
    if root is not None:
        if not (root.is_dir()):
            print(f"error: --datasets {root}: not a folder")
            return 2
        os.environ["CIVILITY_DATASETS"] = str(root.resolve())
    if args.dump_corpus is not None:
        from civility.standards.training.heads import dump_corpus

        count = dump_corpus(args.dump_corpus)
        print(f"wrote {count:,} rows to {args.dump_corpus}")
        return 0
    steps = (args.only,) if args.only else STEPS
    from civility.standards.training import heads

    cache = heads.EmbeddingCache()
    from civility.standards.training import static

    if "static" in steps:
        texts = [t for t in static.distillation_texts() if not static.calibration_text(t)]
        vectors = cache.full(texts, desc="static: full embeddings")
        path = static.build(texts, vectors)
        calibration = [
            t for t in static.distillation_texts(for_calibration=True) if static.calibration_text(t)
        ]
        cosines = static.fidelity(calibration, cache.full(calibration, desc="static: calibration"))
        print(
            f"static: wrote {path}; cosine to the full vector on {len(calibration):,} "
            f"calibration texts: median {np.median(cosines):.3f}, "
            f"5th percentile {np.quantile(cosines, 0.05):.3f}"
        )
    if "heads" in steps:
        corpus = heads.training_corpus()
        calibration = [
            t for t in static.distillation_texts(for_calibration=True) if static.calibration_text(t)
        ]
        heads.train_heads(corpus, cache, calibration_texts=calibration)
        print(f"heads: wrote {heads.HEADS_PATH}")
    if "off_topic" in steps:
        from civility.standards.training import topic

        topic.train(cache=cache)
    if "evaluate" in steps:
        from civility.standards.training import evaluation

        evaluation.run(cache=cache)
    return 0
