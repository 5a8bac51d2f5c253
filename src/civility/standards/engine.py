"""The engine: analyse each comment once, run every detector, decide by the policy.

Order of work for a batch (``check_many``):
1. refuse comments over the policy's ``max_length`` (:class:`TextTooLong`) before any work;
2. analyse every comment (normalised text, tokens, language, static embedding);
3. run the cheap families listed before the first embedding family (privacy, links, style,
   language, crowd), and the later cheap ones (profanity) once without any first-stage value:
   together they give each comment a *floor*, the decision it cannot fall below;
4. the first stage (``estimate_many``) of the embedding families: scores from the distilled
   static vector, each with a *ceiling* and a *lower bound* (``LOWER_BOUNDS_CACHE_KEY``), the
   range the full model's score falls in for all but about 1 comment in 1,000 per rule
   (residual bounds calibrated on texts no fit saw; models/README.md);
5. the full model runs only where those ranges leave something open. With
   ``cascade_goal="scores"`` (the default) a comment is settled only where, for every rule,
   the whole range lies in one band (under the queue point, between queue and reject, at or
   over reject): every rule then fires and rejects exactly as with the full model, so the
   decision, the rules named and the evidence levels are the same, and the scores differ
   from the full model's by at most the residual bound. Evidently clean comments (every range
   under the queue point) and evidently bad ones (a range over reject, every other range
   certain) are both settled. With ``cascade_goal="decisions"`` only the decision must stay:
   the floor (raised by what the lower bounds already prove) settles a comment when no
   ceiling reaches the next threshold up; a comment another rule rejects keeps first-stage
   scores for every learned rule, whatever their band.
   Those comments are embedded in one call and every embedding family runs its second stage
   (``detect``) on them; the others keep the first stage's scores (``stage="screen"``);
6. the later cheap families run again, reading what the embedding families left in
   ``analysis.cache``; scores become a decision with the policy's thresholds.

So the cascade can only change a decision where a first-stage bound is wrong.
``benchmarks/engine.py`` measures how often decisions change against ``cascade=False``, where
every comment takes the full model; ``civility evaluate --compare-cascade`` shows the rule
scores' ROC-AUC both ways.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from civility import __version__
from civility.standards.analysis import Analysis, analyse
from civility.standards.detectors import CEILING_SUFFIX, FLOOR_CACHE_KEY, Detector
from civility.standards.detectors.learned_model import LOWER_BOUNDS_CACHE_KEY, LOWER_SUFFIX
from civility.standards.policy import Policy, RulePolicy, default_policy
from civility.standards.rules import RULES
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

logger = logging.getLogger(__name__)

ENGINE_VERSION = f"civility-standards/{__version__}"
DEFAULT_BATCH_SIZE = 256
# What the cascade keeps equal to running the full model on every comment (see the module
# docstring): every score that could reach a queue point, or only the decisions.
CascadeGoal = Literal["scores", "decisions"]
CASCADE_GOALS: tuple[CascadeGoal, ...] = ("scores", "decisions")

# Lone surrogates are valid in a Python str (JSON "\ud800" decodes to one) but not in UTF-8:
# the tokenizer and any UTF-8 output would fail on them. Replacing each with U+FFFD keeps the
# length, so evidence offsets still index the caller's text.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class InMemoryContext:
    """A bounded :class:`Context` held in memory: the CLI's window over its stream, and tests.

    It keeps the last ``max_comments`` comments (oldest dropped first), indexed by author so
    the flood rule's per-author look-ups stay cheap. While comments arrive in time order (the
    usual stream) a look-back is two binary searches and a slice; out-of-order timestamps
    switch it to a backward scan that stops after a run of entries older than ``since``.

    ``before(position)`` gives a view that shows only the ``max_comments`` comments added
    before the one at ``position`` (as returned by :meth:`add`). The CLI adds a whole batch
    first, and with :meth:`Engine.check_stream` the next batch too, before it judges each
    comment against the view of what came before it. ``ahead`` keeps that many comments more
    than ``max_comments``, so that the views of comments not yet judged still find all of
    theirs: with ``ahead`` at least what is added before a comment is judged, verdicts do not
    depend on the batch size or on the pipelining.
    """

    STALE_RUN = 32  # out-of-order streams: consecutive entries older than `since` end a scan

    def __init__(
        self,
        comments: Iterable[RecentComment] = (),
        *,
        max_comments: int = 20_000,
        ahead: int = 0,
    ) -> None:
        if max_comments <= 0:
            raise ValueError("max_comments must be positive")
        if ahead < 0:
            raise ValueError("ahead must not be negative")
        self.max_comments = max_comments
        self.ahead = ahead
        # Parallel lists from index `_head` on (older entries are dropped in chunks, so
        # eviction is amortised O(1) and the lists stay sorted by position for bisect).
        self._positions: list[int] = []
        self._times: list[float] = []
        self._comments: list[RecentComment | None] = []
        self._head = 0
        self._in_time_order = True
        self._by_author: dict[str, deque[tuple[int, float, RecentComment]]] = {}
        self._next_position = 0
        for comment in comments:
            self.add(comment)

    def __len__(self) -> int:
        return len(self._positions) - self._head

    def add(self, comment: RecentComment) -> int:
        """Remember ``comment``; return its position in the stream."""
        if len(self) >= self.max_comments + self.ahead:
            self._drop_oldest()
        moment = _timestamp(comment.created_at)
        if len(self) and moment < self._times[-1]:
            self._in_time_order = False
        position = self._next_position
        self._next_position += 1
        self._positions.append(position)
        self._times.append(moment)
        self._comments.append(comment)
        self._by_author.setdefault(comment.author_id, deque()).append((position, moment, comment))
        return position

    def add_comment(self, comment: Comment) -> Context:
        """Remember ``comment`` as the stream's next one; return its view of what came
        before it (:meth:`before`). A comment in a stream needs its ``created_at``."""
        if comment.created_at is None:
            raise ValueError("a comment added to a stream needs its created_at")
        article_key = comment.article.key if comment.article else ""
        recent = RecentComment(
            comment.id, comment.author_id, comment.text, comment.created_at, article_key
        )
        return self.before(self.add(recent))

    def _drop_oldest(self) -> None:
        oldest = self._comments[self._head]
        assert oldest is not None
        self._comments[self._head] = None
        self._head += 1
        authored = self._by_author.get(oldest.author_id)
        if authored:
            authored.popleft()  # insertion order is shared, so it is the author's oldest too
            if not authored:
                del self._by_author[oldest.author_id]
        if self._head >= 4096 and self._head * 2 >= len(self._positions):
            del self._positions[: self._head]
            del self._times[: self._head]
            del self._comments[: self._head]
            self._head = 0
            self._in_time_order = all(
                a <= b for a, b in zip(self._times, self._times[1:], strict=False)
            )

    def recent_comments(
        self, *, since: datetime, author_id: str | None = None, limit: int = 500
    ) -> Sequence[RecentComment]:
        return self._query(since=since, author_id=author_id, limit=limit, before=None)

    def before(self, position: int) -> Context:
        return _ContextView(self, position)

    def _query(
        self, *, since: datetime, author_id: str | None, limit: int, before: int | None
    ) -> list[RecentComment]:
        if limit <= 0:
            return []
        floor = _timestamp(since)
        if before is None:
            before = self._next_position
        oldest = before - self.max_comments  # the first position the query may see
        if author_id is not None:
            return self._query_author(author_id, floor, limit, before, oldest)
        end = bisect.bisect_left(self._positions, before, self._head)
        first = bisect.bisect_left(self._positions, oldest, self._head, end)
        if self._in_time_order:
            start = bisect.bisect_left(self._times, floor, first, end)
            start = max(start, end - limit)
            found = self._comments[start:end]
            found.reverse()
            return found  # type: ignore[return-value]  # entries from _head on are never None
        scanned = ((self._times[i], self._comments[i]) for i in range(end - 1, first - 1, -1))
        return _collect(scanned, floor, limit, self.STALE_RUN)

    def _query_author(
        self, author_id: str, floor: float, limit: int, before: int, oldest: int
    ) -> list[RecentComment]:
        entries = self._by_author.get(author_id)
        if not entries:
            return []
        newest_first = itertools.dropwhile(lambda entry: entry[0] >= before, reversed(entries))
        scanned = (
            (moment, comment)
            for position, moment, comment in itertools.takewhile(
                lambda entry: entry[0] >= oldest, newest_first
            )
        )
        stale_run = 1 if self._in_time_order else self.STALE_RUN
        return _collect(scanned, floor, limit, stale_run)


def _collect(
    scanned: Iterable[tuple[float, RecentComment | None]], floor: float, limit: int, stale_run: int
) -> list[RecentComment]:
    """The newest ``limit`` entries at or after ``floor``, newest first. The walk back ends
    after ``stale_run`` older entries in a row; in time order (``stale_run == 1``) it also ends
    at ``limit`` matches, since later ones can only be older."""
    in_order = stale_run == 1
    matches: list[tuple[float, RecentComment]] = []
    stale = 0
    for moment, comment in scanned:
        if comment is None:
            continue
        if moment < floor:
            stale += 1
            if stale >= stale_run:
                break
            continue
        stale = 0
        matches.append((moment, comment))
        if in_order and len(matches) >= limit:
            break
    if not in_order:
        matches.sort(key=lambda item: item[0], reverse=True)  # stable: ties stay newest-first
    return [comment for _, comment in matches[:limit]]


class _ContextView:
    """What one comment of a stream may see: the comments added before it."""

    def __init__(self, context: InMemoryContext, position: int) -> None:
        self._context = context
        self._position = position

    def recent_comments(
        self, *, since: datetime, author_id: str | None = None, limit: int = 500
    ) -> Sequence[RecentComment]:
        return self._context._query(
            since=since, author_id=author_id, limit=limit, before=self._position
        )


def _timestamp(moment: datetime) -> float:
    """Seconds since the epoch; naive datetimes are taken as UTC, so both kinds compare."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


