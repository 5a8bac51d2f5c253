"""Accuracy of the deterministic rules on the shared datasets' held-out (test) part.

    python benchmarks/rules_accuracy.py [--part test|train] [profanity privacy malware_link foreign_language]

- profanity: davidson_hate_offensive, ROC-AUC of the profanity score (label ``profanity``);
- privacy: pii_presidio_synth, span precision/recall/F1 (overlap matching, see below) over the
  entity types the dataset maps to ``privacy`` = 1, plus comment-level accuracy;
- malware_link: phishing_urls_iscx_phishtank, ROC-AUC of the URL score (EVALUATION ONLY: the
  set states no licence, nothing is trained on it);
- foreign_language: langid_kaggle17, accuracy at the policy's queue threshold (site language en).

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
from civility.standards.datasets import rows
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


def profanity(part: str) -> dict[str, float]:
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


def privacy(part: str, show_errors: bool = False) -> dict[str, float]:
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


def malware_link(part: str) -> dict[str, float]:
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


def foreign_language(part: str) -> dict[str, float]:
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


TASKS = {
    "profanity": profanity,
    "privacy": privacy,
    "malware_link": malware_link,
    "foreign_language": foreign_language,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tasks", nargs="*", default=list(TASKS), choices=[*TASKS, []])
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
