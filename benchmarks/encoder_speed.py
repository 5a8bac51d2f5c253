"""Full sentence encoder alone: time by token count, throughput on the mix, cosine to a baseline.

    nice .venv/bin/python benchmarks/encoder_speed.py [--model FILE] [--baseline FILE]
        [--texts 2000] [--repeats 20] [--latency 1000] [--out DIR]
    flock /tmp/civility-bench.lock .venv/bin/python benchmarks/encoder_speed.py \
        --reference FLOAT.onnx --candidates FILE... [--compare-texts 300]

- ``--model``: the ONNX encoder to measure (default: the shipped one, run through
  ``civility.standards.embedding`` exactly as the engine runs it);
- ``--baseline``: another encoder file to compare vectors with (e.g. the previous shipped
  encoder, ``git show HEAD~1:src/civility/standards/models/<file> > /tmp/old.onnx``). Its
  vectors are computed one comment per call, single-threaded, like the engine's.

It prints, and writes as JSON to ``out/encoder-latest.json``:

- one comment alone at 16, 32, 64, 128 and 256 tokens: median wall ms and CPU ms on one
  thread; median ms on the lone-comment session (one thread per core); and through
  ``embedding.embed``, which takes that session for a comment of at least
  ``LONE_PARALLEL_MIN_TOKENS`` tokens when the cores are free;
- throughput over ``--texts`` comments of the engine benchmark's mix (``mix.build_mix``)
  through ``embedding.embed`` in batches of 256: comments/s and CPU ms per comment;
- one comment at a time over the engine benchmark's latency sample (``--latency``, every 10th
  comment of the 10,000 mix): p50/p99 ms on one thread and through ``embedding.embed``;
- cosine of every vector to the baseline's: min, 1st percentile, mean;
- the load average before and after (the machine has 2 cores: quote figures with it).

With ``--candidates`` it measures only this, for the shipped encoder and each candidate file,
all in one process on the same ``--compare-texts`` comments of the mix (every 7th), windows
over 160 tokens as the engine makes them, one thread (CPU ms per comment):

- ``one_per_call``: one window per call, unpadded (what the engine does);
- ``exact_length_groups``: windows of the same token count run together (no padding), up to
  64 a call; ``padded_32``: length-sorted batches of 32, padded to their longest;
- row independence: how many windows get bit for bit the vector they get alone, in each of
  those two batch forms, and the largest difference of a component;
- with ``--reference`` (the unquantised graph, ``export_minilm.py --keep-float``): cosine of
  each comment's vector (one per call) to the float model's: mean, 1st percentile, min.
It writes ``out/encoder-candidates.json``. Results: models/README.md section 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mix import build_mix

from civility.standards import embedding

OUT = Path(__file__).resolve().parent / "out"
TOKEN_COUNTS = (16, 32, 64, 128, 256)


def single_thread_session(path: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_one(session: Any, ids: list[int]) -> np.ndarray:
    input_ids = np.asarray([ids], dtype=np.int64)
    feeds = {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)}
    vector: np.ndarray = session.run(None, feeds)[0][0]
    return vector


def median_ms(action: Any, repeats: int) -> tuple[float, float]:
    """Median wall ms, and median CPU ms of the calling thread (which does all the work of a
    one-thread session: a figure that holds while other jobs load the machine)."""
    action()
    walls, cpus = [], []
    for _ in range(repeats):
        cpu_started = time.thread_time()
        started = time.perf_counter()
        action()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.thread_time() - cpu_started) * 1000)
    return round(statistics.median(walls), 2), round(statistics.median(cpus), 2)


def token_ids(count: int) -> list[int]:
    # [CLS] + ordinary word pieces + [SEP], from a real sentence repeated.
    tokenizer = embedding.full_model().tokenizer
    words = tokenizer.encode("The council approved the new bus lanes after a long debate " * 30)
    return [words.ids[0], *words.ids[1 : count - 1], words.ids[-1]]


def compare_candidates(
    paths: list[Path], reference: Path | None, count: int
) -> dict[str, dict[str, float]]:
    """See the module docstring (``--candidates``)."""
    texts = [c.text for c in build_mix(10_000)][::7][:count]
    tokenizer = embedding.full_model().tokenizer
    jobs = [
        (owner, ids)
        for owner, encoding in enumerate(tokenizer.encode_batch(texts))
        for ids in embedding.windows(encoding.ids)
    ]

    def combined(vectors: list[np.ndarray]) -> np.ndarray:
        total = np.zeros((len(texts), embedding.FULL_DIMENSIONS))
        for (owner, ids), vector in zip(jobs, vectors, strict=True):
            total[owner] += (len(ids) - 2) * vector.astype(np.float64)
        normalised: np.ndarray = total / np.linalg.norm(total, axis=1, keepdims=True)
        return normalised

    def run_padded(session: Any, rows: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in rows)
        input_ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, ids in enumerate(rows):
            input_ids[row, : len(ids)], mask[row, : len(ids)] = ids, 1
        result: np.ndarray = session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        return result

    def cpu_ms(action: Any) -> tuple[float, Any]:
        started = time.thread_time()
        value = action()
        return round((time.thread_time() - started) * 1000 / len(texts), 2), value

    def batched(session: Any, groups: list[list[int]]) -> list[np.ndarray]:
        vectors: list[np.ndarray] = [np.empty(0)] * len(jobs)
        for group in groups:
            for index, vector in zip(
                group, run_padded(session, [jobs[k][1] for k in group]), strict=True
            ):
                vectors[index] = vector
        return vectors

    by_length: dict[int, list[int]] = {}
    for index, (_, ids) in enumerate(jobs):
        by_length.setdefault(len(ids), []).append(index)
    exact_groups = [
        indices[start : start + 64]
        for indices in by_length.values()
        for start in range(0, len(indices), 64)
    ]
    order = sorted(range(len(jobs)), key=lambda k: len(jobs[k][1]))
    padded_groups = [order[start : start + 32] for start in range(0, len(order), 32)]
    float_vectors = None
    if reference is not None:
        session = single_thread_session(reference)
        float_vectors = combined([run_one(session, ids) for _, ids in jobs])
    results: dict[str, dict[str, float]] = {}
    for path in [embedding.FULL_MODEL_PATH, *paths]:
        session = single_thread_session(path)
        run_one(session, jobs[0][1])
        one_ms, alone = cpu_ms(lambda s=session: [run_one(s, ids) for _, ids in jobs])
        exact_ms, exact = cpu_ms(lambda s=session: batched(s, exact_groups))
        padded_ms, padded = cpu_ms(lambda s=session: batched(s, padded_groups))
        row: dict[str, float] = {
            "mb": round(path.stat().st_size / 1e6, 1),
            "one_per_call_cpu_ms": one_ms,
            "exact_length_groups_cpu_ms": exact_ms,
            "padded_32_cpu_ms": padded_ms,
        }
        for name, vectors in (("exact_length", exact), ("padded", padded)):
            row[f"{name}_bit_identical"] = sum(
                np.array_equal(a, b) for a, b in zip(alone, vectors, strict=True)
            )
            row[f"{name}_max_abs_difference"] = float(
                max(np.abs(a - b).max() for a, b in zip(alone, vectors, strict=True))
            )
        if float_vectors is not None:
            cosine = (combined(alone) * float_vectors).sum(axis=1)
            row["cosine_to_float_mean"] = round(float(cosine.mean()), 5)
            row["cosine_to_float_p1"] = round(float(np.percentile(cosine, 1)), 5)
            row["cosine_to_float_min"] = round(float(cosine.min()), 5)
        results[path.name] = row
        print(f"{path.name}: {row}", flush=True)
    print(f"{len(texts)} comments, {len(jobs)} windows; load average {os.getloadavg()}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=embedding.FULL_MODEL_PATH)
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--latency", type=int, default=1000, help="single comments timed")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--candidates", type=Path, nargs="+", default=None)
    parser.add_argument("--reference", type=Path, default=None, help="the float graph")
    parser.add_argument("--compare-texts", type=int, default=300)
    args = parser.parse_args(argv)
    if args.candidates:
        compared = compare_candidates(args.candidates, args.reference, args.compare_texts)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "encoder-candidates.json").write_text(json.dumps(compared, indent=2) + "\n")
        return 0
    load_before = os.getloadavg()
    embedding.FULL_MODEL_PATH = args.model
    model = embedding.full_model()
    single = single_thread_session(args.model)
    lone = model.lone_session()

    by_tokens: dict[int, dict[str, float]] = {}
    for count in TOKEN_COUNTS:
        ids = token_ids(count)
        text = model.tokenizer.decode(ids[1:-1])

        def through_engine(text: str = text) -> None:
            model._cache.clear()
            embedding.embed([text])

        one_wall, one_cpu = median_ms(lambda ids=ids: run_one(single, ids), args.repeats)
        by_tokens[count] = {
            "one_thread_ms": one_wall,
            "one_thread_cpu_ms": one_cpu,
            "lone_session_ms": median_ms(lambda ids=ids: run_one(lone, ids), args.repeats)[0],
            "embed_ms": median_ms(through_engine, args.repeats)[0],
        }
        print(f"{count:4d} tokens: {by_tokens[count]}", flush=True)

    texts = [c.text for c in build_mix(max(args.texts, 10_000))][: args.texts]
    model._cache.clear()
    embedding.embed(texts[:64])
    model._cache.clear()
    cpu_started = time.process_time()
    started = time.perf_counter()
    vectors = np.concatenate(
        [embedding.embed(texts[i : i + 256]) for i in range(0, len(texts), 256)]
    )
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": str(args.model),
        "model_mb": round(args.model.stat().st_size / 1e6, 1),
        "by_tokens": by_tokens,
        "texts": len(texts),
        "comments_per_s": round(len(texts) / wall, 1),
        "cpu_ms_per_comment": round(cpu * 1000 / len(texts), 2),
    }
    print(f"throughput: {results['comments_per_s']}/s, {results['cpu_ms_per_comment']} CPU ms each")

    # One comment at a time, as the web app posts them: the engine benchmark's latency sample
    # (every 10th comment of the 10,000 mix), each timed on one thread and through ``embed``
    # (lone-comment session where it applies), interleaved so both see the same load.
    sample = [c.text for c in build_mix(10_000)][::10][: args.latency]
    one_ms, embed_ms, lone_taken = [], [], 0
    for text in sample:
        ids = model.tokenizer.encode(text).ids
        started = time.perf_counter()
        run_one(single, ids)
        one_ms.append((time.perf_counter() - started) * 1000)
        model._cache.clear()
        lone_taken += len(ids) >= embedding.LONE_PARALLEL_MIN_TOKENS and embedding._cores_free_for(
            model._workers
        )
        started = time.perf_counter()
        embedding.embed([text])
        embed_ms.append((time.perf_counter() - started) * 1000)
    results["one_comment"] = {
        "samples": len(sample),
        "one_thread_p50_ms": round(float(np.percentile(one_ms, 50)), 2),
        "one_thread_p99_ms": round(float(np.percentile(one_ms, 99)), 2),
        "embed_p50_ms": round(float(np.percentile(embed_ms, 50)), 2),
        "embed_p99_ms": round(float(np.percentile(embed_ms, 99)), 2),
        "long_and_cores_free_before_the_call": lone_taken,
    }
    print(f"one comment at a time: {results['one_comment']}")

    if args.baseline is not None:
        base = single_thread_session(args.baseline)
        encodings = model.tokenizer.encode_batch(texts)
        reference = np.stack([run_one(base, e.ids) for e in encodings])
        cosine = (vectors * reference).sum(axis=1)
        results["baseline"] = str(args.baseline)
        results["cosine_to_baseline"] = {
            "min": round(float(cosine.min()), 5),
            "p1": round(float(np.percentile(cosine, 1)), 5),
            "mean": round(float(cosine.mean()), 5),
            "below_0995": int((cosine < 0.995).sum()),
        }
        print(f"cosine to baseline: {results['cosine_to_baseline']}")

    results["load_average"] = {"before": load_before, "after": os.getloadavg()}
    print(f"load average before {load_before}, after {os.getloadavg()}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "encoder-latest.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
