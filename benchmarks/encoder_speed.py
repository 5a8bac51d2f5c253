"""Full sentence encoder alone: time by token count, throughput on the mix, cosine to a baseline.

    nice .venv/bin/python benchmarks/encoder_speed.py [--model FILE] [--baseline FILE]
        [--texts 2000] [--repeats 20] [--latency 1000] [--out DIR]

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=embedding.FULL_MODEL_PATH)
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--latency", type=int, default=1000, help="single comments timed")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
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
