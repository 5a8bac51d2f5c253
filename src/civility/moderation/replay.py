"""Policy admin: the form, and Replay (run a draft policy over recent comments and show what
would change before it is saved)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from civility.discussion.context import DatabaseContext
from civility.discussion.engine import current_engines, engine_for
from civility.discussion.models import Comment, CommentStatus
from civility.discussion.services import _engine_comment
from civility.moderation.models import PolicyVersion
from civility.standards.policy import Policy, PolicyError
from civility.standards.rules import RULES
from civility.standards.types import Verdict

MAX_REPLAY = 1000


@dataclass
class RuleRow:
    slug: str
    number: int
    title: str
    enabled: bool
    queue: float
    reject: float


@dataclass
class PolicyForm:
    rows: list[RuleRow]
    languages: str
    premoderate_all: bool
    note: str = ""
    replay_count: int = 100
    errors: list[str] = field(default_factory=list)
    base: Policy | None = None

    @classmethod
    def from_request(
        cls, request: HttpRequest, current: Policy, version: PolicyVersion | None
    ) -> PolicyForm:
        if request.method != "POST":
            return cls(
                rows=[
                    RuleRow(
                        r.slug,
                        r.number,
                        r.title,
                        current.rule(r.slug).enabled,
                        current.rule(r.slug).queue,
                        current.rule(r.slug).reject,
                    )
                    for r in RULES
                ],
                languages=", ".join(current.languages),
                premoderate_all=bool(version and version.premoderate_all),
                base=current,
            )
        data = request.POST
        errors: list[str] = []
        rows = []
        for rule in RULES:

            def number(name: str, fallback: float, slug: str = rule.slug) -> float:
                raw = data.get(f"{name}_{slug}", "").strip()
                try:
                    return float(raw) if raw else fallback
                except ValueError:
                    errors.append(
                        _("%(rule)s: %(field)s must be a number") % {"rule": slug, "field": name}
                    )
                    return fallback

            current_rule = current.rule(rule.slug)
            rows.append(
                RuleRow(
                    rule.slug,
                    rule.number,
                    rule.title,
                    data.get(f"enabled_{rule.slug}") == "on",
                    number("queue", current_rule.queue),
                    number("reject", current_rule.reject),
                )
            )
        try:
            count = int(data.get("replay_count", "100") or 100)
        except ValueError:
            count = 100
        return cls(
            rows=rows,
            languages=data.get("languages", ""),
            premoderate_all=data.get("premoderate_all") == "on",
            note=data.get("note", "")[:300],
            replay_count=max(1, min(MAX_REPLAY, count)),
            errors=errors,
            base=current,
        )

    def policy(self) -> Policy | None:
        """The draft policy, or None (with ``errors`` filled) when it is invalid."""
        if self.errors:
            return None
        languages = [
            lang.strip().lower()
            for lang in self.languages.replace(";", ",").split(",")
            if lang.strip()
        ]
        payload: dict[str, Any] = {
            "rules": {
                r.slug: {"enabled": r.enabled, "queue": r.queue, "reject": r.reject}
                for r in self.rows
            },
            "languages": languages,
        }
        try:
            return Policy.from_dict(payload, base=self.base)
        except PolicyError as exc:
            self.errors.append(str(exc))
            return None


@dataclass
class ReplayResult:
    total: int
    changed: int
    transitions: list[tuple[str, str, int]]
    before: dict[str, int]
    after: dict[str, int]
    rule_fires: list[tuple[str, int, int]]
    examples: list[dict[str, Any]]


def _fired_counts(verdicts: list[Verdict]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for verdict in verdicts:
        counts.update(verdict.fired)
    return counts


def replay(
    draft: Policy, current: Policy, *, limit: int = 100, site_id: int | None = None
) -> ReplayResult:
    """Decide the last ``limit`` comments of the site (None: the request's site) under both
    policies and report the differences."""
    from civility.moderation.selectors import policy_site

    site_id = int(policy_site(site_id).pk)
    comments = list(
        Comment.objects.filter(site_id=site_id)
        .exclude(status=CommentStatus.DELETED)
        .filter(purged=False)
        .select_related("thread", "thread__article", "parent", "author")
        .order_by("-created_at", "-id")[:limit]
    )
    if not comments:
        return ReplayResult(0, 0, [], {}, {}, [], [])
    context = DatabaseContext(site_id)
    engines = current_engines(site_id)
    current_engine = (
        engines.full if engines.policy.version == current.version else engine_for(current)
    )
    draft_engine = current_engine if draft.version == current.version else engine_for(draft)
    inputs = [_engine_comment(c) for c in comments]
    before = current_engine.check_many(inputs, context)
    after = draft_engine.check_many(inputs, context)
    transitions: Counter[tuple[str, str]] = Counter()
    examples: list[dict[str, Any]] = []
    for comment, old, new in zip(comments, before, after, strict=True):
        transitions[(old.decision.value, new.decision.value)] += 1
        if old.decision != new.decision and len(examples) < 20:
            examples.append(
                {
                    "comment": comment,
                    "before": old.decision.value,
                    "after": new.decision.value,
                    "rules_before": old.fired,
                    "rules_after": new.fired,
                }
            )
    fires_before, fires_after = _fired_counts(before), _fired_counts(after)
    rule_fires = [
        (f"{r.number}. {r.title}", fires_before[r.slug], fires_after[r.slug])
        for r in RULES
        if fires_before[r.slug] or fires_after[r.slug]
    ]
    return ReplayResult(
        total=len(comments),
        changed=sum(n for (a, b), n in transitions.items() if a != b),
        transitions=sorted(((a, b, n) for (a, b), n in transitions.items()), key=lambda t: -t[2]),
        before=dict(Counter(v.decision.value for v in before)),
        after=dict(Counter(v.decision.value for v in after)),
        rule_fires=rule_fires,
        examples=examples,
    )
