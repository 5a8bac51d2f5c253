"""Texts of a shared dataset's train part that the heads' corpus leaves out, one per line:
more text for ``distill_minilm.py --extra-texts`` (no labels needed).

    .venv/bin/python -m civility.standards.training.more_texts civil_comments_toxic_spans 3000 \\
        --corpus /tmp/civility-corpus.jsonl --out /tmp/civil-extra.txt

Only for sets whose licence allows training (the distilled encoder would be a shipped model).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from civility.standards import datasets
from civility.standards.training.finetune_minilm import read_corpus


def more_texts(name: str, count: int, seen: set[str], seed: int = 5) -> list[str]:
    """Up to ``count`` train-part texts of ``name`` not in ``seen``, a fixed random sample,
    each on one line."""
    texts = [row["text"] for row in datasets.rows(name, "train") if row["text"] not in seen]
    random.Random(seed).shuffle(texts)
    return [text.replace("\n", " ") for text in texts[:count]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("count", type=int)
    parser.add_argument("--corpus", type=Path, required=True, help="civility train --dump-corpus")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    lines = more_texts(args.dataset, args.count, set(read_corpus(args.corpus)[0]))
    args.out.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    print(f"wrote {len(lines):,} texts to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
