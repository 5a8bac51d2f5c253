"""``civility evaluate``: score the engine on labelled JSONL datasets.

    civility evaluate DATASET... [--out DIR] [--part test|train|all] [--limit N] [--no-cascade]

A DATASET is a folder name under the shared datasets root (``davidson_hate_offensive``), a
folder holding ``data.jsonl``, or a JSONL path. By default only the *test* part of the fixed
split (:mod:`civility.standards.datasets`) is read: the part no shipped model was trained or
tuned on.

For every rule with labels: ROC-AUC, AUPRC (average precision), F1 with precision, recall and
confusion counts at the policy's queue threshold (a score at or above it counts as positive),
and the same counts at the reject threshold. A label key that is absent from a row means
"not annotated" and the row is skipped for that rule, never counted as a negative. Fractional
labels (annotator shares) count as positive from 0.5. Keys ``topic:*`` and ``src:*`` are not
rules and are ignored. Privacy also gets span F1 where rows carry ``spans``, and
foreign_language its accuracy.

It writes ``report.md``, ``report.json`` and precision-recall curves (``pr_<rule>.png``) into
``--out`` (default ``./eval-out``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from civility.standards import datasets
from civility.standards.cli.metrics import (
    average_precision,
    confusion,
    precision_recall_curve,
    roc_auc,
    span_scores,
)
from civility.standards.engine import Engine
from civility.standards.policy import Policy, PolicyError, default_policy
from civility.standards.rules import SLUGS
from civility.standards.types import Article, Comment, TextTooLong, Verdict

# Presidio entity types that are personal data in a news comment (the dataset README's
# mapping for the `privacy` label); names, places and organisations alone are not.
PRIVACY_SPAN_TYPES = frozenset({
    "CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS",
    "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_PASSPORT", "US_SSN",
})  # fmt: skip
BATCH_SIZE = 256
POOLED = "all"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "datasets", nargs="+", metavar="DATASET", help="dataset folder name, folder, or JSONL file"
    )
    parser.add_argument(
        "--out", default="eval-out", metavar="DIR", help="report folder (default ./eval-out)"
    )
    parser.add_argument(
        "--part",
        choices=("test", "train", "all"),
        default="test",
        help="part of the fixed split to read (default: test, the held-out part)",
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="at most N rows per dataset (a fixed hash sample)"
    )
    parser.add_argument("--policy", metavar="FILE", help="policy whose thresholds are evaluated")
    parser.add_argument(
        "--no-cascade",
        dest="cascade",
        action="store_false",
        help="run the full model on every comment, to compare against the cascade",
    )
    parser.add_argument(
        "--compare-cascade", action="store_true",
        help="also run without the cascade and report both, rule by rule",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    try:
        policy = Policy.load(args.policy) if args.policy else default_policy()
    except PolicyError as exc:
        print(f"civility evaluate: error: policy: {exc}", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit <= 0:
        print("civility evaluate: error: --limit must be positive", file=sys.stderr)
        return 2
    try:
        paths = [resolve(name) for name in args.datasets]
    except FileNotFoundError as exc:
        print(f"civility evaluate: error: {exc}", file=sys.stderr)
        return 2
    engine = Engine(policy, cascade=args.cascade)
    try:
        report = evaluate(
            engine, paths, part=args.part, limit=args.limit, progress=sys.stderr.isatty()
        )
        if args.compare_cascade and args.cascade:
            full = evaluate(
                Engine(policy, cascade=False), paths, part=args.part, limit=args.limit,
                progress=sys.stderr.isatty(),
            )  # fmt: skip
            report["cascade_comparison"] = compare(report, full)
    except DatasetError as exc:
        print(f"civility evaluate: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    written = write_report(report, out)
    print(render_summary(report))
    print(
        f"wrote {', '.join(str(p) for p in written[:3])}"
        + (f" and {len(written) - 3} more" if len(written) > 3 else "")
    )
    return 0


class DatasetError(ValueError):
    """A dataset file cannot be read as labelled JSONL."""


def resolve(name: str) -> Path:
    """A dataset name under the shared root, a folder with data.jsonl, or a JSONL file."""
    path = Path(name)
    if path.is_file():
        return path
    if path.is_dir():
        if (path / "data.jsonl").is_file():
            return path / "data.jsonl"
        raise FileNotFoundError(f"{path}: folder has no data.jsonl")
    shared = datasets.shared_root() / name / "data.jsonl"
    if shared.is_file():
        return shared
    raise FileNotFoundError(
        f"{name}: no such file, folder or dataset under {datasets.shared_root()}"
    )


def dataset_name(path: Path) -> str:
    return path.parent.name if path.name == "data.jsonl" else path.stem


# -- scoring ---------------------------------------------------------------------------------


@dataclass
class _Collected:
    """Scores and labels of one (dataset, rule), appended as rows are judged."""

    scores: list[float] = field(default_factory=list)
    labels: list[bool] = field(default_factory=list)


@dataclass
class _Spans:
    gold: list[list[tuple[int, int]]] = field(default_factory=list)
    predicted: list[list[tuple[int, int]]] = field(default_factory=list)


def sample(rows: Iterable[dict[str, Any]], limit: int | None, name: str) -> list[dict[str, Any]]:
    """All rows, or a fixed pseudo-random ``limit`` of them (by id hash, in file order)."""
    selected = list(rows)
    if limit is None or len(selected) <= limit:
        return selected
    keyed = sorted(
        range(len(selected)),
        key=lambda i: hashlib.sha256(f"{name}:{selected[i].get('id', i)}".encode()).digest(),
    )
    keep = sorted(keyed[:limit])
    return [selected[i] for i in keep]


def row_comment(row: dict[str, Any], number: int) -> Comment:
    text = row.get("text")
    if not isinstance(text, str):
        raise DatasetError(f"row {number}: 'text' must be a string")
    article = None
    title = row.get("article")
    if isinstance(title, str) and title:
        lead = row.get("article_description")
        article = Article(title=title, lead=lead if isinstance(lead, str) else "", key=title)
    parent = row.get("parent_text")
    # The row's "lang" is the answer for foreign_language: never hand it to the engine.
    return Comment(
        text=text,
        id=str(row.get("id", number)),
        article=article,
        parent_text=parent if isinstance(parent, str) else "",
    )


def rule_labels(row: dict[str, Any]) -> dict[str, bool]:
    """The row's labels that name a rule; fractional scores count as positive from 0.5."""
    raw = row.get("labels")
    if not isinstance(raw, dict):
        return {}
    labels = {}
    for key, value in raw.items():
        if key not in SLUGS or value is None or isinstance(value, bool | str):
            continue  # topic:* and src:* are not rules; absent or null is "not annotated"
        try:
            labels[key] = float(value) >= 0.5
        except (TypeError, ValueError):
            continue
    return labels


