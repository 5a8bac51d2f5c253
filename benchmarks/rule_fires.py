"""How often each rule fires on ordinary news comments, whatever their labels.

    python benchmarks/rule_fires.py [--part test|train|all] [--show N] DATASET...

A rule that fires on many comments a newsroom would publish fills the moderators' queue; no
ROC-AUC on a set without that rule's labels shows it. c3_constructive_comments and
socc_constructiveness_toxicity (eval only: their licences forbid training) are news comments
under Canadian articles. Prints, per dataset, how many comments each rule fired on and the
first N texts for each rule, so that a person can judge whether they deserved it, and how
many comments any rule held (queued or removed). ``--not-toxic`` keeps only the comments that
every annotator judged not toxic (``src:toxicity_level`` 1, c3's crowd scale of 1-4): what is
held among them is a false alarm by any reading.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict

from tqdm import tqdm

from civility.standards.cli.evaluate import row_comment
from civility.standards.datasets import Part, rows
from civility.standards.engine import Engine
from civility.standards.policy import default_policy
from civility.standards.types import Comment, Decision

BATCH = 256
HELD = "(held)"


def rule_fires(
    engine: Engine, comments: list[Comment]
) -> tuple[Counter[str], dict[str, list[str]]]:
    """Per rule, how many comments it fired on, and their texts; ``fired["(held)"]`` counts
    the comments any rule held."""
    fired: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for start in tqdm(range(0, len(comments), BATCH), desc="comments", unit="batch", leave=False):
        batch = comments[start : start + BATCH]
        for comment, verdict in zip(batch, engine.check_many(batch), strict=True):
            for slug in verdict.fired:
                fired[slug] += 1
                examples[slug].append(comment.text)
            if verdict.decision is not Decision.PUBLISH:
                fired[HELD] += 1
    return fired, examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--part", default="test", choices=["test", "train", "all"])
    parser.add_argument("--show", type=int, default=0, help="texts to print per rule")
    parser.add_argument(
        "--not-toxic",
        action="store_true",
        help="only comments every annotator judged not toxic (src:toxicity_level 1)",
    )
    args = parser.parse_args()
    part: Part = args.part
    engine = Engine(default_policy())
    for name in args.datasets:
        # Under its article where the set names it (headline and description), as the web app
        # judges a comment, so that off_topic counts too.
        comments = [
            row_comment(row, number)
            for number, row in enumerate(rows(name, part), 1)
            if not args.not_toxic or row.get("labels", {}).get("src:toxicity_level") == 1
        ]
        fired, examples = rule_fires(engine, comments)
        print(f"{name} ({part}): {len(comments)} comments")
        for slug, count in fired.most_common():
            print(f"  {slug:18} {count:6}  {count / max(len(comments), 1):6.1%}")
            for text in examples[slug][: args.show]:
                print(f"      {text[:110]!r}")


if __name__ == "__main__":
    main()
