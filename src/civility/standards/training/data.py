"""Training data: the shippable shared datasets and the team's own seed examples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civility.standards import datasets

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"


@dataclass(slots=True)
class Example:
    text: str
    labels: dict[str, float]
    source: str
    article: str = ""
    parent_text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def shared_rows(
    name: str, part: datasets.Part, root: Path | None = None
) -> Iterator[dict[str, Any]]:
    """Rows of one shared dataset; refuses sets whose licence forbids shipping a model."""
    if part != "test" and name not in datasets.SHIPPABLE:
        raise ValueError(f"{name}: its licence does not allow training a shipped model on it")
    source: str | Path = root / name if root else name
    yield from datasets.rows(source, part=part)


def seed_examples(part: datasets.Part = "all") -> list[Example]:
    """The team's own labelled seeds (seeds/*.jsonl), split by the same id hash as the rest."""
    examples: list[Example] = []
    for path in sorted(SEEDS_DIR.glob("*.jsonl")):
        for row in datasets.rows(path, part=part):
            examples.append(
                Example(
                    text=row["text"],
                    labels={k: float(v) for k, v in row["labels"].items()},
                    source=f"seeds/{path.stem}",
                    article=row.get("article", ""),
                    parent_text=row.get("parent_text", ""),
                )
            )
    return examples


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
