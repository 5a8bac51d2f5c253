"""How often the sentence a learned rule marks is the one annotators marked as toxic.

    python benchmarks/sentence_evidence.py [--part test|train|all] [--show N]
    python benchmarks/sentence_evidence.py --speed [--size N] [--rounds N]

civil_comments_toxic_spans gives, for each toxic comment, the character spans that annotators
found toxic. A learned rule that fires on a comment of two or more sentences marks the sentence
whose own vector its head rates highest (``LearnedDetector._model_evidence``). Counted over the
comments where some sentences are toxic and some are not (where all are, any choice is right):
how often the marked sentence overlaps an annotated span, against picking a sentence at random
(the expected share) and always the first one. Rules are those the row is labelled with
(insult, threat, hate, profanity), each one that fired.

``--speed`` prices the sentences in one process: the engine (cascade off) judges the first N
comments of the benchmark mix with and without them, rounds interleaved, median comments/s
(without: the static stage tokenises without offsets and no sentence is placed or pooled).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from civility.standards import embedding
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


def speed(size: int, rounds: int) -> None:
    from mix import build_mix

    comments = build_mix(max(size, 1000))[:size]
    engine = Engine(default_policy(), cascade=False)
    full, static = embedding.full_model(), embedding.static_model()
    with_offsets, placed = static.encodings, full._sentence_pieces

    def without_offsets(texts: Any) -> list[Any]:
        return list(static.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False))

    def nothing_placed(texts: list[str], encodings: Any = None) -> list[list[Any]]:
        return [[] for _ in texts]

    arms: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
        "without sentences": (without_offsets, nothing_placed),
        "with sentences": (with_offsets, placed),
    }
    rates: dict[str, list[float]] = {name: [] for name in arms}
    engine.check_many(comments[:200])
    for number in range(rounds):
        for name, (encode, place) in arms.items():
            static.encodings, full._sentence_pieces = encode, place  # type: ignore[method-assign]
            full._cache.clear()
            started = time.perf_counter()
            for start in range(0, len(comments), BATCH):
                engine.check_many(comments[start : start + BATCH])
            rates[name].append(len(comments) / (time.perf_counter() - started))
            print(f"round {number + 1}: {name:18} {rates[name][-1]:7.1f} comments/s", flush=True)
    static.encodings, full._sentence_pieces = with_offsets, placed  # type: ignore[method-assign]
    base, new = (statistics.median(rates[name]) for name in arms)
    print(f"median: without {base:.1f}/s, with {new:.1f}/s, cost {1 - new / base:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="test", choices=["test", "train", "all"])
    parser.add_argument("--show", type=int, default=0, help="misses to print")
    parser.add_argument("--speed", action="store_true", help="time the engine with and without")
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.speed:
        speed(args.size, args.rounds)
        return
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
