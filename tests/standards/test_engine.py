"""The engine's decisions, determinism, length limit, cascade and stream context.

Decisions are checked with small *real* detectors that return the scores a test needs (the
engine under test is the real one); the shipped families are exercised in the smoke and
robustness tests.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from civility.standards.analysis import Analysis
from civility.standards.detectors import CEILING_SUFFIX, Detector, registry
from civility.standards.engine import ENGINE_VERSION, Engine, InMemoryContext, scrub
from civility.standards.policy import Policy, RulePolicy, default_policy
from civility.standards.rules import SLUGS
from civility.standards.types import (
    Comment,
    Context,
    Decision,
    Evidence,
    Finding,
    RecentComment,
    TextTooLong,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class ScoreByWord(Detector):
    """Scores `insult` from the comment: the text "score=0.73" gives 0.73."""

    slugs: ClassVar[tuple[str, ...]] = ("insult",)

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        for token in analysis.tokens:
            if token.startswith("score="):
                value = float(token.removeprefix("score="))
                start = analysis.text.index(token)
                evidence = [Evidence("insult", "test score", start, start + len(token), token)]
                return {"insult": Finding(score=value, evidence=evidence)}
        return {"insult": Finding(score=0.0)}


class UnavailableForGerman(Detector):
    slugs: ClassVar[tuple[str, ...]] = ("hate",)

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        return {"hate": Finding(score=0.0, available=analysis.comment.language != "de")}


class Broken(Detector):
    slugs: ClassVar[tuple[str, ...]] = ("threat",)

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        raise RuntimeError("model file missing")


class CountsRecent(Detector):
    """flood = how many earlier comments by this author the context shows (/10)."""

    slugs: ClassVar[tuple[str, ...]] = ("flood",)

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        comment = analysis.comment
        assert comment.created_at is not None
        recent = context.recent_comments(
            since=comment.created_at - timedelta(minutes=10), author_id=comment.author_id
        )
        ids = tuple(c.id for c in recent if c.id != comment.id)
        return {
            "flood": Finding(
                score=len(ids) / 10, evidence=[Evidence("flood", "recent", comment_ids=ids)]
            )
        }


class Cascading(Detector):
    """Screens out texts with "clean"; asks for the full stage otherwise."""

    slugs: ClassVar[tuple[str, ...]] = ("spam",)
    uses_embedding: ClassVar[bool] = True
    detected: ClassVar[list[str]] = []

    def screen(self, analysis: Analysis, context: Context) -> dict[str, Finding] | None:
        return {"spam": Finding(score=0.0)} if "clean" in analysis.tokens else None

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        self.detected.append(analysis.text)
        return {"spam": Finding(score=0.6)}


def policy_with(**rules: RulePolicy) -> Policy:
    base = default_policy()
    return replace(base, rules={**base.rules, **rules})


def engine_with(
    *detectors: type[Detector], policy: Policy | None = None, **kwargs: object
) -> Engine:
    policy = policy or policy_with(insult=RulePolicy(queue=0.5, reject=0.9))
    return Engine(policy, detectors=[d(policy) for d in detectors], strict=True, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("score", "decision"),
    [
        (0.0, Decision.PUBLISH),
        (0.49, Decision.PUBLISH),
        (0.5, Decision.QUEUE),  # at the queue threshold: held
        (0.89, Decision.QUEUE),
        (0.9, Decision.REJECT),  # at the reject threshold: removed
        (1.0, Decision.REJECT),
        (7.0, Decision.REJECT),  # clamped to 1
        (-3.0, Decision.PUBLISH),  # clamped to 0
    ],
)
def test_decision_follows_the_thresholds(score: float, decision: Decision) -> None:
    verdict = engine_with(ScoreByWord).check(Comment(f"you are score={score}"))
    assert verdict.decision is decision
    result = verdict.results["insult"]
    assert result.score == min(1.0, max(0.0, score))
    assert (result.queue_threshold, result.reject_threshold) == (0.5, 0.9)
    assert result.fired is (decision is not Decision.PUBLISH)
    assert verdict.fired == (["insult"] if result.fired else [])


def test_fired_rule_brings_its_evidence_and_versions() -> None:
    engine = engine_with(ScoreByWord)
    verdict = engine.check(Comment("hey score=0.95 you"))
    assert [e.text for e in verdict.evidence] == ["score=0.95"]
    assert verdict.evidence[0].start == 4
    assert verdict.engine_version == ENGINE_VERSION
    assert verdict.policy_version == engine.policy.version
    data = verdict.to_dict()
    assert data["rules"] == ["insult"]
    assert set(data["scores"]) == set(SLUGS)
    assert data["evidence"][0] == {
        "rule": "insult",
        "explanation": "test score",
        "start": 4,
        "end": 14,
        "text": "score=0.95",
    }


def test_evidence_of_rules_below_threshold_is_not_reported() -> None:
    verdict = engine_with(ScoreByWord).check(Comment("score=0.2"))
    assert verdict.evidence == ()
    assert verdict.scores["insult"] == pytest.approx(0.2)


def test_disabled_rule_scores_but_never_fires() -> None:
    policy = policy_with(insult=RulePolicy(enabled=False))
    engine = Engine(
        policy, detectors=[ScoreByWord(policy), UnavailableForGerman(policy)], strict=True
    )
    verdict = engine.check(Comment("score=0.99"))
    assert verdict.decision is Decision.PUBLISH
    assert verdict.results["insult"].enabled is False
    assert verdict.fired == []


def test_reject_threshold_above_one_never_rejects() -> None:
    engine = engine_with(ScoreByWord, policy=policy_with(insult=RulePolicy(queue=0.5, reject=1.01)))
    assert engine.check(Comment("score=1.0")).decision is Decision.QUEUE


def test_rule_that_cannot_judge_the_language_queues_instead_of_deciding() -> None:
    engine = engine_with(UnavailableForGerman)
    german = engine.check(Comment("Das ist ein Kommentar.", language="de"))
    assert german.decision is Decision.QUEUE
    assert german.unavailable == ["hate"]
    assert german.fired == []
    assert "cannot judge" in german.evidence[0].explanation
    assert engine.check(Comment("A comment.", language="en")).decision is Decision.PUBLISH


def test_failing_detector_holds_the_comment_unless_strict(caplog: pytest.LogCaptureFixture) -> None:
    policy = default_policy()
    lenient = Engine(policy, detectors=[Broken(policy)])
    with caplog.at_level(logging.ERROR):
        verdict = lenient.check(Comment("hello"))
    assert verdict.decision is Decision.QUEUE
    assert verdict.unavailable == ["threat"]
    assert "Broken failed" in caplog.text
    with pytest.raises(RuntimeError, match="model file missing"):
        Engine(policy, detectors=[Broken(policy)], strict=True).check(Comment("hello"))


def test_nan_score_counts_as_zero() -> None:
    verdict = engine_with(ScoreByWord).check(Comment("score=nan"))
    assert verdict.scores["insult"] == 0.0
    assert verdict.decision is Decision.PUBLISH


def test_same_input_gives_the_same_verdict() -> None:
    engine = Engine(strict=True)
    comments = [
        Comment("Thanks for the report, very useful."),
        Comment("SCORE THIS NOW!!! http://x.io"),
    ]
    first = [v.to_dict() for v in engine.check_many(comments)]
    second = [v.to_dict() for v in Engine(strict=True).check_many(comments)]
    assert first == second
    assert [engine.check(c).to_dict() for c in comments] == [
        engine.check(c).to_dict() for c in comments
    ]


# The sentence model runs one comment per call (its int8 activations are quantised per input
# tensor), so a comment's scores cannot depend on its batch mates.
def test_a_comment_gets_the_same_verdict_alone_or_in_a_batch() -> None:
    engine = Engine(strict=True)
    comments = [
        Comment("Thanks for the report, very useful."),
        Comment("SCORE THIS NOW!!! http://x.io and a much longer tail of words to pad the batch"),
    ]
    together = [v.to_dict() for v in engine.check_many(comments)]
    alone = [engine.check(c).to_dict() for c in comments]
    for entry in (*together, *alone):
        entry.pop("stage")
    assert alone == together


def test_batch_size_does_not_change_verdicts() -> None:
    comments = [Comment(f"comment number {i} score=0.{i}") for i in range(10)]
    small = engine_with(ScoreByWord, batch_size=3).check_many(comments)
    large = engine_with(ScoreByWord, batch_size=256).check_many(comments)
    assert [v.to_dict() for v in small] == [v.to_dict() for v in large]


def test_text_at_max_length_is_judged_and_longer_text_is_refused() -> None:
    engine = Engine(strict=True)
    limit = engine.policy.max_length
    assert limit == 10_000
    engine.check(Comment("a" * limit))
    with pytest.raises(TextTooLong, match=r"10,001 characters.*at most 10,000"):
        engine.check(Comment("a" * (limit + 1), id="c7"))


def test_too_long_comment_in_a_batch_is_refused_before_any_work() -> None:
    engine = engine_with(Cascading)
    Cascading.detected.clear()
    with pytest.raises(TextTooLong, match="'long'"):
        engine.check_many([Comment("first"), Comment("x" * 10_001, id="long")])
    assert Cascading.detected == []


def test_policy_max_length_is_honoured() -> None:
    engine = Engine(replace(default_policy(), max_length=20), strict=True)
    with pytest.raises(TextTooLong):
        engine.check(Comment("twenty-one characters"))


def test_cascade_settles_easy_comments_and_sends_the_rest_to_the_full_stage() -> None:
    Cascading.detected.clear()
    verdicts = engine_with(Cascading).check_many([Comment("clean text"), Comment("hard text")])
    assert [v.stage for v in verdicts] == ["screen", "full"]
    assert [v.scores["spam"] for v in verdicts] == [0.0, 0.6]
    assert Cascading.detected == ["hard text"]


def test_without_cascade_every_comment_takes_the_full_stage() -> None:
    Cascading.detected.clear()
    verdicts = engine_with(Cascading, cascade=False).check_many([Comment("clean text")])
    assert verdicts[0].stage == "full"
    assert verdicts[0].scores["spam"] == 0.6


def test_lone_surrogates_are_replaced_without_moving_offsets() -> None:
    assert scrub("a\ud800b") == "a\ufffdb"
    assert scrub("plain") == "plain"
    verdict = engine_with(ScoreByWord).check(Comment("\udfff score=0.95"))
    assert verdict.evidence[0].start == 2


def test_shared_context_reaches_the_detectors() -> None:
    context = InMemoryContext(
        [RecentComment(f"r{i}", "ann", "hi", T0 - timedelta(minutes=i)) for i in range(5)]
    )
    policy = policy_with(flood=RulePolicy(queue=0.3, reject=0.9))
    engine = Engine(policy, detectors=[CountsRecent(policy)], strict=True)
    verdict = engine.check(Comment("again", author_id="ann", created_at=T0, id="new"), context)
    assert verdict.scores["flood"] == 0.5
    assert verdict.decision is Decision.QUEUE
    assert verdict.evidence[0].comment_ids == ("r0", "r1", "r2", "r3", "r4")


def test_per_comment_contexts_show_only_earlier_comments() -> None:
    stream = InMemoryContext()
    comments = [Comment(f"c{i}", author_id="bob", created_at=T0, id=f"c{i}") for i in range(4)]
    views = [
        stream.before(stream.add(RecentComment(c.id, c.author_id, c.text, T0))) for c in comments
    ]
    policy = default_policy()
    engine = Engine(policy, detectors=[CountsRecent(policy)], strict=True)
    verdicts = engine.check_many(comments, contexts=views)
    assert [v.scores["flood"] for v in verdicts] == [0.0, 0.1, 0.2, 0.3]
    with pytest.raises(ValueError, match="one entry per comment"):
        engine.check_many(comments, contexts=views[:2])


def test_in_memory_context_is_bounded_and_indexed_by_author() -> None:
    context = InMemoryContext(max_comments=3)
    for i in range(5):
        context.add(
            RecentComment(f"c{i}", "ann" if i % 2 else "bob", "x", T0 + timedelta(minutes=i))
        )
    assert len(context) == 3
    everyone = context.recent_comments(since=T0)
    assert [c.id for c in everyone] == ["c4", "c3", "c2"]  # newest first, oldest dropped
    assert [c.id for c in context.recent_comments(since=T0, author_id="ann")] == ["c3"]
    assert [c.id for c in context.recent_comments(since=T0, author_id="bob")] == ["c4", "c2"]
    assert [c.id for c in context.recent_comments(since=T0 + timedelta(minutes=3))] == ["c4", "c3"]
    assert [c.id for c in context.recent_comments(since=T0, limit=1)] == ["c4"]
    assert context.recent_comments(since=T0, author_id="nobody") == []


def test_in_memory_context_compares_naive_and_aware_times() -> None:
    context = InMemoryContext([RecentComment("a", "x", "t", datetime(2026, 1, 1, 12, 5))])
    assert len(context.recent_comments(since=T0)) == 1


def test_every_verdict_scores_every_rule_with_the_shipped_detectors() -> None:
    verdict = Engine(strict=True).check(Comment("The council vote on the new bridge is next week."))
    assert list(verdict.results) == list(SLUGS)
    for result in verdict.results.values():
        assert 0.0 <= result.score <= 1.0
        assert result.queue_threshold <= result.reject_threshold


class TestRegistry:
    def test_lists_every_family_cheap_first(self) -> None:
        names = [path.rsplit(".", 1)[1] for path in registry.DETECTOR_PATHS]
        assert names == [
            "PrivacyDetector",
            "MalwareLinkDetector",
            "ShoutingDetector",
            "ForeignLanguageDetector",
            "FlashMobDetector",
            "FloodDetector",
            "LearnedDetector",
            "ProfanityDetector",  # after learned: it reads the learned offensive-language head
            "OffTopicDetector",
        ]

    def test_every_family_has_landed_so_the_registry_is_strict(self) -> None:
        assert registry.is_strict()
        assert registry.missing_families() == []
        assert len(registry.detector_factories()) == len(registry.DETECTOR_PATHS)

    def test_loaded_families_are_detectors(self) -> None:
        for factory in registry.detector_factories():
            assert issubclass(factory, Detector)  # type: ignore[arg-type]

    def test_a_missing_family_module_is_skipped_unless_strict(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = "civility.standards.detectors.not_written_yet.SomeDetector"
        monkeypatch.setattr(registry, "DETECTOR_PATHS", (path,))
        assert registry.detector_factories(strict=False) == []
        assert registry.missing_families() == [path]
        with pytest.raises(ModuleNotFoundError):
            registry.detector_factories(strict=True)

    def test_a_family_missing_a_dependency_is_an_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "h4_broken_family.py").write_text("import h4_no_such_dependency\n")
        (tmp_path / "h4_classless_family.py").write_text("X = 1\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setattr(registry, "DETECTOR_PATHS", ("h4_broken_family.Detector",))
        with pytest.raises(ModuleNotFoundError, match="h4_no_such_dependency"):
            registry.detector_factories(strict=False)
        monkeypatch.setattr(registry, "DETECTOR_PATHS", ("h4_classless_family.Missing",))
        with pytest.raises(registry.DetectorImportError, match="has no Missing"):
            registry.detector_factories(strict=False)
        monkeypatch.setattr(registry, "DETECTOR_PATHS", ("h4_classless_family.X",))
        with pytest.raises(registry.DetectorImportError, match="not a Detector"):
            registry.detector_factories(strict=False)
        for name in ("h4_broken_family", "h4_classless_family"):
            sys.modules.pop(name, None)


def test_cheap_only_engine_drops_the_embedding_families() -> None:
    engine = engine_with(ScoreByWord, Cascading)
    cheap = engine.cheap_only()
    assert [type(d) for d in cheap.detectors] == [ScoreByWord]
    assert len(engine.detectors) == 2  # the original is untouched
    Cascading.detected.clear()
    verdict = cheap.check(Comment("hard text score=0.6"))
    assert verdict.scores["spam"] == 0.0 and verdict.scores["insult"] == 0.6
    assert Cascading.detected == []
    assert verdict.stage == "screen"


def test_replacing_detectors_recomputes_what_runs() -> None:
    engine = engine_with(ScoreByWord, Cascading)
    engine.detectors = [d for d in engine.detectors if not d.uses_embedding]
    Cascading.detected.clear()
    engine.check(Comment("hard text"))
    assert Cascading.detected == []


def test_in_memory_context_handles_out_of_order_times() -> None:
    context = InMemoryContext()
    minutes = [5, 1, 9, 3, 7]
    for i, minute in enumerate(minutes):
        context.add(RecentComment(f"c{i}", "ann", "x", T0 + timedelta(minutes=minute)))
    assert [c.id for c in context.recent_comments(since=T0)] == ["c2", "c4", "c0", "c3", "c1"]
    assert [c.id for c in context.recent_comments(since=T0 + timedelta(minutes=4))] == [
        "c2", "c4", "c0",
    ]  # fmt: skip
    assert [c.id for c in context.recent_comments(since=T0, author_id="ann", limit=2)] == [
        "c2", "c4",
    ]  # fmt: skip


def test_in_memory_context_stays_bounded_over_a_long_stream() -> None:
    context = InMemoryContext(max_comments=1000)
    for i in range(12_000):
        position = context.add(RecentComment(f"c{i}", f"a{i % 7}", "x", T0 + timedelta(seconds=i)))
    assert position == 11_999
    assert len(context) == 1000
    assert len(context._positions) <= 1000 + 4096 * 2  # evicted entries are compacted away
    assert sum(len(entries) for entries in context._by_author.values()) == 1000
    latest = context.recent_comments(since=T0, limit=5_000)
    assert len(latest) == 1000 and latest[0].id == "c11999" and latest[-1].id == "c11000"
    view = context.before(11_500)
    assert view.recent_comments(since=T0, limit=1)[0].id == "c11499"
    assert [c.id for c in view.recent_comments(since=T0, author_id="a0", limit=2)] == [
        "c11494", "c11487",
    ]  # fmt: skip
    window = context.recent_comments(since=T0 + timedelta(seconds=11_990))
    assert [c.id for c in window] == [f"c{i}" for i in range(11_999, 11_989, -1)]


class LeavesANote(Detector):
    """An embedding family that leaves a value for a later cheap family."""

    slugs: ClassVar[tuple[str, ...]] = ("hate",)
    uses_embedding: ClassVar[bool] = True

    def screen(self, analysis: Analysis, context: Context) -> dict[str, Finding] | None:
        if "clean" in analysis.tokens:
            analysis.cache["note"] = 0.1
            return {"hate": Finding(score=0.0)}
        return None

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        analysis.cache["note"] = 0.7
        return {"hate": Finding(score=0.0)}


class ReadsTheNote(Detector):
    slugs: ClassVar[tuple[str, ...]] = ("profanity",)

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        return {"profanity": Finding(score=float(analysis.cache.get("note", 0.0)))}  # type: ignore[arg-type]


@pytest.mark.parametrize("cascade", [True, False])
def test_cheap_family_listed_after_an_embedding_family_sees_its_second_stage(
    cascade: bool,
) -> None:
    engine = engine_with(LeavesANote, ReadsTheNote, cascade=cascade)
    verdicts = engine.check_many([Comment("clean words"), Comment("harder words")])
    expected = [0.1, 0.7] if cascade else [0.7, 0.7]
    assert [v.scores["profanity"] for v in verdicts] == expected
    # Listed first, the cheap family runs before and sees nothing.
    early = engine_with(ReadsTheNote, LeavesANote, cascade=cascade)
    assert [v.scores["profanity"] for v in early.check_many([Comment("harder words")])] == [0.0]


class EstimatesSpam(Detector):
    """An embedding family whose first stage estimates spam with a ceiling: "est=0.3/0.95"
    gives score 0.3, ceiling 0.95; its second stage scores the ceiling."""

    slugs: ClassVar[tuple[str, ...]] = ("spam",)
    uses_embedding: ClassVar[bool] = True
    detected: ClassVar[list[str]] = []

    @staticmethod
    def _parts(analysis: Analysis) -> tuple[float, float]:
        for token in analysis.tokens:
            if token.startswith("est="):
                score, ceiling = token.removeprefix("est=").split("/")
                return float(score), float(ceiling)
        return 0.0, 0.0

    def estimate_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding] | None]:
        return [
            {"spam": Finding(score=self._parts(a)[0], ceiling=self._parts(a)[1])} for a in analyses
        ]

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        self.detected.append(analysis.text)
        return {"spam": Finding(score=self._parts(analysis)[1])}


def test_full_stage_only_where_a_ceiling_could_raise_the_decision() -> None:
    EstimatesSpam.detected.clear()
    engine = engine_with(ScoreByWord, EstimatesSpam, cascade_goal="decisions")
    texts = [
        "est=0.1/0.3 calm",  # publish, and the full model could not make it a queue
        "est=0.1/0.6 unsure",  # publish so far, but the full model could queue it
        "score=0.95 est=0.2/1.0 rejected anyway",  # another rule rejects: nothing to learn
        "score=0.6 est=0.6/0.8 held anyway",  # queued; the full model could not reject it
        "score=0.6 est=0.6/0.95 could be worse",  # queued; the full model could reject it
    ]
    verdicts = engine.check_many([Comment(text) for text in texts])
    assert EstimatesSpam.detected == [texts[1], texts[4]]
    assert [v.stage for v in verdicts] == ["screen", "full", "screen", "screen", "full"]
    assert [v.decision for v in verdicts] == [
        Decision.PUBLISH, Decision.QUEUE, Decision.REJECT, Decision.QUEUE, Decision.REJECT,
    ]  # fmt: skip
    # A settled comment keeps its first-stage score.
    assert verdicts[3].scores["spam"] == 0.6
    # Without the cascade every comment takes the full stage, with the same decisions.
    EstimatesSpam.detected.clear()
    full = engine_with(ScoreByWord, EstimatesSpam, cascade=False).check_many(
        [Comment(text) for text in texts]
    )
    assert EstimatesSpam.detected == texts
    assert [v.decision for v in full] == [v.decision for v in verdicts]


def test_by_default_every_score_that_could_reach_a_queue_point_takes_the_full_model() -> None:
    EstimatesSpam.detected.clear()
    texts = [
        "est=0.1/0.3 calm",  # the full model could not reach the queue point: settled
        "est=0.1/0.6 unsure",
        "score=0.95 est=0.2/1.0 rejected anyway",  # rejected, but its spam score could be 1
        "score=0.6 est=0.6/0.8 held anyway",
        "score=0.95 est=0.1/0.4 rejected, spam evidently low",  # settled: spam stays low
    ]
    verdicts = engine_with(ScoreByWord, EstimatesSpam).check_many([Comment(t) for t in texts])
    assert EstimatesSpam.detected == texts[1:4]
    assert [v.stage for v in verdicts] == ["screen", "full", "full", "full", "screen"]
    full = engine_with(ScoreByWord, EstimatesSpam, cascade=False).check_many(
        [Comment(t) for t in texts]
    )
    assert [v.decision for v in full] == [v.decision for v in verdicts]
    # The scores are the full model's wherever the full model could reach the queue point.
    assert [v.scores["spam"] for v in verdicts][1:4] == [v.scores["spam"] for v in full][1:4]
    assert verdicts[2].scores["spam"] == 1.0  # the "decisions" goal would have kept 0.2
    aggressive = engine_with(ScoreByWord, EstimatesSpam, cascade_goal="decisions")
    assert aggressive.check(Comment(texts[2])).scores["spam"] == 0.2


class EstimatesANote(Detector):
    """An embedding family that leaves a value, and its ceiling, for a later cheap family."""

    slugs: ClassVar[tuple[str, ...]] = ("hate",)
    uses_embedding: ClassVar[bool] = True
    detected: ClassVar[list[str]] = []

    def estimate_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding] | None]:
        for analysis in analyses:
            analysis.cache["note"] = 0.1
            analysis.cache["note" + CEILING_SUFFIX] = 0.9
        return [{"hate": Finding(score=0.0, ceiling=0.2)} for _ in analyses]

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        self.detected.append(analysis.text)
        analysis.cache["note"] = 0.8
        return {"hate": Finding(score=0.0)}


class SwearsOrReadsTheNote(Detector):
    """A later cheap family: "damn" scores 1 whatever the note says, else the note."""

    slugs: ClassVar[tuple[str, ...]] = ("profanity",)

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        note = float(analysis.cache.get("note", 0.0))  # type: ignore[arg-type]
        return {"profanity": Finding(score=1.0 if "damn" in analysis.tokens else note)}


def test_a_later_family_score_the_full_model_cannot_move_needs_no_full_model() -> None:
    EstimatesANote.detected.clear()
    engine = engine_with(EstimatesANote, SwearsOrReadsTheNote)
    pinned, open_ = engine.check_many([Comment("damn this bridge"), Comment("a calm bridge")])
    assert EstimatesANote.detected == ["a calm bridge"]
    assert (pinned.stage, pinned.scores["profanity"]) == ("screen", 1.0)
    assert (open_.stage, open_.scores["profanity"]) == ("full", 0.8)


def test_an_unknown_cascade_goal_is_refused() -> None:
    with pytest.raises(ValueError, match="cascade_goal"):
        engine_with(ScoreByWord, cascade_goal="fastest")


def test_a_rule_distrusted_in_a_language_holds_the_comment_with_evidence() -> None:
    policy = policy_with(insult=RulePolicy(queue=0.5, reject=0.9, languages=("en",)))
    engine = engine_with(ScoreByWord, policy=policy)
    english = Comment("score=0.1 An ordinary comment about the new bridge and the town.")
    german = Comment("score=0.1 Ein ganz gewöhnlicher Kommentar über die Brücke und die Stadt.")
    assert engine.check(english).decision == Decision.PUBLISH
    verdict = engine.check(german)
    assert verdict.decision == Decision.QUEUE
    assert verdict.unavailable == ["insult"]
    assert any("not available in language 'de'" in e.explanation for e in verdict.evidence)


@pytest.mark.parametrize(
    ("choice", "site_language", "foreign"),
    [
        ("queue", Decision.QUEUE, Decision.QUEUE),
        ("site", Decision.QUEUE, Decision.PUBLISH),
        ("ignore", Decision.PUBLISH, Decision.PUBLISH),
    ],
)
def test_policy_unavailable_chooses_who_is_held(
    choice: str, site_language: Decision, foreign: Decision
) -> None:
    # UnavailableForGerman cannot judge German; the site writes German, then English only.
    german_site = replace(default_policy(), languages=("de", "en"), unavailable=choice)
    english_site = replace(default_policy(), languages=("en",), unavailable=choice)
    comment = Comment("Ein ganz gewöhnlicher Kommentar.", language="de")
    assert engine_with(UnavailableForGerman, policy=german_site).check(comment).decision == (
        site_language
    )
    assert engine_with(UnavailableForGerman, policy=english_site).check(comment).decision == (
        foreign
    )
