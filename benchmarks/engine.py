"""Engine benchmark: throughput, cascade vs full pass vs embedding alone, latency, peak RSS,
and alt-profanity-check as a reference, all in ONE process on the same 10,000-comment mix.

    .venv/bin/python benchmarks/engine.py [--size 10000] [--batch-size 256] [--latency 1000]

Targets (issue 3, 2 cores): >= 1,000 comments/s in batches with every rule on (cascade on);
the full pass (cascade off) <= 1.25x the embedding pass alone; one comment p50 <= 10 ms and
p99 <= 30 ms; peak RSS <= 500 MB. Prints a table and writes JSON to benchmarks/out/.

The figures are wall-clock on a shared machine: run it on an idle one, and compare ratios
(measured in the same process) rather than absolute numbers across machines. Benchmarks are
never timed test assertions.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mix import build_mix

from civility.standards import embedding
from civility.standards.analysis import analyse
from civility.standards.detectors import crowd, topic
from civility.standards.engine import CASCADE_GOALS, Engine, InMemoryContext
from civility.standards.types import Comment, Context, Decision, Verdict

OUT = Path(__file__).resolve().parent / "out"
TARGETS = {
    "throughput_cascade_per_s": (">=", 1000.0),
    "full_over_embedding_ratio": ("<=", 1.25),
    "latency_p50_ms": ("<=", 10.0),
    "latency_p99_ms": ("<=", 30.0),
    "peak_rss_mb": ("<=", 500.0),
}


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def cpu_seconds() -> float:
    """CPU time of this process, all threads: less sensitive than wall time to other
    processes sharing the cores (they delay us but do not add to our CPU time)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def forget_memos(*engines: Engine) -> None:
    """Empty the memos keyed by text or comment id, so that a timed pass does not reuse what
    an earlier pass computed: the fingerprints flash_mob and flood share (each comment of a
    stream is fingerprinted once, when it is judged), the parents' vectors and each engine's
    article vectors. The encoder's text cache is emptied separately."""
    crowd.SHARED_FINGERPRINTS.clear()
    topic.clear_parent_cache()
    for engine in engines:
        for detector in engine.detectors:
            if isinstance(detector, topic.OffTopicDetector):
                detector.articles = topic.ArticleCache()


@dataclass(frozen=True, slots=True)
class Judged:
    """What the benchmark keeps of a verdict to compare the passes. A stream's caller hands
    each batch's verdicts on and keeps none (the CLI writes them out, a worker to the
    database); kept whole, the 20,000 verdicts of the two passes took about 45 MB of the
    peak RSS that this benchmark reports for the engine."""

    decision: Decision
    stage: str
    slugs: tuple[str, ...]  # shared by every verdict of a pass
    fired: tuple[str, ...]
    scores: np.ndarray  # one per slug, in ``slugs`` order

    @classmethod
    def of(cls, verdict: Verdict, slugs: tuple[str, ...]) -> Judged:
        return cls(
            decision=verdict.decision,
            stage=verdict.stage,
            slugs=slugs,
            fired=tuple(verdict.fired),
            scores=np.array([verdict.results[slug].score for slug in slugs]),
        )

    def score(self, slug: str) -> float:
        return float(self.scores[self.slugs.index(slug)])


def run_stream(
    engine: Engine, comments: list[Comment], batch_size: int
) -> tuple[float, list[Judged]]:
    """Judge the mix as the CLI does: in batches through ``Engine.check_stream`` (the encoder
    on the next batch while the one before is finished), each comment seeing the stream
    before it."""
    context = InMemoryContext(ahead=2 * batch_size)

    def placed() -> Iterator[tuple[Sequence[Comment], list[Context]]]:
        for batch in batches(comments, batch_size):
            yield batch, [context.add_comment(comment) for comment in batch]

    kept: list[Judged] = []
    slugs: tuple[str, ...] = ()
    started = time.perf_counter()
    for judged in engine.check_stream(placed()):
        if judged and not slugs:
            slugs = tuple(judged[0].results)
        kept.extend(Judged.of(verdict, slugs) for verdict in judged)
    return time.perf_counter() - started, kept


Parts = dict[str, float]