def evaluate(
    engine: Engine,
    paths: list[Path],
    *,
    part: datasets.Part = "test",
    limit: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    collected: dict[tuple[str, str], _Collected] = defaultdict(_Collected)
    spans = _Spans()
    stages: Counter[str] = Counter()
    counts: dict[str, dict[str, int]] = {}
    started = time.perf_counter()
    judged = 0
    for path in paths:
        name = dataset_name(path)
        try:
            rows = sample(datasets.rows(path, part=part), limit, name)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}: not JSONL: {exc}") from exc
        counts[name] = {"rows": len(rows), "too_long": 0, "unlabelled": 0}
        bar = _bar(len(rows), name) if progress else None
        for batch in _batches(rows, BATCH_SIZE):
            comments = [row_comment(row, i) for i, row in batch]
            for (_, row), verdict in zip(batch, _judge(engine, comments), strict=True):
                if verdict is None:
                    counts[name]["too_long"] += 1
                    continue
                stages[verdict.stage] += 1
                labels = rule_labels(row)
                if not labels:
                    counts[name]["unlabelled"] += 1
                for slug, positive in labels.items():
                    entry = collected[(name, slug)]
                    entry.scores.append(verdict.scores[slug])
                    entry.labels.append(positive)
                if "privacy" in labels and isinstance(row.get("spans"), list):
                    spans.gold.append(_gold_privacy_spans(row["spans"]))
                    spans.predicted.append(
                        [
                            (e.start, e.end)
                            for e in verdict.evidence
                            if e.slug == "privacy" and e.start is not None and e.end is not None
                        ]
                    )
            judged += len(batch)
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    return _report(
        engine,
        collected,
        spans,
        stages,
        counts,
        part=part,
        limit=limit,
        judged=judged,
        elapsed=elapsed,
    )