EMPTY_CONTEXT: Context = InMemoryContext(max_comments=1)


def build_detectors(policy: Policy) -> list[Detector]:
    """Instantiate every detector family available, in registry order."""
    from civility.standards.detectors import registry

    return [factory(policy) for factory in registry.detector_factories()]


def scrub(text: str) -> str:
    """Make ``text`` safe for UTF-8 consumers without moving any character offset."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text)
    return text


@dataclass(eq=False)
class _Chunk:
    """One chunk between its two halves (:meth:`Engine._start`, :meth:`Engine._finish`)."""

    analyses: list[Analysis]
    contexts: list[Context]
    findings: list[dict[str, Finding]]
    ends_batch: bool
    # Who takes the full model; None where no family needs the embedding.
    full_stage: list[int] | None = None
    # Waits for the full model's vectors and sets them (``embedding.begin_annotating``).
    embedded: Callable[[], None] | None = field(default=None, repr=False)


class Engine:
    """Judge comments against a :class:`Policy`.

    ``detectors`` replaces the registry's families (a site's own detector, or tests).
    ``strict=True`` lets a detector's exception propagate (tests use it so bugs surface);
    by default a failing detector is logged and its rules are marked unavailable, which holds
    the comment for a moderator: an accepted comment always reaches a decision.
    ``cascade=False`` runs the full model on every comment; ``cascade_goal`` says what the
    cascade must keep as the full model would have it (module docstring, step 5); without
    it, the policy's ``extra["cascade_goal"]`` decides (default "scores"), so a policy file
    can choose it for the CLI (``civility moderate|evaluate --policy FILE``).
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        cascade: bool = True,
        cascade_goal: CascadeGoal | None = None,
        strict: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        detectors: Sequence[Detector] | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        self.policy = policy or default_policy()
        if cascade_goal is None:
            cascade_goal = self.policy.extra.get("cascade_goal", "scores")
        if cascade_goal not in CASCADE_GOALS:
            raise ValueError(f"cascade_goal must be one of {', '.join(CASCADE_GOALS)}")
        self.cascade = cascade
        self.cascade_goal: CascadeGoal = cascade_goal
        self.strict = strict
        self.batch_size = batch_size
        self.policy_version = self.policy.version  # hashing per verdict would cost a JSON dump
        # Seconds spent per part (language, embeddings, each detector's stage) when a caller
        # sets it to {}: the benchmark's breakdown, or a worker's metrics.
        self.timings: dict[str, float] | None = None
        self.detectors = list(detectors) if detectors is not None else build_detectors(self.policy)
        self._rule_table = [
            (rule, self.policy.rule(rule.slug), self._unscored(rule.slug, rule.number))
            for rule in RULES
        ]

    @property
    def version(self) -> str:
        return ENGINE_VERSION

    @property
    def detectors(self) -> list[Detector]:
        return self._detectors

    @detectors.setter
    def detectors(self, detectors: Sequence[Detector]) -> None:
        self._detectors = list(detectors)
        # A family whose every rule is switched off is not run at all; its rules score 0.
        self._active = [
            d
            for d in self._detectors
            if not d.slugs or any(self.policy.rule(s).enabled for s in d.slugs)
        ]
        self._needs_embedding = any(d.uses_embedding for d in self._active)

    def cheap_only(self) -> Engine:
        """An engine sharing this one's detectors, minus those that need the sentence
        embedding: what can run inline before a web response while the full engine runs
        in a worker. Rules of the dropped families score 0 in its verdicts."""
        clone = copy.copy(self)
        clone.detectors = [d for d in self._detectors if not d.uses_embedding]
        return clone

    def _unscored(self, slug: str, number: int) -> RuleResult:
        settings = self.policy.rule(slug)
        return RuleResult(
            slug=slug,
            number=number,
            score=0.0,
            queue_threshold=settings.queue,
            reject_threshold=settings.reject,
            enabled=settings.enabled,
            fired=settings.enabled and settings.queue <= 0.0,
            available=True,
        )

    def check(self, comment: Comment, context: Context | None = None) -> Verdict:
        return self.check_many([comment], context)[0]

    def check_many(
        self,
        comments: Sequence[Comment],
        context: Context | None = None,
        *,
        contexts: Sequence[Context] | None = None,
    ) -> list[Verdict]:
        """Judge ``comments``; verdicts come back in the same order.

        Give either one ``context`` for the whole batch, or ``contexts``, one per comment
        (the CLI's stream view). Raises :class:`TextTooLong` before doing any work if one
        comment exceeds the policy's ``max_length``. More comments than ``batch_size`` are
        judged chunk by chunk, pipelined as in :meth:`check_stream`.
        """
        if contexts is None:
            contexts = [context or EMPTY_CONTEXT] * len(comments)
        return next(self.check_stream([(comments, contexts)]))

    def check_stream(
        self, batches: Iterable[tuple[Sequence[Comment], Sequence[Context]]]
    ) -> Iterator[list[Verdict]]:
        """Judge a stream of (comments, one context per comment) batches; yield each batch's
        verdicts, in order, the same as :meth:`check_many` would give batch by batch.

        The encoder works on the next chunk while this thread finishes the one before it:
        everything besides the encoder runs on one Python thread, and judged one chunk after
        the other, the encoder's threads would wait while it works. So each chunk's first
        half (analysis, the cheap families, the first stage) runs, and its full-model
        embedding starts on the encoder's pool, before the previous chunk's second half.
        Chunks only read the contexts they are given, so the order does not change a
        verdict: a stream's contexts must show each comment what came before it, whatever
        was added after (:meth:`InMemoryContext.before`). A batch that fails validation
        raises :class:`TextTooLong` after the batches before it were yielded.
        """
        held: _Chunk | None = None
        collected: list[Verdict] = []
        chunks = self._chunks(batches)
        while True:
            failure: Exception | None = None
            try:
                item = next(chunks, None)
                started = None if item is None else self._start(*item)
            except Exception as error:  # raised once what came before it is answered
                failure, started = error, None
            if held is not None:
                collected.extend(self._finish(held))
                if held.ends_batch:
                    yield collected
                    collected = []
            if failure is not None:
                raise failure
            if started is None:
                return
            held = started

    def _chunks(
        self, batches: Iterable[tuple[Sequence[Comment], Sequence[Context]]]
    ) -> Iterator[tuple[Sequence[Comment], list[Context], bool]]:
        """(comments, contexts, whether the chunk ends its batch), ``batch_size`` at most;
        an empty batch gives one empty chunk, so that it still gets its (empty) answer."""
        for comments, contexts in batches:
            if len(contexts) != len(comments):
                raise ValueError("contexts must have one entry per comment")
            self.validate(comments)
            if not comments:
                yield comments, [], True
            for start in range(0, len(comments), self.batch_size):
                end = start + self.batch_size
                yield comments[start:end], list(contexts[start:end]), end >= len(comments)

    def validate(self, comments: Iterable[Comment]) -> None:
        """Raise :class:`TextTooLong` for the first comment over ``max_length``."""
        limit = self.policy.max_length
        for comment in comments:
            if len(comment.text) > limit:
                label = f"comment {comment.id!r}" if comment.id else "comment"
                raise TextTooLong(
                    f"{label} is {len(comment.text):,} characters long; the policy allows at "
                    f"most {limit:,} (max_length)"
                )

    # -- one chunk -------------------------------------------------------------------------

    def _start(
        self,
        comments: Sequence[Comment],
        contexts: list[Context],
        ends_batch: bool,
    ) -> _Chunk:
        """A chunk's first half: analysis, the cheap families before the embedding families
        and, with the cascade, the first stage; then the full model starts on the comments
        that need it, on the encoder's pool of threads, and runs while this thread finishes
        the chunk before (:meth:`_finish`)."""
        analyses = [analyse(self._clean(comment)) for comment in comments]
        chunk = _Chunk(analyses, contexts, [{} for _ in analyses], ends_batch)
        if not analyses:
            return chunk
        self._prepare(analyses)
        everyone = list(range(len(analyses)))
        early, embedding_families, late = self._families()
        for detector in early:
            self._merge(
                chunk.findings,
                everyone,
                self._run(detector, "detect", everyone, analyses, contexts),
            )
        if not embedding_families:
            return chunk
        if self.cascade:
            chunk.full_stage = self._first_stage(
                embedding_families, late, analyses, contexts, chunk.findings
            )
        else:
            chunk.full_stage = everyone
        missing = [analyses[i] for i in chunk.full_stage if analyses[i].embedding is None]
        if missing:
            from civility.standards import embedding

            chunk.embedded = embedding.begin_annotating(missing)
        return chunk

    def _finish(self, chunk: _Chunk) -> list[Verdict]:
        """A chunk's second half: the full model's families where the first stage left
        something open, the later cheap families, and the decisions."""
        analyses, contexts, findings = chunk.analyses, chunk.contexts, chunk.findings
        if not analyses:
            return []
        everyone = list(range(len(analyses)))
        _, embedding_families, late = self._families()
        full_stage = chunk.full_stage
        if full_stage is None:
            for detector in late:
                found = self._run(detector, "detect", everyone, analyses, contexts)
                self._merge(findings, everyone, found)
            return [
                self._decide(a, f, stage="screen") for a, f in zip(analyses, findings, strict=True)
            ]
        if full_stage:
            if chunk.embedded is not None:  # every comment of the full stage lacking vectors
                started = time.perf_counter()
                chunk.embedded()
                self._clock("embedding.full", started)
            for detector in embedding_families:
                found = self._run(detector, "detect", full_stage, analyses, contexts)
                self._merge(findings, full_stage, found)
        # The later cheap families read what the embedding families left in `analysis.cache`:
        # first-stage estimates for settled comments, second-stage values for the rest.
        for detector in late:
            self._merge(
                findings, everyone, self._run(detector, "detect", everyone, analyses, contexts)
            )
        in_full = set(full_stage)
        return [
            self._decide(analysis, found, stage="full" if i in in_full else "screen")
            for i, (analysis, found) in enumerate(zip(analyses, findings, strict=True))
        ]

    def _families(self) -> tuple[list[Detector], list[Detector], list[Detector]]:
        """Cheap families before the first embedding family, the embedding families, and the
        cheap families after it (which may read what the embedding families cache)."""
        first = next((n for n, d in enumerate(self._active) if d.uses_embedding), len(self._active))
        early = self._active[:first]
        embedding_families = [d for d in self._active[first:] if d.uses_embedding]
        late = [d for d in self._active[first:] if not d.uses_embedding]
        return early, embedding_families, late

    def _first_stage(
        self,
        families: list[Detector],
        late: list[Detector],
        analyses: list[Analysis],
        contexts: list[Context],
        findings: list[dict[str, Finding]],
    ) -> list[int]:
        """Run the first stage; merge what it settles; return who needs the full model.

        The cheap families have already decided at least ``floor`` (publish, queue or
        reject) for each comment. For the scores goal the full model is needed wherever some
        rule's first-stage range (lower bound to ceiling) spans a threshold; for the decisions
        goal, wherever some ceiling reaches the next level up from the floor.
        """
        count = len(analyses)
        everyone = list(range(count))
        # The later families, run before any first-stage value is cached, score a lower
        # bound of their final score (profanity's lexicon without the learned head).
        preview = [dict(found) for found in findings]
        for detector in late:
            self._merge(
                preview, everyone, self._run(detector, "detect", everyone, analyses, contexts)
            )
        floors = [
            self._floor(analysis, found) for analysis, found in zip(analyses, preview, strict=True)
        ]
        keep_scores = self.cascade_goal == "scores"
        for analysis, floor in zip(analyses, floors, strict=True):
            analysis.cache[FLOOR_CACHE_KEY] = floor.value
        estimates = [self._run(d, "estimate", everyone, analyses, contexts) for d in families]
        if not keep_scores:
            for index in everyone:
                # What the first stage already knows for certain raises the floor: a rule
                # whose lower bound passes a threshold, or that cannot judge the comment.
                known: dict[str, Finding] = {}
                lowers = _lower_bounds(analyses[index])
                for found in estimates:
                    for slug, finding in (found[index] or {}).items():
                        if not finding.available:
                            known[slug] = Finding(score=0.0, available=False)
                        elif slug in lowers:
                            known[slug] = Finding(score=lowers[slug])
                floors[index] = _at_least(floors[index], self._floor(analyses[index], known))
        unknown = [{slug: Finding(score=0.0, ceiling=1.0) for slug in d.slugs} for d in families]
        needed: set[int] = set()
        for index in everyone:
            if not keep_scores and floors[index] is Decision.REJECT:
                continue
            lowers = _lower_bounds(analyses[index]) if keep_scores else {}
            for family, found in enumerate(estimates):
                entry = found[index]
                if entry is None:
                    entry = unknown[family]  # no first-stage answer: anything is possible
                if any(
                    not self._band_known(
                        analyses[index], slug, finding, _lower(finding, lowers, slug)
                    )
                    if keep_scores
                    else self._could_raise(analyses[index], slug, finding, floors[index])
                    for slug, finding in entry.items()
                ):
                    needed.add(index)
                    break
        # Later cheap families read first-stage values from the cache: run them on the
        # ceilings (left under "<key>:ceiling") to bound what they could score, and, for the
        # scores goal, on the lower bounds ("<key>:lower") too.
        undecided = [
            i
            for i in everyone
            if i not in needed and (keep_scores or floors[i] is not Decision.REJECT)
        ]
        bounded = [i for i in undecided if _has_bounds(analyses[i], CEILING_SUFFIX)]
        if late and bounded:
            highs = self._run_late_on(late, bounded, analyses, contexts, CEILING_SUFFIX)
            # The lowest a later family could score: on the lower bounds where the first
            # stage left them, else with no first-stage value at all (the preview).
            lows: list[dict[str, Finding]] = [preview[i] for i in bounded]
            with_lower = [
                n for n, i in enumerate(bounded) if _has_bounds(analyses[i], LOWER_SUFFIX)
            ]
            if keep_scores and with_lower:
                found_low = self._run_late_on(
                    late, [bounded[n] for n in with_lower], analyses, contexts, LOWER_SUFFIX
                )
                for n, entry in zip(with_lower, found_low, strict=True):
                    lows[n] = entry
            for index, high, low in zip(bounded, highs, lows, strict=True):
                for slug, f in high.items():
                    if keep_scores:
                        floor_score = low[slug].score if slug in low else 0.0
                        unsure = not self._band_known(
                            analyses[index], slug, replace(f, ceiling=f.score), floor_score
                        )
                    else:
                        unsure = self._could_raise(
                            analyses[index], slug, replace(f, ceiling=f.score), floors[index]
                        )
                    if unsure:
                        needed.add(index)
                        break
        settled = [i for i in everyone if i not in needed]
        for found in estimates:
            self._merge(findings, settled, [found[i] for i in settled])
        return sorted(needed)

    def _run_late_on(
        self,
        late: list[Detector],
        indices: list[int],
        analyses: list[Analysis],
        contexts: list[Context],
        suffix: str,
    ) -> list[dict[str, Finding]]:
        """The later families' findings with each "<key><suffix>" value put under "<key>"."""
        merged: list[dict[str, Finding]] = [{} for _ in indices]
        saved = [_swap_in(analyses[i], suffix) for i in indices]
        try:
            for detector in late:
                found = self._run(detector, "detect", indices, analyses, contexts)
                self._merge(merged, list(range(len(indices))), found)
        finally:
            for index, values in zip(indices, saved, strict=True):
                _restore(analyses[index], values)
        return merged

    def _band_known(self, analysis: Analysis, slug: str, finding: Finding, lower: float) -> bool:
        """Whether the full model's score of ``slug`` is sure to fall in the same band as the
        first stage's (under the queue point, between queue and reject, or at reject): then
        the rule fires, rejects or not exactly as with the full model."""
        settings = self._judging(analysis, slug, finding)
        if settings is None:
            return True
        return _band(settings, min(lower, finding.score)) == _band(settings, _reach(finding))

    def _judging(self, analysis: Analysis, slug: str, finding: Finding) -> RulePolicy | None:
        """The rule's settings when its score counts for ``analysis`` (enabled, available, and
        trusted in the comment's language); None when the score cannot move the decision."""
        settings = self.policy.rules.get(slug)
        if (
            settings is None
            or not settings.enabled
            or not finding.available
            or not _trusted(settings, analysis)
        ):
            return None
        return settings

    def _holds_unavailable(self, analysis: Analysis) -> bool:
        """Whether a rule that cannot judge ``analysis`` holds it (``policy.unavailable``)."""
        choice = self.policy.unavailable
        if choice == "site":
            return not analysis.language or analysis.language in self.policy.languages
        return choice != "ignore"

    def _floor(self, analysis: Analysis, found: dict[str, Finding]) -> Decision:
        """The decision the findings so far already force (a lower bound)."""
        decision = Decision.PUBLISH
        holds = self._holds_unavailable(analysis)
        for slug, finding in found.items():
            settings = self.policy.rules.get(slug)
            if settings is None or not settings.enabled:
                continue
            if not finding.available or not _trusted(settings, analysis):
                if holds:
                    decision = _at_least(decision, Decision.QUEUE)
            elif finding.score >= settings.queue:
                decision = _at_least(
                    decision,
                    Decision.REJECT if finding.score >= settings.reject else Decision.QUEUE,
                )
        return decision

    def _could_raise(
        self, analysis: Analysis, slug: str, finding: Finding, floor: Decision
    ) -> bool:
        """Whether the second stage could score ``slug`` high enough to raise ``floor``."""
        settings = self._judging(analysis, slug, finding)
        if settings is None:
            return False
        ceiling = _reach(finding)
        if floor is Decision.PUBLISH:
            return ceiling >= settings.queue
        return floor is Decision.QUEUE and ceiling >= settings.reject

    @staticmethod
    def _clean(comment: Comment) -> Comment:
        safe = scrub(comment.text)
        parent = scrub(comment.parent_text)
        if safe is comment.text and parent is comment.parent_text:
            return comment
        return replace(comment, text=safe, parent_text=parent)

    def _run(
        self,
        detector: Detector,
        stage: str,
        indices: list[int],
        analyses: list[Analysis],
        contexts: list[Context],
    ) -> list[dict[str, Finding] | None]:
        batch = [analyses[i] for i in indices]
        batch_contexts = [contexts[i] for i in indices]
        started = time.perf_counter()
        try:
            if stage == "screen":
                return list(detector.screen_many(batch, batch_contexts))
            if stage == "estimate":
                return list(detector.estimate_many(batch, batch_contexts))
            return list(detector.detect_many(batch, batch_contexts))
        except Exception:
            if self.strict:
                raise
            logger.exception("detector %s failed in %s", type(detector).__name__, stage)
            failed = {
                slug: Finding(
                    score=0.0,
                    evidence=[Evidence(slug, "this rule could not be checked (internal error)")],
                    available=False,
                )
                for slug in detector.slugs
            }
            return [dict(failed) for _ in indices]
        finally:
            self._clock(f"{type(detector).__name__}.{stage}", started)

    @staticmethod
    def _merge(
        findings: list[dict[str, Finding]],
        indices: list[int],
        results: Sequence[dict[str, Finding] | None],
    ) -> None:
        for index, found in zip(indices, results, strict=True):
            if found:
                findings[index].update(found)

    def _prepare(self, analyses: list[Analysis]) -> None:
        """Fill the parts of the analysis every detector may read (language, static vector)."""
        from civility.standards import embedding, language

        started = time.perf_counter()
        language.annotate(analyses, self.policy)
        self._clock("language", started)
        if self._needs_embedding:
            started = time.perf_counter()
            embedding.annotate_static(analyses)
            self._clock("embedding.static", started)

    def _clock(self, part: str, started: float) -> None:
        if self.timings is not None:
            self.timings[part] = self.timings.get(part, 0.0) + time.perf_counter() - started

    def _decide(self, analysis: Analysis, findings: dict[str, Finding], *, stage: str) -> Verdict:
        results: dict[str, RuleResult] = {}
        evidence: list[Evidence] = []
        decision = Decision.PUBLISH
        holds = self._holds_unavailable(analysis)
        for rule, settings, unscored in self._rule_table:
            slug = rule.slug
            finding = findings.get(slug)
            if settings.languages and not _trusted(settings, analysis):
                finding = Finding(score=0.0, available=False)
            if finding is None or (
                finding.available and not finding.evidence and finding.score == 0.0
            ):
                # Most rules score 0 on most comments: share one immutable result.
                results[slug] = unscored
                if unscored.fired:
                    decision = _at_least(
                        decision,
                        Decision.REJECT if unscored.reject_threshold <= 0 else Decision.QUEUE,
                    )
                continue
            score = _clamp(finding.score)
            fired = settings.enabled and finding.available and score >= settings.queue
            results[slug] = RuleResult(
                slug=slug,
                number=rule.number,
                score=score,
                queue_threshold=settings.queue,
                reject_threshold=settings.reject,
                enabled=settings.enabled,
                fired=fired,
                available=finding.available,
            )
            if not settings.enabled:
                continue
            if not finding.available:
                if holds:
                    # The rule cannot judge this comment: a person must, so hold it.
                    evidence.extend(finding.evidence or [_unavailable_evidence(slug, analysis)])
                    decision = _at_least(decision, Decision.QUEUE)
            elif fired:
                evidence.extend(finding.evidence)
                decision = _at_least(
                    decision, Decision.REJECT if score >= settings.reject else Decision.QUEUE
                )
        return Verdict(
            decision=decision,
            results=results,
            evidence=tuple(evidence),
            engine_version=ENGINE_VERSION,
            policy_version=self.policy_version,
            language=analysis.language,
            stage=stage,
        )