def timed_pass(
    engine: Engine, comments: list[Comment], batch_size: int
) -> tuple[float, float, list[Judged], Parts]:
    """One stream pass from cold caches: wall seconds, CPU seconds, verdicts, time by part."""
    embedding.full_model()._cache.clear()
    forget_memos(engine)
    gc.collect()
    engine.timings = {}
    cpu_started = cpu_seconds()
    elapsed, verdicts = run_stream(engine, comments, batch_size)
    cpu = cpu_seconds() - cpu_started
    timings, engine.timings = engine.timings, None
    return elapsed, cpu, verdicts, timings


def time_embedding_alone(comments: list[Comment], batch_size: int) -> float:
    """The full sentence embedding over the same texts and batches, nothing else (not the
    sentences that the engine's learned rules mark: their cost belongs to the full pass)."""
    elapsed = 0.0
    model = embedding.full_model()
    for batch in batches(comments, batch_size):
        texts = [comment.text for comment in batch]
        started = time.perf_counter()
        model.embed(texts)
        elapsed += time.perf_counter() - started
    return elapsed


def latencies_ms(check: Callable[[Any], Any], items: Sequence[Any]) -> list[float]:
    measured = []
    for item in items:
        started = time.perf_counter()
        check(item)
        measured.append((time.perf_counter() - started) * 1000)
    return measured


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def reference_profanity_check(
    texts: list[str], batch_size: int, latency_items: list[str]
) -> dict[str, Any]:
    try:
        from profanity_check import predict_prob
    except ImportError:
        return {"available": False, "note": "pip install -r requirements/bench.txt"}
    predict_prob(["warm up"])
    started = time.perf_counter()
    for batch in batches(texts, batch_size):
        predict_prob(list(batch))
    elapsed = time.perf_counter() - started
    single = latencies_ms(lambda text: predict_prob([text]), latency_items)
    return {
        "available": True,
        "throughput_per_s": round(len(texts) / elapsed, 1),
        "latency_p50_ms": round(percentile(single, 50), 2),
        "latency_p99_ms": round(percentile(single, 99), 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--latency", type=int, default=1000, help="single comments timed")
    parser.add_argument(
        "--cascade-goal", choices=CASCADE_GOALS, default="scores",
        help="what the cascade keeps as the full model has it (Engine's cascade_goal)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="timed rounds of the three passes; figures are medians (3 on a noisy machine)",
    )
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    comments = build_mix(args.size)
    texts = [c.text for c in comments]
    rss_baseline = current_rss_mb()

    started = time.perf_counter()
    cascade_engine = Engine(cascade_goal=args.cascade_goal)
    cascade_engine.check_many(comments[:32])  # loads lazy models, fills caches
    # The cascade may settle the warm-up batch without the full model: load it explicitly so
    # no timed pass pays for a model load.
    warm = [analyse(Comment("Warm-up comment about the council and the bridge."))]
    embedding.annotate_static(warm)
    embedding.annotate_full(warm)
    load_s = time.perf_counter() - started
    missing = [
        slug
        for slug in ("hate", "profanity", "off_topic")
        if not any(slug in d.slugs for d in cascade_engine.detectors)
    ]

    full_engine = Engine(cascade=False)
    full_engine.check_many(comments[:32])

    def timed_round(number: int) -> tuple[list[Judged], list[Judged], Parts, Parts]:
        # Each pass starts cold: no vectors, fingerprints or parents' vectors from the pass
        # before it (a pass that reused them would skip work a stream has to do).
        cascade_s, cascade_cpu, verdicts, timings_cascade = timed_pass(
            cascade_engine, comments, args.batch_size
        )
        full_s, full_cpu, verdicts_full, timings_full = timed_pass(
            full_engine, comments, args.batch_size
        )
        embedding.full_model()._cache.clear()
        gc.collect()
        cpu_started = cpu_seconds()
        embedding_s = time_embedding_alone(comments, args.batch_size)
        embedding_cpu = cpu_seconds() - cpu_started
        rounds.append(
            {
                "cascade_s": cascade_s,
                "full_s": full_s,
                "embedding_s": embedding_s,
                "cascade_cpu_s": cascade_cpu,
                "full_cpu_s": full_cpu,
                "embedding_cpu_s": embedding_cpu,
            }
        )
        print(
            f"round {number}/{args.rounds}: cascade {len(comments) / cascade_s:.1f}/s,"
            f" full {len(comments) / full_s:.1f}/s, embedding {len(comments) / embedding_s:.1f}/s,"
            f" full/embedding {full_s / embedding_s:.3f}x",
            file=sys.stderr,
        )
        return verdicts, verdicts_full, timings_cascade, timings_full

    rounds: list[dict[str, float]] = []
    cascade_verdicts, full_verdicts, cascade_parts, full_parts = timed_round(1)
    screened = sum(1 for v in cascade_verdicts if v.stage == "screen")
    # Single comments, one at a time, cascade on: what the web app does per post. The text
    # cache is emptied first: the embedding pass left the last 4,096 texts of the mix in it,
    # which would answer 498 of the 1,000 sample comments without the encoder (a new post
    # is a new text).
    step = max(1, len(comments) // args.latency)
    sample = comments[::step][: args.latency]
    embedding.full_model()._cache.clear()
    parts_per_check: list[dict[str, float]] = []

    def check_alone(comment: Comment) -> None:
        cascade_engine.timings = {}
        cascade_engine.check(comment)
        parts_per_check.append(cascade_engine.timings)

    single = latencies_ms(check_alone, sample)
    cascade_engine.timings = None
    tail = latency_tail(sample, single, parts_per_check)
    engine_peak = peak_rss_mb()
    # The peak above is one round and the single comments, with round 1's summaries (Judged)
    # held; later rounds only time the passes, and their peak is reported beside it.
    for number in range(2, args.rounds + 1):
        timed_round(number)
    rounds_peak = peak_rss_mb()  # before the reference model below loads
    # Medians over the rounds; the ratios are the median of each round's own ratio (the two
    # passes of a round ran minutes apart at most, so a slow spell of the machine cancels).
    cascade_s = statistics.median(r["cascade_s"] for r in rounds)
    full_s = statistics.median(r["full_s"] for r in rounds)
    embedding_s = statistics.median(r["embedding_s"] for r in rounds)
    cascade_cpu = statistics.median(r["cascade_cpu_s"] for r in rounds)
    full_cpu = statistics.median(r["full_cpu_s"] for r in rounds)
    embedding_cpu = statistics.median(r["embedding_cpu_s"] for r in rounds)
    ratio = statistics.median(r["full_s"] / r["embedding_s"] for r in rounds)
    ratio_cpu = statistics.median(r["full_cpu_s"] / r["embedding_cpu_s"] for r in rounds)

    decisions: dict[str, int] = {}
    for verdict in cascade_verdicts:
        decisions[verdict.decision.value] = decisions.get(verdict.decision.value, 0) + 1
    changed = sum(
        1 for a, b in zip(cascade_verdicts, full_verdicts, strict=True) if a.decision != b.decision
    )
    agreement = rule_agreement(cascade_verdicts, full_verdicts)
    changed_examples = [
        {
            "id": comment.id,
            "text": comment.text[:160],
            "cascade": a.decision.value,
            "full": b.decision.value,
            "cascade_rules": list(a.fired),
            "full_rules": list(b.fired),
        }
        for comment, a, b in zip(comments, cascade_verdicts, full_verdicts, strict=True)
        if a.decision != b.decision
    ][:20]

    reference = {"available": False, "note": "skipped"}
    if not args.skip_reference:
        reference = reference_profanity_check(texts, args.batch_size, [c.text for c in sample])

    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "platform": platform.platform(),
        },
        "engine_version": cascade_engine.version,
        "policy_version": cascade_engine.policy_version,
        "detectors": [type(d).__name__ for d in cascade_engine.detectors],
        "cascade_goal": cascade_engine.cascade_goal,
        "rules_without_detector_sampled": missing,
        "comments": len(comments),
        "batch_size": args.batch_size,
        "load_s": round(load_s, 2),
        "throughput_cascade_per_s": round(len(comments) / cascade_s, 1),
        "screened_share": round(screened / len(comments), 3),
        "cpu_ms_per_comment": {
            "cascade": round(cascade_cpu * 1000 / len(comments), 3),
            "full": round(full_cpu * 1000 / len(comments), 3),
            "embedding_alone": round(embedding_cpu * 1000 / len(comments), 3),
        },
        "cascade_over_full_speedup_cpu": round(full_cpu / cascade_cpu, 2) if cascade_cpu else None,
        "full_over_embedding_ratio_cpu": round(ratio_cpu, 3),
        "throughput_full_per_s": round(len(comments) / full_s, 1),
        "embedding_alone_per_s": round(len(comments) / embedding_s, 1) if embedding_s > 0 else None,
        "full_over_embedding_ratio": round(ratio, 3),
        "rounds": [{key: round(value, 3) for key, value in r.items()} for r in rounds],
        "cascade_over_full_speedup": round(full_s / cascade_s, 2),
        "decisions_cascade": decisions,
        "decisions_changed_by_cascade": changed,
        "decisions_changed_share": round(changed / len(comments), 4),
        "rule_agreement_cascade_vs_full": agreement,
        "decisions_changed_examples": changed_examples,
        "latency_samples": len(single),
        "latency_p50_ms": round(percentile(single, 50), 2),
        "latency_p99_ms": round(percentile(single, 99), 2),
        "latency_mean_ms": round(statistics.fmean(single), 2),
        "latency_tail": tail,
        "rss_before_engine_mb": round(rss_baseline, 1),
        "peak_rss_mb": round(engine_peak, 1),
        "peak_rss_after_all_rounds_mb": round(rounds_peak, 1),
        "ms_per_comment_by_part_cascade": _per_comment(cascade_parts, len(comments)),
        "ms_per_comment_by_part_full": _per_comment(full_parts, len(comments)),
        "reference_alt_profanity_check": reference,
        "peak_rss_with_reference_mb": round(peak_rss_mb(), 1),
    }
    if reference.get("available"):
        results["cascade_over_reference_throughput"] = round(
            results["throughput_cascade_per_s"] / reference["throughput_per_s"], 3
        )
    results["targets"] = {
        key: {
            "target": f"{op} {value}",
            "measured": results.get(key),
            "met": _met(results.get(key), op, value),
        }
        for key, (op, value) in TARGETS.items()
    }
    print(render(results))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for path in (args.out / f"engine-{stamp}.json", args.out / "engine-latest.json"):
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out / 'engine-latest.json'}")
    return 0