def _judge(engine: Engine, comments: list[Comment]) -> list[Verdict | None]:
    try:
        return list(engine.check_many(comments))
    except TextTooLong:
        # Rare: judge one by one so only the over-long rows drop out (and are counted).
        verdicts: list[Verdict | None] = []
        for comment in comments:
            try:
                verdicts.append(engine.check(comment))
            except TextTooLong:
                verdicts.append(None)
        return verdicts


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    numbered = list(enumerate(rows, 1))
    for start in range(0, len(numbered), size):
        yield numbered[start : start + size]


def _gold_privacy_spans(raw: list[Any]) -> list[tuple[int, int]]:
    gold = []
    for span in raw:
        if isinstance(span, dict) and span.get("type") in PRIVACY_SPAN_TYPES:
            gold.append((int(span["start"]), int(span["end"])))
    return gold


def _bar(total: int, name: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit=" comments", file=sys.stderr)


def _rule_entry(
    labels_list: list[bool], scores_list: list[float], queue: float, reject: float
) -> dict[str, Any]:
    labels = np.asarray(labels_list, dtype=bool)
    scores = np.asarray(scores_list, dtype=np.float64)
    at_queue = confusion(labels, scores, queue)
    at_reject = confusion(labels, scores, reject)
    return {
        "n": int(labels.size),
        "positives": int(labels.sum()),
        "roc_auc": roc_auc(labels, scores),
        "auprc": average_precision(labels, scores),
        "queue_threshold": queue,
        "reject_threshold": reject,
        "at_queue": at_queue.to_dict(),
        "at_reject": at_reject.to_dict(),
        "f1": at_queue.f1,
        "accuracy": at_queue.accuracy,
    }


def _report(
    engine: Engine,
    collected: dict[tuple[str, str], _Collected],
    spans: _Spans,
    stages: Counter[str],
    counts: dict[str, dict[str, int]],
    *,
    part: str,
    limit: int | None,
    judged: int,
    elapsed: float,
) -> dict[str, Any]:
    per_dataset: dict[str, dict[str, Any]] = defaultdict(dict)
    pooled: dict[str, _Collected] = defaultdict(_Collected)
    for (name, slug), entry in sorted(collected.items()):
        rule = engine.policy.rule(slug)
        per_dataset[name][slug] = _rule_entry(entry.labels, entry.scores, rule.queue, rule.reject)
        pooled[slug].labels.extend(entry.labels)
        pooled[slug].scores.extend(entry.scores)
    per_rule = {}
    for slug in SLUGS:
        if slug in pooled:
            rule = engine.policy.rule(slug)
            per_rule[slug] = _rule_entry(
                pooled[slug].labels, pooled[slug].scores, rule.queue, rule.reject
            )
    report: dict[str, Any] = {
        "engine_version": engine.version,
        "policy_version": engine.policy_version,
        "cascade": engine.cascade,
        "part": part,
        "limit": limit,
        "comments": judged,
        "seconds": round(elapsed, 2),
        "comments_per_second": round(judged / elapsed, 1) if elapsed > 0 else None,
        "stages": dict(stages),
        "datasets": counts,
        "rules": per_rule,
        "per_dataset": dict(per_dataset),
        "detectors": [type(d).__name__ for d in engine.detectors],
        # Rules no loaded detector scores: their 0.5 ROC-AUC says "missing", not "bad".
        "unscored_rules": [
            slug for slug in SLUGS if not any(slug in d.slugs for d in engine.detectors)
        ],
    }
    if spans.gold:
        report["privacy_spans"] = span_scores(spans.gold, spans.predicted)
    if "foreign_language" in per_rule:
        report["foreign_language_accuracy"] = per_rule["foreign_language"]["accuracy"]
    report["_curves"] = {  # not written to JSON: the PNGs carry them
        "pooled": {slug: pooled[slug] for slug in per_rule},
        "per_dataset": {key: value for key, value in collected.items()},
    }
    return report


