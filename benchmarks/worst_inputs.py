"""Crafted worst cases: how long one comment of 10,000 characters can keep the engine busy.

    .venv/bin/python benchmarks/worst_inputs.py [--top 12] [--length 10000]

Each input is a prefix (nothing, a street, a price, a link, a mention, a phone prefix, an
IBAN prefix, a single letter...) followed by a run of one character or pair, up to the
length: every ASCII punctuation mark, spaces, tabs, newlines, no-break and zero-width spaces,
letters, digits and pairs such as "1," or "a-". Such runs make a regular expression that can
start anywhere in the run try every position to its end (n²/2 steps); six places did, at up
to 1.6 s a comment, until 1 December 2026 (models/README.md, "Worst-case inputs"). Prints
the slowest inputs with the engine part that took longest, and writes JSON to
benchmarks/out/worst-inputs.json. A benchmark, not a test: the figures are wall clock.
"""

from __future__ import annotations

import argparse
import json
import string
import time
from pathlib import Path

from civility.standards.engine import Engine
from civility.standards.types import Comment

OUT = Path(__file__).resolve().parent / "out"
PREFIXES = (
    "", "12 Main ", "$", "1 ", "a ", "http://x.com/", "www.", "@", "you ", "#", "+44 ",
    "DE89 ", "f",
)  # fmt: skip
RUNS = (
    *string.punctuation, " ", "\t", "\n", "\u00a0", "a", "1", "a1", "1,", "a-", "a.", ". ",
    "a ", "1 ", "A", "AB ", "\u200b", "a\u200b",
)  # fmt: skip


def crafted(length: int) -> list[str]:
    return [
        (prefix + run * (length // len(run) + 1))[:length] for prefix in PREFIXES for run in RUNS
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--length", type=int, default=10_000)
    args = parser.parse_args(argv)
    engine = Engine()
    engine.check(Comment("A warm-up comment about the council and the bridge."))
    rows = []
    for text in crafted(args.length):
        engine.timings = {}
        started = time.perf_counter()
        engine.check(Comment(text))
        elapsed = time.perf_counter() - started
        part, seconds = max(engine.timings.items(), key=lambda item: item[1])
        rows.append(
            {"ms": round(elapsed * 1000, 1), "start": text[:16], "part": part,
             "part_ms": round(seconds * 1000, 1)}
        )  # fmt: skip
    rows.sort(key=lambda row: -row["ms"])
    print(f"{len(rows)} crafted comments of {args.length:,} characters; the slowest:")
    for row in rows[: args.top]:
        print(
            f"{row['ms']:9.1f} ms  {row['start']!r:24}  longest part {row['part']} {row['part_ms']} ms"
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "worst-inputs.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
