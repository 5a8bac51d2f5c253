"""Stream 100,000 lines through ``civility moderate`` and sample its RSS: it must stay flat.

    .venv/bin/python benchmarks/moderate_memory.py [--lines 100000] [--interval 0.5]

The input is generated on the fly and piped into the command's stdin (so the input itself
never sits in memory or on disk); the output goes to a file whose line count shows progress.
The report compares the RSS once the first quarter of the lines is done (models loaded, and
the command's 20,000-comment window full) with the peak over the rest of the run: flat means
the growth stays within a few MB, however many lines follow.
Writes JSON (and a PNG of RSS against lines done) to benchmarks/out/.

Measured 2026-11-29 (--cheap-rules-only, 2 shared cores, load about 8): 100,000 lines in
844 s; RSS 145 MB at 10,000 lines, 179 MB at 25,000 (window and memos filling), 184 MB at
50,000, 189.5 MB at 75,000 and 189.6 MB at 100,000: flat once the bounded memos are full.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
# The rules scored from the sentence embedding (learned heads and off_topic).
EMBEDDING_RULES = (
    "hate", "minors", "extremism", "insult", "threat", "disrespect_site", "violence",
    "animal_cruelty", "self_harm", "advertising", "promotion", "spam", "narcotics", "trolling",
    "off_topic",
)  # fmt: skip
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TEXTS = [
    "I think the council should publish the full costs of the bridge first.",
    "Thanks for the clear report. The numbers in the second paragraph help a lot.",
    "THIS DECISION IS A DISGRACE AND EVERYONE IN THIS TOWN KNOWS IT!!!",
    "what a f*cking joke this is, the whole council are sh1t",
    "Call Mark on 020 7946 0{n:03d} or email mark{n}@example.com",
    "Free prizes! Download http://bit.ly/win{n} now: setup.exe",
    "Das ist eine sehr schlechte Entscheidung der Regierung.",
    "Does anyone know when the consultation closes? Comment number {n}.",
]


def generate(lines: int, seed: int = 7) -> Iterator[bytes]:
    rng = random.Random(seed)
    for index in range(lines):
        text = rng.choice(TEXTS).format(n=rng.randrange(1000)) + f" #{index}"
        yield (
            json.dumps(
                {
                    "id": index,
                    "text": text,
                    "author": f"user{rng.randrange(5000)}",
                    "created_at": (START + timedelta(seconds=index)).isoformat(),
                    "article": {"title": "Council approves new bridge", "lead": "The vote passed."},
                }
            ).encode()
            + b"\n"
        )


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between RSS samples")
    parser.add_argument(
        "--warm-fraction", type=float, default=0.25, help="share of lines taken as warm-up"
    )
    parser.add_argument("--policy", type=Path, help="policy file passed to civility moderate")
    parser.add_argument(
        "--cheap-rules-only", action="store_true",
        help="switch off the rules that need the sentence embedding (a quick run of the "
        "streaming machinery and the cheap detectors)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="civility-bench-") as scratch:
        output = Path(scratch) / "out.jsonl"
        command = [sys.executable, "-m", "civility.cli", "moderate", "--output", str(output)]
        policy = args.policy
        if args.cheap_rules_only:
            policy = Path(scratch) / "cheap.toml"
            policy.write_text(
                "".join(f"[rules.{slug}]\nenabled = false\n" for slug in EMBEDDING_RULES)
            )
        if policy is not None:
            command += ["--policy", str(policy)]
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        assert process.stdin is not None

        def feed() -> None:
            assert process.stdin is not None
            try:
                for line in generate(args.lines):
                    process.stdin.write(line)
            finally:
                process.stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        samples: list[tuple[float, int, float]] = []  # seconds, lines done, RSS MB
        while process.poll() is None:
            rss = rss_mb(process.pid)
            if rss is not None:
                samples.append((time.perf_counter() - started, count_lines(output), rss))
            time.sleep(args.interval)
        feeder.join()
        elapsed = time.perf_counter() - started
        done = count_lines(output)

    if process.returncode != 0 or done != args.lines:
        print(
            f"civility moderate failed: exit {process.returncode}, {done} of {args.lines} lines",
            file=sys.stderr,
        )
        return 1
    warm = [rss for _, lines, rss in samples if lines >= args.lines * args.warm_fraction]
    after_warm_up = warm[0] if warm else float("nan")
    peak = max((rss for _, _, rss in samples), default=float("nan"))
    late_peak = max(warm, default=float("nan"))
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "lines": args.lines,
        "warm_up_lines": int(args.lines * args.warm_fraction),
        "cheap_rules_only": args.cheap_rules_only,
        "seconds": round(elapsed, 1),
        "lines_per_second": round(args.lines / elapsed, 1),
        "rss_after_warm_up_mb": round(after_warm_up, 1),
        "rss_peak_after_warm_up_mb": round(late_peak, 1),
        "rss_growth_after_warm_up_mb": round(late_peak - after_warm_up, 1),
        "rss_peak_mb": round(peak, 1),
        "samples": [{"s": round(s, 2), "lines": n, "rss_mb": round(r, 1)} for s, n, r in samples],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = "moderate-memory-cheap" if args.cheap_rules_only else "moderate-memory"
    (args.out / f"{name}-latest.json").write_text(json.dumps(result, indent=2) + "\n")
    _plot(samples, args.out / f"{name}-latest.png")
    print(f"{args.lines:,} lines in {elapsed:.0f} s ({result['lines_per_second']:,}/s)")
    warm_share = f"{args.warm_fraction:.0%}"
    print(f"RSS after the first {warm_share} of the lines (warm-up): {after_warm_up:.1f} MB")
    print(
        f"peak RSS over the rest: {late_peak:.1f} MB (growth {late_peak - after_warm_up:+.1f} MB)"
    )
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        reached = [(n, r) for _, n, r in samples if n >= args.lines * fraction]
        if reached:
            print(f"  at {reached[0][0]:>7,} lines: {reached[0][1]:.1f} MB")
    print(f"wrote {args.out / (name + '-latest.json')}")
    return 0


def _plot(samples: list[tuple[float, int, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.5), dpi=100)
    axes.plot([n for _, n, _ in samples], [r for _, _, r in samples])
    axes.set(
        xlabel="lines judged", ylabel="RSS (MB)", title="civility moderate: RSS while streaming"
    )
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


if __name__ == "__main__":
    sys.exit(main())
