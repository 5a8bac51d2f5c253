"""Read the labelled JSONL datasets (../shared/datasets format) and split them reproducibly.

The split is fixed by a hash of each row's id: about 20% of every dataset is the *evaluation*
part, never used to train or tune a shipped model. Training code calls ``rows(..., part="train")``;
``civility evaluate`` and the accuracy tables use ``part="test"``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

Part = Literal["train", "test", "all"]
TEST_FRACTION_PERCENT = 20

# Sets whose licence lets Civility ship a model trained on them (MIT, Apache, CC0, CC BY, CC BY-SA).
SHIPPABLE = frozenset(
    {
        "davidson_hate_offensive",
        "jigsaw_toxic_small",
        "youtube_spam",
        "langid_kaggle17",
        "pii_presidio_synth",
        "stormfront_hate_sentences",
        "implicit_hate_latent",
        "civil_comments_toxic_spans",
        "fox_news_comments_hate",
    }
)


def shared_root() -> Path:
    """Where the shared datasets live: $CIVILITY_DATASETS, else ../shared/datasets from the repo."""
    configured = os.environ.get("CIVILITY_DATASETS")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
    return Path("../shared/datasets").resolve()


def in_test_part(row_id: str) -> bool:
    digest = hashlib.sha256(row_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < TEST_FRACTION_PERCENT


def rows(name_or_path: str | Path, part: Part = "all") -> Iterator[dict[str, Any]]:
    """Yield rows of a dataset folder name (under the shared root) or a JSONL path."""
    path = Path(name_or_path)
    if not path.exists():
        path = shared_root() / str(name_or_path) / "data.jsonl"
    elif path.is_dir():
        path = path / "data.jsonl"
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            row_id = f"{path.parent.name}:{row.get('id', line_number)}"
            if part == "all" or (part == "test") == in_test_part(row_id):
                yield row