def latency_tail(
    sample: Sequence[Comment], single: list[float], parts: list[dict[str, float]], count: int = 12
) -> list[dict[str, Any]]:
    """The slowest one-comment checks (what the p99 is made of): tokens, total, the full
    encoder's share, and the biggest other parts (ms)."""
    tokenizer = embedding.full_model().tokenizer
    slowest = sorted(range(len(single)), key=lambda i: -single[i])[:count]
    rows = []
    for index in slowest:
        timed = parts[index]
        encoder = timed.get("embedding.full", 0.0) * 1000
        others = sorted(
            ((part, seconds * 1000) for part, seconds in timed.items() if part != "embedding.full"),
            key=lambda item: -item[1],
        )[:3]
        rows.append(
            {
                "id": sample[index].id,
                "tokens": len(tokenizer.encode(sample[index].text).ids),
                "ms": round(single[index], 2),
                "encoder_ms": round(encoder, 2),
                "rest_ms": round(single[index] - encoder, 2),
                "biggest_other_parts_ms": {part: round(ms, 2) for part, ms in others},
            }
        )
    return rows


def rule_agreement(cascade: list[Judged], full: list[Judged]) -> dict[str, dict[str, Any]]:
    """Per rule: how often the cascade fires where the full pass fires (agreement, and the
    disagreements both ways), and the ROC-AUC of the cascade's scores against the full
    pass's firing (None where the full pass never or always fires)."""
    table: dict[str, dict[str, Any]] = {}
    for slug in full[0].slugs:
        fired_full = [slug in v.fired for v in full]
        fired_cascade = [slug in v.fired for v in cascade]
        scores = [v.score(slug) for v in cascade]
        table[slug] = {
            "fired_full": sum(fired_full),
            "fired_cascade": sum(fired_cascade),
            "only_full": sum(
                1 for f, c in zip(fired_full, fired_cascade, strict=True) if f and not c
            ),
            "only_cascade": sum(
                1 for f, c in zip(fired_full, fired_cascade, strict=True) if c and not f
            ),
            "agreement": round(
                sum(f == c for f, c in zip(fired_full, fired_cascade, strict=True)) / len(full), 4
            ),
            "auc_vs_full": _auc(scores, fired_full),
        }
    return table


