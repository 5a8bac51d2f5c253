"""Accuracy of the deterministic rules on the shared datasets' held-out (test) part.

    python benchmarks/rules_accuracy.py [--part test|train] [profanity privacy malware_link foreign_language]

- profanity: davidson_hate_offensive, ROC-AUC of the profanity score (label ``profanity``);
- privacy: pii_presidio_synth, span precision/recall/F1 (overlap matching, see below) over the
  entity types the dataset maps to ``privacy`` = 1, plus comment-level accuracy;
- malware_link: phishing_urls_iscx_phishtank, ROC-AUC of the URL score (EVALUATION ONLY: the
  set states no licence, nothing is trained on it);
- foreign_language: langid_kaggle17, accuracy at the policy's queue threshold (site language en);
- timing: microseconds per comment for analyse(), language.annotate() and each detector.

Span matching for privacy: a gold span is *found* when some predicted span overlaps it by at
least one character; a predicted span is *correct* when it overlaps some gold span of a
privacy type. Precision = correct / predicted, recall = found / gold, F1 their harmonic mean.
Overlap (not exact) matching because span boundaries of addresses are conventions (does
"Apt. 5" or the country belong to the address?) that a moderator does not care about.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from civility.standards.analysis import analyse
from civility.standards.datasets import Part, rows
from civility.standards.engine import EMPTY_CONTEXT
from civility.standards.policy import default_policy
from civility.standards.types import Comment

PRIVACY_TYPES = {
    "CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS",
    "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_PASSPORT", "US_SSN",
}  # fmt: skip


def roc_auc(labels: list[int], scores: list[float]) -> float:
    """Mann-Whitney ROC-AUC with ties counted half."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=float)
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=float)
    sorted_scores = s[order]
    index = 0
    while index < len(s):
        stop = index
        while stop + 1 < len(s) and sorted_scores[stop + 1] == sorted_scores[index]:
            stop += 1
        ranks[order[index : stop + 1]] = (index + stop) / 2 + 1
        index = stop + 1
    positives = int(y.sum())
    negatives = len(y) - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def profanity(part: Part) -> dict[str, float]:
    from civility.standards.detectors.profanity import ProfanityDetector

    detector = ProfanityDetector(default_policy())
    labels, scores = [], []
    started = time.perf_counter()
    for row in rows("davidson_hate_offensive", part):
        finding = detector.detect(analyse(Comment(row["text"])), EMPTY_CONTEXT)["profanity"]
        labels.append(row["labels"]["profanity"])
        scores.append(finding.score)
    elapsed = time.perf_counter() - started
    return {
        "roc_auc": roc_auc(labels, scores),
        "rows": len(labels),
        "us_per_comment": elapsed / len(labels) * 1e6,
    }


def privacy(part: Part, show_errors: bool = False) -> dict[str, float]:
    from civility.standards.detectors.privacy import PrivacyDetector

    detector = PrivacyDetector(default_policy())
    predicted = correct = gold_total = found = 0
    right = total = 0
    started = time.perf_counter()
    for row in rows("pii_presidio_synth", part):
        finding = detector.detect(analyse(Comment(row["text"])), EMPTY_CONTEXT)["privacy"]
        spans = [
            (e.start, e.end) for e in finding.evidence if e.start is not None and e.end is not None
        ]
        gold = [(g["start"], g["end"]) for g in row["spans"] if g["type"] in PRIVACY_TYPES]
        every_gold = [(g["start"], g["end"]) for g in row["spans"]]
        predicted += len(spans)
        gold_total += len(gold)
        for start, end in spans:
            hit = any(start < ge and gs < end for gs, ge in gold)
            correct += hit
            if show_errors and not hit:
                other = any(start < ge and gs < end for gs, ge in every_gold)
                print(
                    "FP",
                    "(other entity)" if other else "",
                    repr(row["text"][start:end]),
                    "||",
                    repr(row["text"][:160]),
                )
        for gs, ge in gold:
            hit = any(start < ge and gs < end for start, end in spans)
            found += hit
            if show_errors and not hit:
                print("FN", repr(row["text"][gs:ge]), "||", repr(row["text"][:160]))
        total += 1
        right += (finding.score >= 0.5) == bool(row["labels"]["privacy"])
    elapsed = time.perf_counter() - started
    precision = correct / predicted if predicted else 0.0
    recall = found / gold_total if gold_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "span_precision": precision, "span_recall": recall, "span_f1": f1,
        "comment_accuracy": right / total, "rows": total, "us_per_comment": elapsed / total * 1e6,
    }  # fmt: skip


