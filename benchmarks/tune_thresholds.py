"""Pick the default policy's thresholds on the TRAIN parts of the shared datasets.

    .venv/bin/python benchmarks/tune_thresholds.py [--limit 4000] [--write]

For every rule that has labels in a dataset Civility may learn from (``datasets.SHIPPABLE``:
MIT, Apache, CC0, CC BY, CC BY-SA; the NC and unlicensed sets are for evaluation only), the
engine (cascade on, as shipped) scores the train part of the fixed split, never the test part
that ``civility evaluate`` reports on. Then:

- ``queue`` favours recall: the threshold that maximises F2 (recall weighted four times
  precision). Holding a comment costs a moderator a glance; missing one costs a reader harm.
- ``reject`` favours precision: the lowest threshold at which at least 95% of the comments
  it would remove truly violate the rule (with at least 20 of them, so one lucky comment does
  not set it). Where no threshold gets there, the rule never removes on its own (1.01).

Rules without such labels keep their hand-set values. ``--write`` rewrites
``src/civility/standards/default_policy.toml`` with the values and where each came from.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from civility.standards import datasets
from civility.standards.cli import evaluate as evaluate_cli
from civility.standards.cli.metrics import confusion, precision_recall_curve
from civility.standards.engine import Engine
from civility.standards.policy import NEVER, default_policy
from civility.standards.rules import RULES

POLICY_PATH = (
    Path(__file__).resolve().parents[1] / "src" / "civility" / "standards" / "default_policy.toml"
)
OUT = Path(__file__).resolve().parent / "out"
REJECT_PRECISION = 0.95
REJECT_MIN_SUPPORT = 20
# Removing a comment with no person involved needs at least an even score, however clean the
# training set made a lower threshold look (language ID is near perfect on langid_kaggle17).
REJECT_FLOOR = 0.5
F_BETA = 2.0
QUEUE_RANGE = (0.2, 0.95)
QUEUE_MIN_PRECISION = 0.5
# Rules with no public data, measured on the labelled probe sets under tests/ instead.
PROBE_RULES = frozenset({
    "off_topic", "flash_mob", "flood", "trolling", "shouting", "disrespect_site",
    "animal_cruelty", "promotion", "advertising",
})  # fmt: skip


def pick_queue(labels: np.ndarray, scores: np.ndarray) -> float:
    """The threshold with the best F-beta (beta 2) among those where at least half the held
    comments violate (where any does); ties go to the higher threshold. The precision floor
    matters because several sets hold far more violations than a news site does (one is
    toxic throughout), which would otherwise drag the threshold down to near zero."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    beta2 = F_BETA**2
    with np.errstate(invalid="ignore", divide="ignore"):
        f_beta = (1 + beta2) * precision * recall / (beta2 * precision + recall)
    f_beta = np.nan_to_num(f_beta)
    allowed = (thresholds >= QUEUE_RANGE[0]) & (thresholds <= QUEUE_RANGE[1])
    if (allowed & (precision >= QUEUE_MIN_PRECISION)).any():
        allowed &= precision >= QUEUE_MIN_PRECISION
    if not allowed.any():
        return 0.5
    best = int(np.argmax(np.where(allowed, f_beta, -1.0)))
    return float(thresholds[best])


def pick_reject(labels: np.ndarray, scores: np.ndarray, queue: float) -> float:
    """The lowest threshold >= queue whose precision is at least 95% on 20+ removals."""
    precision, _, thresholds = precision_recall_curve(labels, scores)
    predicted = np.array([int(np.sum(scores >= t)) for t in thresholds])
    ok = (precision >= REJECT_PRECISION) & (predicted >= REJECT_MIN_SUPPORT) & (thresholds >= queue)
    if not ok.any():
        return NEVER
    # Thresholds run from high to low: the last acceptable one is the lowest. Precision is not
    # monotone, so require every higher threshold (with enough support) to be acceptable too.
    lowest = None
    for index in range(len(thresholds)):
        if predicted[index] < REJECT_MIN_SUPPORT:
            continue
        if not ok[index]:
            break
        lowest = float(thresholds[index])
    return lowest if lowest is not None else NEVER


def tune(limit: int | None, names: Sequence[str]) -> dict[str, Any]:
    engine = Engine(default_policy())
    paths = [evaluate_cli.resolve(name) for name in names]
    report = evaluate_cli.evaluate(
        engine, paths, part="train", limit=limit, progress=sys.stderr.isatty()
    )
    pooled = report["_curves"]["pooled"]
    tuned: dict[str, Any] = {}
    for slug, entry in pooled.items():
        labels = np.asarray(entry.labels, dtype=bool)
        scores = np.asarray(entry.scores, dtype=np.float64)
        if labels.sum() < 20 or (~labels).sum() < 20:
            continue
        if slug in report["unscored_rules"]:
            continue
        # Round down: a threshold a hair below the chosen score keeps every comment it chose.
        queue = _floor2(pick_queue(labels, scores))
        reject = pick_reject(labels, scores, queue)
        reject = NEVER if reject >= NEVER else max(queue, REJECT_FLOOR, _floor2(reject))
        at_queue = confusion(labels, scores, queue)
        at_reject = confusion(labels, scores, reject)
        sources = sorted(name for name, rules in report["per_dataset"].items() if slug in rules)
        tuned[slug] = {
            "queue": queue,
            "reject": reject,
            "n": int(labels.size),
            "positives": int(labels.sum()),
            "queue_precision": at_queue.precision,
            "queue_recall": at_queue.recall,
            "reject_precision": at_reject.precision,
            "reject_recall": at_reject.recall,
            "datasets": sources,
            "roc_auc": report["rules"][slug]["roc_auc"],
        }
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine_version": engine.version,
        "limit_per_dataset": limit,
        "part": "train",
        "rules": tuned,
    }