def _auc(scores: list[float], labels: list[bool]) -> float | None:
    """ROC-AUC by ranks (ties share their average rank)."""
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        stop = start
        while stop + 1 < len(order) and scores[order[stop + 1]] == scores[order[start]]:
            stop += 1
        for position in range(start, stop + 1):
            ranks[order[position]] = (start + stop) / 2 + 1
        start = stop + 1
    positive_ranks = sum(rank for rank, label in zip(ranks, labels, strict=True) if label)
    return round((positive_ranks - positives * (positives + 1) / 2) / (positives * negatives), 4)


def _per_comment(parts: dict[str, float] | None, count: int) -> dict[str, float]:
    ordered = sorted((parts or {}).items(), key=lambda item: -item[1])
    return {part: round(seconds * 1000 / count, 3) for part, seconds in ordered}


def _met(value: Any, op: str, target: float) -> bool | None:
    if value is None:
        return None
    return value >= target if op == ">=" else value <= target


def render(results: dict[str, Any]) -> str:
    reference = results["reference_alt_profanity_check"]
    rows = [
        ("comments in the mix", f"{results['comments']:,} (batches of {results['batch_size']})"),
        ("engine load + warm-up", f"{results['load_s']} s"),
        ("cascade goal", results["cascade_goal"]),
        ("throughput, cascade on", f"{results['throughput_cascade_per_s']:,} comments/s "
         f"({results['screened_share']:.0%} settled by the first stage)"),
        ("throughput, cascade off (full)", f"{results['throughput_full_per_s']:,} comments/s"),
        ("embedding pass alone", f"{results['embedding_alone_per_s'] or 'n/a'} comments/s"),
        ("full pass / embedding alone", f"{results['full_over_embedding_ratio'] or 'n/a'}x"),
        ("decisions changed by the cascade", f"{results['decisions_changed_by_cascade']} "
         f"({results['decisions_changed_share']:.2%})"),
        ("CPU ms/comment cascade | full | emb.", " | ".join(
            str(v) for v in results["cpu_ms_per_comment"].values())),
        ("CPU ratios (load-independent)", f"full/embedding {results['full_over_embedding_ratio_cpu']}x, "
         f"cascade speed-up over full {results['cascade_over_full_speedup_cpu']}x"),
        ("one comment p50 / p99", f"{results['latency_p50_ms']} ms / {results['latency_p99_ms']} ms"),
        ("peak RSS (engine)", f"{results['peak_rss_mb']} MB"),
        ("alt-profanity-check", f"{reference.get('throughput_per_s', 'n/a')} comments/s, p50 "
         f"{reference.get('latency_p50_ms', 'n/a')} ms" if reference.get("available") else reference.get("note", "")),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    lines.append("")
    lines.append("where the time goes (ms per comment, cascade on | off):")
    full_parts = results["ms_per_comment_by_part_full"]
    for part, ms in results["ms_per_comment_by_part_cascade"].items():
        lines.append(f"  {part:<34} {ms:>8.3f} | {full_parts.get(part, 0.0):>8.3f}")
    for part, ms in full_parts.items():
        if part not in results["ms_per_comment_by_part_cascade"]:
            lines.append(f"  {part:<34} {0.0:>8.3f} | {ms:>8.3f}")
    lines.append("")
    lines.append(
        "per rule, cascade vs full pass (fired: full / cascade / only full / only cascade):"
    )
    for slug, row in results["rule_agreement_cascade_vs_full"].items():
        auc = row["auc_vs_full"]
        lines.append(
            f"  {slug:<18} {row['fired_full']:>5} {row['fired_cascade']:>5} {row['only_full']:>4} "
            f"{row['only_cascade']:>4}  agreement {row['agreement']:.4f}  "
            f"AUC {auc if auc is not None else 'n/a'}"
        )
    lines.append("")
    lines.append("slowest one-comment checks (tokens: total = encoder + rest, ms):")
    for row in results["latency_tail"]:
        lines.append(
            f"  {row['tokens']:>4} tokens: {row['ms']:>7.2f} = {row['encoder_ms']:>7.2f} + "
            f"{row['rest_ms']:>6.2f}  {row['biggest_other_parts_ms']}"
        )
    lines.append("")
    lines.append("targets:")
    for key, entry in results["targets"].items():
        mark = {True: "met", False: "MISSED", None: "n/a"}[entry["met"]]
        lines.append(f"  {key:<28} {entry['target']:<9} measured {entry['measured']}  {mark}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