def malware_link(part: Part) -> dict[str, float]:
    from civility.standards.detectors.links import MalwareLinkDetector

    detector = MalwareLinkDetector(default_policy())
    labels, scores = [], []
    started = time.perf_counter()
    for row in rows("phishing_urls_iscx_phishtank", part):
        finding = detector.detect(analyse(Comment(row["text"])), EMPTY_CONTEXT)["malware_link"]
        labels.append(row["labels"]["malware_link"])
        scores.append(finding.score)
    elapsed = time.perf_counter() - started
    return {
        "roc_auc": roc_auc(labels, scores),
        "rows": len(labels),
        "us_per_comment": elapsed / len(labels) * 1e6,
    }


def foreign_language(part: Part) -> dict[str, float]:
    from civility.standards import language
    from civility.standards.detectors.foreign import ForeignLanguageDetector

    policy = default_policy().with_languages(["en"])
    detector = ForeignLanguageDetector(policy)
    right = total = 0
    started = time.perf_counter()
    for row in rows("langid_kaggle17", part):
        analysis = analyse(Comment(row["text"]))
        language.annotate([analysis], policy)
        finding = detector.detect(analysis, EMPTY_CONTEXT)["foreign_language"]
        right += (finding.score >= policy.rule("foreign_language").queue) == bool(
            row["labels"]["foreign_language"]
        )
        total += 1
    elapsed = time.perf_counter() - started
    return {"accuracy": right / total, "rows": total, "us_per_comment": elapsed / total * 1e6}


def timing(part: Part, size: int = 3000) -> dict[str, float]:
    """CPU microseconds (process time, so other jobs on the machine do not inflate it) per
    comment for analyse(), language.annotate() and each detector, on a
    mix of tweets, YouTube comments and news comments, replayed as a stream one second
    apart (so flash_mob and flood see a realistic window)."""
    from datetime import UTC, datetime, timedelta

    from civility.standards import language
    from civility.standards.detectors.crowd import FlashMobDetector, FloodDetector
    from civility.standards.detectors.foreign import ForeignLanguageDetector
    from civility.standards.detectors.links import MalwareLinkDetector
    from civility.standards.detectors.privacy import PrivacyDetector
    from civility.standards.detectors.profanity import ProfanityDetector
    from civility.standards.detectors.style import ShoutingDetector
    from civility.standards.engine import InMemoryContext
    from civility.standards.types import RecentComment

    texts: list[str] = []
    for name in (
        "davidson_hate_offensive",
        "youtube_spam",
        "fox_news_comments_hate",
        "civil_comments_toxic_spans",
    ):
        texts.extend(
            row["text"] for _, row in zip(range(size // 4), rows(name, part), strict=False)
        )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    comments = [
        Comment(
            text=text, id=f"t{i}", author_id=f"a{i % 97}", created_at=start + timedelta(seconds=i)
        )
        for i, text in enumerate(texts)
    ]
    policy = default_policy()
    results: dict[str, float] = {"comments": float(len(comments))}
    began = time.process_time()
    analyses = [analyse(comment) for comment in comments]
    results["analyse_us"] = (time.process_time() - began) / len(comments) * 1e6
    began = time.process_time()
    language.annotate(analyses, policy)
    results["language_us"] = (time.process_time() - began) / len(comments) * 1e6
    context = InMemoryContext(
        [RecentComment(c.id, c.author_id, c.text, c.created_at or start) for c in comments]
    )
    began = time.process_time()
    for comment in comments:
        moment = comment.created_at or start
        context.recent_comments(
            since=moment - timedelta(minutes=policy.flash_mob_window_minutes), limit=1000
        )
        context.recent_comments(
            since=moment - timedelta(minutes=policy.flood_window_minutes),
            author_id=comment.author_id,
        )
    # The in-memory context scans its whole list per call; the detectors' figures include it.
    results["context_lookups_us"] = (time.process_time() - began) / len(comments) * 1e6
    detectors = [
        ProfanityDetector(policy), PrivacyDetector(policy), MalwareLinkDetector(policy),
        ShoutingDetector(policy), ForeignLanguageDetector(policy), FlashMobDetector(policy),
        FloodDetector(policy),
    ]  # fmt: skip
    for detector in detectors:
        began = time.process_time()
        for analysis in analyses:
            detector.detect(analysis, context)
        results[f"{type(detector).__name__}_us"] = (
            (time.process_time() - began) / len(comments) * 1e6
        )
    return results


TASKS = {
    "profanity": profanity,
    "privacy": privacy,
    "malware_link": malware_link,
    "foreign_language": foreign_language,
    "timing": timing,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tasks", nargs="*", choices=[*TASKS, []], help="default: all")
    parser.add_argument("--part", default="test", choices=["train", "test"])
    parser.add_argument("--errors", action="store_true", help="print privacy span errors")
    args = parser.parse_args(argv)
    results = {}
    for task in args.tasks or list(TASKS):
        if task == "privacy":
            results[task] = privacy(args.part, args.errors)
        else:
            results[task] = TASKS[task](args.part)
        print(task, json.dumps({k: round(v, 4) for k, v in results[task].items()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
