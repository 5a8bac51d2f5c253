"""Value types shared by the engine, its detectors and its callers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class TextTooLong(ValueError):
    """The comment is longer than the policy's ``max_length``; it is refused, not judged."""


class Decision(StrEnum):
    PUBLISH = "publish"
    QUEUE = "queue"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Article:
    title: str = ""
    lead: str = ""
    body: str = ""
    language: str = ""
    key: str = ""  # stable id (slug or URL); lets detectors cache per-article work

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.title, self.lead, self.body) if part)


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    author_id: str = ""
    created_at: datetime | None = None
    parent_text: str = ""
    article: Article | None = None
    id: str = ""
    language: str = ""  # declared language, if the caller knows it; a hint, never trusted blindly


@dataclass(frozen=True, slots=True)
class RecentComment:
    """A comment already seen, as the cross-comment rules (flash_mob, flood) need it."""

    id: str
    author_id: str
    text: str
    created_at: datetime
    article_key: str = ""


class Context(Protocol):
    """Access to recent comments. The web app implements it over the database, the CLI over
    the stream it reads, tests in memory. Implementations return comments created at or after
    ``since``, newest first; detectors exclude the comment being judged themselves."""

    def recent_comments(
        self, *, since: datetime, author_id: str | None = None, limit: int = 500
    ) -> Sequence[RecentComment]: ...


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a rule scored what it did. ``start``/``end`` index the comment's original text."""

    slug: str
    explanation: str
    start: int | None = None
    end: int | None = None
    text: str = ""
    url: str = ""
    comment_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.slug, "explanation": self.explanation}
        if self.start is not None and self.end is not None:
            data.update(start=self.start, end=self.end, text=self.text)
        if self.url:
            data["url"] = self.url
        if self.comment_ids:
            data["comment_ids"] = list(self.comment_ids)
        return data


@dataclass(slots=True)
class Finding:
    """What one detector says about one rule: a score in [0, 1] and its evidence."""

    score: float
    evidence: list[Evidence] = field(default_factory=list)
    available: bool = True  # False: the rule cannot judge this language; the engine queues instead
    # First-stage findings only (``Detector.estimate_many``): the most the second stage could
    # score this rule. None means the score is final.
    ceiling: float | None = None


@dataclass(frozen=True, slots=True)
class RuleResult:
    slug: str
    number: int
    score: float
    queue_threshold: float
    reject_threshold: float
    enabled: bool
    fired: bool  # enabled, available and score >= queue_threshold
    available: bool = True  # False: the rule could not judge this comment; it was held instead

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "queue": self.queue_threshold,
            "reject": self.reject_threshold,
            "enabled": self.enabled,
            "fired": self.fired,
            "available": self.available,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    results: dict[str, RuleResult]
    evidence: tuple[Evidence, ...]
    engine_version: str
    policy_version: str
    language: str = ""
    stage: str = "full"  # "screen" when the cheap first stage settled it

    @property
    def fired(self) -> list[str]:
        return [slug for slug, result in self.results.items() if result.fired]

    @property
    def unavailable(self) -> list[str]:
        """Enabled rules that could not judge this comment (they hold it for a moderator)."""
        return [
            slug for slug, result in self.results.items() if result.enabled and not result.available
        ]

    @property
    def scores(self) -> dict[str, float]:
        return {slug: result.score for slug, result in self.results.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.value,
            "rules": self.fired,
            "scores": {slug: round(score, 4) for slug, score in self.scores.items()},
            "evidence": [item.to_dict() for item in self.evidence],
            "unavailable": self.unavailable,
            "language": self.language,
            "stage": self.stage,
            "engine_version": self.engine_version,
            "policy_version": self.policy_version,
            "thresholds": {
                slug: {
                    "queue": r.queue_threshold,
                    "reject": r.reject_threshold,
                    "enabled": r.enabled,
                }
                for slug, r in self.results.items()
            },
        }