def compare(cascade: dict[str, Any], full: dict[str, Any]) -> dict[str, Any]:
    """Per rule, the cascade's scores next to the full model's on every comment."""
    rules = {}
    for slug, on in cascade["rules"].items():
        off = full["rules"].get(slug)
        if off is None:
            continue
        rules[slug] = {
            metric: {"cascade": on[metric], "full": off[metric]}
            for metric in ("roc_auc", "auprc", "f1")
        }
    return {
        "rules": rules,
        "comments_per_second": {
            "cascade": cascade["comments_per_second"],
            "full": full["comments_per_second"],
        },
        "screened": cascade["stages"].get("screen", 0),
        "comments": cascade["comments"],
    }


# -- output ----------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Civility engine evaluation",
        "",
        f"- engine `{report['engine_version']}`, policy `{report['policy_version']}`, "
        f"cascade {'on' if report['cascade'] else 'off'}",
        f"- part `{report['part']}` of the fixed split"
        + (f", at most {report['limit']} rows per dataset" if report["limit"] else ""),
        f"- {report['comments']:,} comments in {report['seconds']} s "
        f"({_fmt(report['comments_per_second'], 1)}/s); stages: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(report["stages"].items())),
        f"- detectors: {', '.join(report['detectors']) or 'none'}",
        f"- rules no detector scores (always 0): {', '.join(report['unscored_rules']) or 'none'}",
        "- a row counts for a rule only where that rule is labelled (absent = not annotated);",
        "  F1, precision and recall are at the queue threshold (score ≥ queue = positive).",
        "",
        "## Per rule (all datasets pooled)",
        "",
        *_table(report["rules"], first="rule"),
        "",
    ]
    if "privacy_spans" in report:
        s = report["privacy_spans"]
        lines += [
            "## Privacy spans",
            "",
            "| char F1 | char P | char R | span F1 (overlap) | span P | span R | gold | predicted |",
            "|---|---|---|---|---|---|---|---|",
            f"| {_fmt(s['char_f1'])} | {_fmt(s['char_precision'])} | {_fmt(s['char_recall'])} | "
            f"{_fmt(s['span_f1_overlap'])} | {_fmt(s['span_precision'])} | {_fmt(s['span_recall'])} | "
            f"{s['gold_spans']} | {s['predicted_spans']} |",
            "",
        ]
    if "foreign_language_accuracy" in report:
        lines += [
            f"**foreign_language accuracy**: {_fmt(report['foreign_language_accuracy'], 4)}",
            "",
        ]
    if "cascade_comparison" in report:
        comparison = report["cascade_comparison"]
        speed = comparison["comments_per_second"]
        lines += [
            "## Cascade against the full model on every comment",
            "",
            f"{comparison['screened']:,} of {comparison['comments']:,} comments settled by the "
            f"first stage; {_fmt(speed['cascade'], 1)}/s with the cascade, "
            f"{_fmt(speed['full'], 1)}/s without.",
            "",
            "| rule | ROC-AUC cascade | ROC-AUC full | AUPRC cascade | AUPRC full | F1 cascade | F1 full |",
            "|---|---|---|---|---|---|---|",
        ]
        for slug, m in comparison["rules"].items():
            lines.append(
                f"| {slug} | {_fmt(m['roc_auc']['cascade'])} | {_fmt(m['roc_auc']['full'])} | "
                f"{_fmt(m['auprc']['cascade'])} | {_fmt(m['auprc']['full'])} | "
                f"{_fmt(m['f1']['cascade'])} | {_fmt(m['f1']['full'])} |"
            )
        lines.append("")
    lines += ["## Per dataset", ""]
    for name, rules in report["per_dataset"].items():
        info = report["datasets"].get(name, {})
        lines += [
            f"### {name}",
            "",
            f"{info.get('rows', 0):,} rows; {info.get('unlabelled', 0):,} with no rule label; "
            f"{info.get('too_long', 0):,} over max_length (skipped).",
            "",
            *_table(rules, first="rule"),
            "",
        ]
    lines += ["Precision-recall curves: `pr_<rule>.png`.", ""]
    return "\n".join(lines)