_SEVERITY = {Decision.PUBLISH: 0, Decision.QUEUE: 1, Decision.REJECT: 2}


def _at_least(current: Decision, candidate: Decision) -> Decision:
    return candidate if _SEVERITY[candidate] > _SEVERITY[current] else current


def _clamp(score: object) -> float:
    """Scores are floats in [0, 1]; NaN (a broken model) counts as 0, never as a pass-through."""
    try:
        value = float(score)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    if value != value:  # NaN
        return 0.0
    return min(1.0, max(0.0, value))


def _reach(finding: Finding) -> float:
    """The most the full model could score: the first stage's ceiling (never under its score)."""
    return finding.score if finding.ceiling is None else max(finding.ceiling, finding.score)


def _band(settings: RulePolicy, score: float) -> int:
    return 0 if score < settings.queue else 1 if score < settings.reject else 2


def _lower_bounds(analysis: Analysis) -> dict[str, float]:
    bounds = analysis.cache.get(LOWER_BOUNDS_CACHE_KEY)
    return bounds if isinstance(bounds, dict) else {}


def _lower(finding: Finding, lowers: dict[str, float], slug: str) -> float:
    """The least the full model could score: the first stage's lower bound, the score itself
    where it is final (no ceiling), else 0."""
    if finding.ceiling is None:
        return finding.score
    return float(lowers.get(slug, 0.0))


