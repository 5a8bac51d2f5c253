"""Properties the security review relies on, fuzzed with hypothesis (the engine's own
robustness tests, tests/standards/test_engine_robustness.py, cover crashes and determinism):

* evidence spans always point inside the comment, at the text they quote (the "my comments"
  highlighter builds markup from them);
* a policy with every rule switched off never removes or holds anything;
* lowering thresholds never makes a decision milder (an attacker cannot find a text that a
  stricter site lets through and a laxer one holds);
* the policy parser answers any input with a Policy or a PolicyError, round-trips, and its
  version does not depend on key order.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civility.standards.engine import Engine
from civility.standards.policy import NEVER, Policy, PolicyError, RulePolicy, default_policy
from civility.standards.rules import SLUGS
from civility.standards.types import Comment, Decision

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SEVERITY = {Decision.PUBLISH: 0, Decision.QUEUE: 1, Decision.REJECT: 2}
SLOW = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Words that make detectors fire, mixed with disguises, so spans are actually produced.
TRIGGERS = [
    "idiot", "f\u200bu\u200bc\u200bk", "sh\u0456t", "kill you", "buy now", "http://bit.ly/x",
    "call +44 20 7946 0958", "4111 1111 1111 1111", "john@example.org", "CAPS LOCK RAGE!!!",
    "\u202eevil", "Z\u0301\u0302\u0303", "🙂", "\u00a0", "\n",
]  # fmt: skip
hostile_text = st.lists(
    st.sampled_from(TRIGGERS) | st.text(max_size=12), min_size=1, max_size=12
).map(" ".join)


@pytest.fixture(scope="module")
def engines() -> dict[str, Engine]:
    base = default_policy()
    stricter = replace(
        base,
        rules={
            slug: RulePolicy(
                rule.enabled, queue=rule.queue * 0.5, reject=min(rule.reject, NEVER) * 0.6
            )
            for slug, rule in base.rules.items()
        },
    )
    silent = replace(base, rules={slug: RulePolicy(enabled=False) for slug in base.rules})
    return {
        "default": Engine(base, strict=True),
        "stricter": Engine(stricter, strict=True),
        "silent": Engine(silent, strict=True),
    }


@SLOW
@given(text=hostile_text)
def test_evidence_points_at_the_text_it_quotes(engines: dict[str, Engine], text: str) -> None:
    verdict = engines["stricter"].check(Comment(text, author_id="a", created_at=T0))
    for evidence in verdict.evidence:
        if evidence.start is None or evidence.end is None:
            continue
        assert 0 <= evidence.start <= evidence.end <= len(text), evidence
        if evidence.text:
            # A quote may be shortened (the language rule quotes the first 80 characters).
            assert text[evidence.start : evidence.end].startswith(evidence.text), evidence


@SLOW
@given(text=hostile_text)
def test_a_policy_with_every_rule_off_publishes_everything(
    engines: dict[str, Engine], text: str
) -> None:
    verdict = engines["silent"].check(Comment(text, author_id="a", created_at=T0))
    assert verdict.decision == Decision.PUBLISH
    assert verdict.fired == []


@SLOW
@given(text=hostile_text)
def test_lower_thresholds_never_give_a_milder_decision(
    engines: dict[str, Engine], text: str
) -> None:
    comment = Comment(text, author_id="a", created_at=T0)
    usual = engines["default"].check(comment).decision
    strict = engines["stricter"].check(comment).decision
    assert SEVERITY[strict] >= SEVERITY[usual], (usual, strict)


# --- The policy parser -----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
policy_keys = st.sampled_from(
    ["rules", "languages", "max_length", "allow_words", "deny_words", "allow_domains",
     "deny_domains", "flash_mob_window_minutes", "flood_window_minutes", "extra", "bogus"]
)  # fmt: skip
rule_tables = st.dictionaries(
    st.sampled_from([*SLUGS, "not-a-rule"]),
    st.dictionaries(st.sampled_from(["enabled", "queue", "reject", "x"]), json_values, max_size=3)
    | json_values,
    max_size=4,
)
near_policies = st.dictionaries(
    policy_keys, json_values | rule_tables | st.lists(st.text(max_size=5), max_size=3), max_size=5
)


@settings(max_examples=400, deadline=None)
@given(data=json_values | near_policies)
def test_any_input_gives_a_policy_or_a_clear_error(data: Any) -> None:
    try:
        policy = Policy.from_dict(data)
    except PolicyError as error:
        assert str(error)
        return
    assert set(policy.rules) == set(SLUGS)
    for rule in policy.rules.values():
        assert 0.0 <= rule.queue <= rule.reject <= NEVER
    assert policy.languages and policy.max_length > 0


def valid_rule() -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(st.booleans(), st.floats(0, 1), st.floats(0, NEVER)).map(
        lambda t: {"enabled": t[0], "queue": min(t[1], t[2]), "reject": max(t[1], t[2])}
    )


valid_policies = st.fixed_dictionaries(
    {
        "rules": st.dictionaries(st.sampled_from(SLUGS), valid_rule(), max_size=6),
        "languages": st.lists(st.sampled_from(["en", "ru", "de", "fr"]), min_size=1, max_size=3),
        "deny_words": st.lists(st.text(min_size=1, max_size=10).filter(str.strip), max_size=4),
        "max_length": st.integers(1, 100_000),
    }
)


@settings(max_examples=200, deadline=None)
@given(data=valid_policies)
def test_policies_round_trip_and_their_version_ignores_key_order(data: dict[str, Any]) -> None:
    policy = Policy.from_dict(data)
    again = Policy.from_dict(json.loads(json.dumps(policy.to_dict())))
    assert again == policy and again.version == policy.version
    reordered = dict(reversed(list(data.items())))
    reordered["rules"] = dict(reversed(list(data["rules"].items())))
    assert Policy.from_dict(reordered).version == policy.version


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".toml", ".json", ".txt"]))
def test_loading_any_file_gives_a_policy_or_an_error_naming_it(
    tmp_path: Path, content: bytes, suffix: str
) -> None:
    path = tmp_path / f"policy{suffix}"
    path.write_bytes(content)
    try:
        Policy.load(path)
    except PolicyError as error:
        assert str(path) in str(error) or path.name in str(error)