def _table(rules: dict[str, dict[str, Any]], *, first: str) -> list[str]:
    rows = [
        f"| {first} | n | pos | ROC-AUC | AUPRC | F1 | P | R | TP | FP | FN | TN | queue | reject | P@reject | R@reject |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for slug, m in rules.items():
        q, r = m["at_queue"], m["at_reject"]
        rows.append(
            f"| {slug} | {m['n']:,} | {m['positives']:,} | {_fmt(m['roc_auc'])} | {_fmt(m['auprc'])} | "
            f"{_fmt(q['f1'])} | {_fmt(q['precision'])} | {_fmt(q['recall'])} | {q['tp']} | {q['fp']} | "
            f"{q['fn']} | {q['tn']} | {m['queue_threshold']:.2f} | {m['reject_threshold']:.2f} | "
            f"{_fmt(r['precision'])} | {_fmt(r['recall'])} |"
        )
    return rows


def render_summary(report: dict[str, Any]) -> str:
    lines = [f"{'rule':<17} {'n':>7} {'pos':>6} {'ROC-AUC':>8} {'AUPRC':>7} {'F1':>6}"]
    for slug, m in report["rules"].items():
        lines.append(
            f"{slug:<17} {m['n']:>7} {m['positives']:>6} {_fmt(m['roc_auc']):>8} "
            f"{_fmt(m['auprc']):>7} {_fmt(m['f1']):>6}"
        )
    if "privacy_spans" in report:
        lines.append(f"privacy span F1 (chars) {_fmt(report['privacy_spans']['char_f1'])}")
    if "foreign_language_accuracy" in report:
        lines.append(f"foreign_language accuracy {_fmt(report['foreign_language_accuracy'], 4)}")
    lines.append(
        f"{report['comments']} comments, {_fmt(report['comments_per_second'], 1)}/s, cascade "
        + ("on" if report["cascade"] else "off")
    )
    if "cascade_comparison" in report:
        lines.append("cascade vs full model (ROC-AUC):")
        for slug, m in report["cascade_comparison"]["rules"].items():
            lines.append(
                f"  {slug:<17} {_fmt(m['roc_auc']['cascade'])} vs {_fmt(m['roc_auc']['full'])}"
            )
    return "\n".join(lines)


def write_report(report: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    curves = report.get("_curves", {"pooled": {}, "per_dataset": {}})
    public = {key: value for key, value in report.items() if not key.startswith("_")}
    markdown = out / "report.md"
    markdown.write_text(render_markdown(public), encoding="utf-8")
    data = out / "report.json"
    data.write_text(json.dumps(public, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return [markdown, data, *_plot_curves(public, curves, out)]


def _plot_curves(report: dict[str, Any], curves: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for slug, pooled in curves["pooled"].items():
        labels = np.asarray(pooled.labels, dtype=bool)
        if not labels.any():
            continue
        figure, axes = plt.subplots(figsize=(6, 4.5), dpi=100)
        series = [
            (name, entry)
            for (name, rule), entry in sorted(curves["per_dataset"].items())
            if rule == slug and any(entry.labels)
        ]
        if len(series) > 1:
            series.append((POOLED, pooled))
        for name, entry in series:
            y = np.asarray(entry.labels, dtype=bool)
            s = np.asarray(entry.scores, dtype=np.float64)
            precision, recall, _ = precision_recall_curve(y, s)
            ap = average_precision(y, s)
            axes.step(
                np.r_[0.0, recall], np.r_[precision[0], precision], where="post",
                label=f"{name} (AP {_fmt(ap)}, n={y.size})",
                linewidth=2.2 if name == POOLED else 1.4,
            )  # fmt: skip
        rule = report["rules"][slug]
        metrics = rule["at_queue"]
        if metrics["recall"] is not None and metrics["precision"] is not None:
            axes.plot(
                metrics["recall"], metrics["precision"], "o", color="black",
                label=f"queue threshold {rule['queue_threshold']:.2f}",
            )  # fmt: skip
        axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1.01), ylim=(0, 1.02))
        axes.set_title(f"{slug}: precision-recall ({report['part']} part)")
        axes.grid(alpha=0.3)
        axes.legend(loc="lower left", fontsize=7)
        figure.tight_layout()
        path = out / f"pr_{slug}.png"
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    return written
