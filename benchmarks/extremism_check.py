"""How the extremism rule does on 120 comments written as a check, never trained on.

    python benchmarks/extremism_check.py [--file benchmarks/checks/extremism.jsonl]

The file holds 60 violations of rule 4 (extremist ideas, calls for illegal activity) and 60
look-alikes (heated lawful politics, news about terrorism, violent idioms), written on
2 December 2026 by a helper that saw nothing of the repository and was told to avoid the
obvious words. Prints how many of each the extremism rule fires on, and how many any rule
holds. Keep it out of training and of seeds: it is a check only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from civility.standards.engine import Engine
from civility.standards.policy import default_policy
from civility.standards.types import Comment, Decision

DEFAULT_FILE = Path(__file__).parent / "checks" / "extremism.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.file.read_text("utf-8").splitlines() if line]
    verdicts = Engine(default_policy()).check_many([Comment(text=row["text"]) for row in rows])
    for label, name in ((1, "violations"), (0, "look-alikes")):
        pairs = [(r, v) for r, v in zip(rows, verdicts, strict=True) if r["label"] == label]
        fired = sum("extremism" in verdict.fired for _, verdict in pairs)
        held = sum(verdict.decision is not Decision.PUBLISH for _, verdict in pairs)
        print(
            f"{name}: extremism fired on {fired}/{len(pairs)}, held by any rule {held}/{len(pairs)}"
        )


if __name__ == "__main__":
    main()
