"""How often the sentence a learned rule marks is the one annotators marked as toxic.

    python benchmarks/sentence_evidence.py [--part test|train|all] [--show N]

civil_comments_toxic_spans gives, for each toxic comment, the character spans that annotators
found toxic. A learned rule that fires on a comment of two or more sentences marks the sentence
whose own vector its head rates highest (``LearnedDetector._model_evidence``). Counted over the
comments where some sentences are toxic and some are not (where all are, any choice is right):
how often the marked sentence overlaps an annotated span, against picking a sentence at random
(the expected share) and always the first one. Rules are those the row is labelled with
(insult, threat, hate, profanity), each one that fired.
"""

from __future__ import annotations

import argparse
from typing import Any

from tqdm import tqdm

from civility.standards.datasets import Part, rows
from civility.standards.embedding import sentence_spans
from civility.standards.engine import Engine
from civility.standards.policy import default_policy
from civility.standards.types import Comment

DATASET = "civil_comments_toxic_spans"
RULES = ("insult", "threat", "hate", "profanity")
BATCH = 256


def overlaps(span: tuple[int, int], toxic: list[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in toxic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="test", choices=["test", "train", "all"])
    parser.add_argument("--show", type=int, default=0, help="misses to print")
    args = parser.parse_args()
    part: Part = args.part
    engine = Engine(default_policy(), cascade=False)
    chosen: list[dict[str, Any]] = [
        row for row in rows(DATASET, part) if row.get("toxic_spans") and len(row["text"]) > 0
    ]
    counted = marked = hits = firsts = 0
    random_expected = 0.0
    misses: list[str] = []
    for start in tqdm(range(0, len(chosen), BATCH), desc="comments", unit="batch", leave=False):
        batch = chosen[start : start + BATCH]
        verdicts = engine.check_many([Comment(row["text"]) for row in batch])
        for row, verdict in zip(batch, verdicts, strict=True):
            text: str = row["text"]
            toxic = [(int(a), int(b)) for a, b in row["toxic_spans"]]
            sentences = sentence_spans(text)
            toxic_sentences = [overlaps(span, toxic) for span in sentences]
            if len(sentences) < 2 or all(toxic_sentences) or not any(toxic_sentences):
                continue
            for slug in RULES:
                if row["labels"].get(slug) != 1 or slug not in verdict.fired:
                    continue
                counted += 1
                spans = [
                    (e.start, e.end)
                    for e in verdict.evidence
                    if e.slug == slug and e.start is not None and e.end is not None
                    and "marked sentence" in e.explanation
                ]  # fmt: skip
                random_expected += sum(toxic_sentences) / len(sentences)
                firsts += toxic_sentences[0]
                if not spans:
                    continue
                marked += 1
                start_end = (int(spans[0][0]), int(spans[0][1]))
                if overlaps(start_end, toxic):
                    hits += 1
                elif len(misses) < args.show:
                    misses.append(f"{slug}: {text[start_end[0] : start_end[1]][:100]!r}")
    print(f"{DATASET} ({part}): {counted} fired rules on comments with toxic and clean sentences")
    if counted:
        print(f"  marked a sentence      {marked:5} ({marked / counted:.1%})")
        if marked:
            print(f"  marked sentence toxic  {hits:5} ({hits / marked:.1%} of marked)")
        print(f"  random sentence toxic  {random_expected / counted:.1%} (expected)")
        print(f"  first sentence toxic   {firsts / counted:.1%}")
    for miss in misses:
        print("  miss", miss)


if __name__ == "__main__":
    main()