def render_policy(tuned: dict[str, Any], current: dict[str, Any]) -> str:
    """The whole default_policy.toml, thresholds commented with their origin."""
    when = tuned["when"][:10]
    lines = [
        "# The default policy shipped with Civility. Thresholds are calibrated scores in [0, 1]:",
        '# at or above "queue" a comment is held for a moderator, at or above "reject" it is removed.',
        "# reject = 1.01 means the rule never removes on its own.",
        "#",
        "# Where a rule has labels in a dataset Civility may learn from, its thresholds were picked by",
        f"# benchmarks/tune_thresholds.py ({when}) on the TRAIN part of the fixed split only:",
        "# queue = best F2 with precision >= 50% (favours recall: a held comment costs a moderator a",
        "# glance), within 0.2..0.95; reject = the",
        f"# lowest score with precision >= {REJECT_PRECISION:.0%} on >= {REJECT_MIN_SUPPORT} removals, and at least {REJECT_FLOOR}",
        "# (favours precision).",
        "# Other rules keep hand-set values, noted per rule; `civility evaluate` reports all of them",
        "# on the held-out test part.",
        "",
    ]
    for key in ("languages", "max_length", "allow_words", "deny_words", "allow_domains", "deny_domains",
                "flash_mob_window_minutes", "flood_window_minutes"):  # fmt: skip
        lines.append(f"{key} = {json.dumps(current[key])}")
    for rule in RULES:
        settings = current["rules"][rule.slug]
        found = tuned["rules"].get(rule.slug)
        lines.append("")
        lines.append(f"[rules.{rule.slug}]  # rule {rule.number}: {rule.title}")
        if found:
            lines.append(
                f"# tuned on train ({', '.join(found['datasets'])}; n={found['n']:,}, "
                f"{found['positives']:,} positive): queue P {_pct(found['queue_precision'])} "
                f"R {_pct(found['queue_recall'])}; reject P {_pct(found['reject_precision'])} "
                f"R {_pct(found['reject_recall'])}"
            )
            queue, reject = found["queue"], found["reject"]
        else:
            lines.append(
                "# hand-set: no licensed labelled data; checked on the probe sets under tests/"
            )
            queue, reject = settings["queue"], settings["reject"]
        lines.append(f"enabled = {'true' if settings['enabled'] else 'false'}")
        lines.append(f"queue = {queue}")
        lines.append(f"reject = {reject}")
    return "\n".join(lines) + "\n"


def _floor2(value: float) -> float:
    return math.floor(value * 100 + 1e-9) / 100


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=int, default=4000, help="rows per dataset (fixed hash sample)"
    )
    parser.add_argument("--datasets", nargs="*", default=sorted(datasets.SHIPPABLE))
    parser.add_argument("--write", action="store_true", help="rewrite default_policy.toml")
    parser.add_argument("--from-json", type=Path, help="reuse a thresholds JSON instead of scoring")
    args = parser.parse_args(argv)
    if args.from_json:
        tuned = json.loads(args.from_json.read_text())
        for found in tuned["rules"].values():
            if found["reject"] < NEVER:
                found["reject"] = max(found["queue"], REJECT_FLOOR, found["reject"])
        current = tomllib.loads(POLICY_PATH.read_text("utf-8"))
        POLICY_PATH.write_text(render_policy(tuned, current), encoding="utf-8")
        print(f"wrote {POLICY_PATH}")
        return 0
    not_shippable = set(args.datasets) - datasets.SHIPPABLE
    if not_shippable:
        parser.error(
            f"not licensed for tuning a shipped policy: {', '.join(sorted(not_shippable))}"
        )
    tuned = tune(args.limit, args.datasets)
    for slug, found in tuned["rules"].items():
        print(
            f"{slug:<17} queue {found['queue']:<5} reject {found['reject']:<5} "
            f"(n={found['n']}, AUC {found['roc_auc']:.3f}, queue P/R {_pct(found['queue_precision'])}/"
            f"{_pct(found['queue_recall'])}, reject P/R {_pct(found['reject_precision'])}/{_pct(found['reject_recall'])})"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "thresholds-latest.json").write_text(json.dumps(tuned, indent=2) + "\n")
    if args.write:
        current = tomllib.loads(POLICY_PATH.read_text("utf-8"))
        POLICY_PATH.write_text(render_policy(tuned, current), encoding="utf-8")
        print(f"wrote {POLICY_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