def _has_bounds(analysis: Analysis, suffix: str) -> bool:
    return any(isinstance(key, str) and key.endswith(suffix) for key in analysis.cache)


_ABSENT = object()


def _swap_in(analysis: Analysis, suffix: str) -> dict[str, object]:
    """Put each "<key><suffix>" value under "<key>"; return the values it replaced."""
    cache = analysis.cache
    saved: dict[str, object] = {}
    for key in [k for k in cache if isinstance(k, str) and k.endswith(suffix)]:
        base = key[: -len(suffix)]
        saved[base] = cache.get(base, _ABSENT)
        cache[base] = cache[key]
    return saved


def _restore(analysis: Analysis, saved: dict[str, object]) -> None:
    for key, value in saved.items():
        if value is _ABSENT:
            analysis.cache.pop(key, None)
        else:
            analysis.cache[key] = value


def _trusted(settings: RulePolicy, analysis: Analysis) -> bool:
    """Whether the policy lets this rule judge the comment's language (unknown: yes)."""
    return (
        not settings.languages or not analysis.language or analysis.language in settings.languages
    )


def _unavailable_evidence(slug: str, analysis: Analysis) -> Evidence:
    language = analysis.language or "unknown"
    return Evidence(
        slug,
        f"not available in language '{language}': this rule cannot judge text in language "
        f"'{language}'; held for a moderator",
    )


def now() -> datetime:
    return datetime.now(UTC)
