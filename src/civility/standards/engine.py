"""The engine: analyse each comment once, run every detector, decide by the policy.

Order of work for a batch (``check_many``):
1. analyse every comment (normalised text, tokens, language, static embedding);
2. run cheap detectors, and the first stage (``screen``) of embedding detectors;
3. embed, in one batch, only the comments some detector could not settle;
4. run the second stage (``detect``) of those detectors;
5. turn scores into a decision with the policy's thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from civility import __version__
from civility.standards.analysis import Analysis, analyse
from civility.standards.detectors import Detector
from civility.standards.policy import Policy, default_policy
from civility.standards.rules import RULES, RULES_BY_SLUG
from civility.standards.types import (
    Comment,
    Context,
    Decision,
    Evidence,
    Finding,
    RecentComment,
    RuleResult,
    TextTooLong,
    Verdict,
)

ENGINE_VERSION = f"civility-standards/{__version__}"


class InMemoryContext:
    """A :class:`Context` over a list held in memory (tests, the CLI's stream)."""

    def __init__(self, comments: Sequence[RecentComment] = ()) -> None:
        self._comments: list[RecentComment] = list(comments)

    def add(self, comment: RecentComment) -> None:
        self._comments.append(comment)

    def recent_comments(
        self, *, since: datetime, author_id: str | None = None, limit: int = 500
    ) -> Sequence[RecentComment]:
        matches = [
            c for c in self._comments
            if c.created_at >= since and (author_id is None or c.author_id == author_id)
        ]
        matches.sort(key=lambda c: c.created_at, reverse=True)
        return matches[:limit]


EMPTY_CONTEXT = InMemoryContext()


def build_detectors(policy: Policy) -> list[Detector]:
    """Instantiate every detector family the engine ships."""
    from civility.standards.detectors import registry

    return [factory(policy) for factory in registry.DETECTORS]


class Engine:
    def __init__(self, policy: Policy | None = None, *, cascade: bool = True) -> None:
        self.policy = policy or default_policy()
        self.cascade = cascade
        self.detectors = build_detectors(self.policy)
        self._needs_embedding = any(d.uses_embedding for d in self.detectors)

    @property
    def version(self) -> str:
        return ENGINE_VERSION

    def check(self, comment: Comment, context: Context | None = None) -> Verdict:
        return self.check_many([comment], context)[0]

    def check_many(self, comments: Sequence[Comment], context: Context | None = None) -> list[Verdict]:
        context = context or EMPTY_CONTEXT
        for comment in comments:
            if len(comment.text) > self.policy.max_length:
                raise TextTooLong(
                    f"comment is {len(comment.text)} characters; the maximum is {self.policy.max_length}"
                )
        analyses = [analyse(comment) for comment in comments]
        self._prepare(analyses)
        findings: list[dict[str, Finding]] = [{} for _ in analyses]
        deferred: list[tuple[int, Detector]] = []
        for index, analysis in enumerate(analyses):
            for detector in self.detectors:
                if detector.uses_embedding:
                    screened = detector.screen(analysis, context) if self.cascade else None
                    if screened is None:
                        deferred.append((index, detector))
                        continue
                    findings[index].update(screened)
                else:
                    findings[index].update(detector.detect(analysis, context))
        if deferred:
            self._embed([analyses[i] for i in sorted({i for i, _ in deferred})])
            for index, detector in deferred:
                findings[index].update(detector.detect(analyses[index], context))
        deferred_indices = {i for i, _ in deferred}
        return [
            self._decide(analysis, found, stage="full" if i in deferred_indices else "screen")
            for i, (analysis, found) in enumerate(zip(analyses, findings, strict=True))
        ]

    def _prepare(self, analyses: list[Analysis]) -> None:
        """Fill the parts of the analysis every detector may read (language, static vector)."""
        from civility.standards import embedding, language

        language.annotate(analyses, self.policy)
        if self._needs_embedding:
            embedding.annotate_static(analyses)

    def _embed(self, analyses: list[Analysis]) -> None:
        from civility.standards import embedding

        embedding.annotate_full([a for a in analyses if a.embedding is None])

    def _decide(self, analysis: Analysis, findings: dict[str, Finding], *, stage: str) -> Verdict:
        results: dict[str, RuleResult] = {}
        evidence: list[Evidence] = []
        decision = Decision.PUBLISH
        for rule in RULES:
            settings = self.policy.rule(rule.slug)
            finding = findings.get(rule.slug, Finding(score=0.0))
            score = min(1.0, max(0.0, float(finding.score)))
            fired = settings.enabled and score >= settings.queue
            results[rule.slug] = RuleResult(
                slug=rule.slug,
                number=RULES_BY_SLUG[rule.slug].number,
                score=score,
                queue_threshold=settings.queue,
                reject_threshold=settings.reject,
                enabled=settings.enabled,
                fired=fired,
                available=finding.available,
            )
            if not settings.enabled:
                continue
            if fired:
                evidence.extend(finding.evidence)
                if score >= settings.reject and finding.available:
                    decision = Decision.REJECT
                elif decision is Decision.PUBLISH:
                    decision = Decision.QUEUE
            elif not finding.available and decision is Decision.PUBLISH:
                decision = Decision.QUEUE
        return Verdict(
            decision=decision,
            results=results,
            evidence=tuple(evidence),
            engine_version=ENGINE_VERSION,
            policy_version=self.policy.version,
            language=analysis.language,
            stage=stage,
        )


def now() -> datetime:
    return datetime.now(UTC)
