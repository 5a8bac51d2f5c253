"""How often each rule fires on ordinary news comments, whatever their labels.

    python benchmarks/rule_fires.py [--part test|train|all] [--show N] DATASET...

A rule that fires on many comments a newsroom would publish fills the moderators' queue; no
ROC-AUC on a set without that rule's labels shows it. c3_constructive_comments and
socc_constructiveness_toxicity (eval only: their licences forbid training) are news comments
under Canadian articles. Prints, per dataset, how many comments each rule fired on and the
first N texts for each rule, so that a person can judge whether they deserved it.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict

from tqdm import tqdm

from civility.standards.datasets import Part, rows
from civility.standards.engine import Engine
from civility.standards.policy import default_policy
from civility.standards.types import Comment

BATCH = 256


def rule_fires(engine: Engine, texts: list[str]) -> tuple[Counter[str], dict[str, list[str]]]:
    fired: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for start in tqdm(range(0, len(texts), BATCH), desc="comments", unit="batch", leave=False):
        batch = texts[start : start + BATCH]
        for text, verdict in zip(
            batch, engine.check_many([Comment(t) for t in batch]), strict=True
        ):
            for slug in verdict.fired:
                fired[slug] += 1
                examples[slug].append(text)
    return fired, examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--part", default="test", choices=["test", "train", "all"])
    parser.add_argument("--show", type=int, default=0, help="texts to print per rule")
    args = parser.parse_args()
    part: Part = args.part
    engine = Engine(default_policy())
    for name in args.datasets:
        texts = [row["text"] for row in rows(name, part)]
        fired, examples = rule_fires(engine, texts)
        print(f"{name} ({part}): {len(texts)} comments")
        for slug, count in fired.most_common():
            print(f"  {slug:18} {count:6}  {count / max(len(texts), 1):6.1%}")
            for text in examples[slug][: args.show]:
                print(f"      {text[:110]!r}")


if __name__ == "__main__":
    main()
