"""Policy parsing, validation messages and content-hash versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civility.standards.policy import Policy, PolicyError, RulePolicy, default_policy
from civility.standards.rules import SLUGS


def test_default_policy_covers_every_rule_with_sane_thresholds() -> None:
    policy = default_policy()
    assert set(policy.rules) == set(SLUGS)
    assert policy.languages == ("en",)
    assert policy.max_length == 10_000
    for slug, rule in policy.rules.items():
        assert 0.0 <= rule.queue <= rule.reject <= 1.01, slug
    assert Policy.default() is policy


def test_version_is_a_stable_hash_of_the_content() -> None:
    policy = default_policy()
    assert len(policy.version) == 12
    rebuilt = Policy.from_dict(json.loads(json.dumps(policy.to_dict())))
    assert rebuilt.version == policy.version
    assert rebuilt == policy


def test_any_edit_changes_the_version() -> None:
    policy = default_policy()
    versions = {
        policy.version,
        Policy.from_dict({"rules": {"hate": {"queue": 0.41}}}, base=policy).version,
        Policy.from_dict({"rules": {"hate": {"enabled": False}}}, base=policy).version,
        Policy.from_dict({"languages": ["en", "fr"]}, base=policy).version,
        Policy.from_dict({"deny_words": ["frobnicate"]}, base=policy).version,
        Policy.from_dict({"extra": {"knob": 1}}, base=policy).version,
    }
    assert len(versions) == 6


def test_key_order_does_not_change_the_version(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text(
        json.dumps({"languages": ["en"], "rules": {"hate": {"queue": 0.3, "reject": 0.8}}})
    )
    b.write_text(
        json.dumps({"rules": {"hate": {"reject": 0.8, "queue": 0.3}}, "languages": ["en"]})
    )
    assert Policy.load(a).version == Policy.load(b).version


def test_toml_and_json_files_load_on_top_of_the_default(tmp_path: Path) -> None:
    toml_file = tmp_path / "site.toml"
    toml_file.write_text(
        'languages = ["en", "de"]\ndeny_words = ["  Frobnicate "]\n'
        "[rules.profanity]\nqueue = 0.3\nreject = 0.7\n[rules.shouting]\nenabled = false\n"
    )
    policy = Policy.load(toml_file)
    assert policy.languages == ("en", "de")
    assert policy.deny_words == ("frobnicate",)
    assert policy.rule("profanity") == RulePolicy(enabled=True, queue=0.3, reject=0.7)
    assert policy.rule("shouting").enabled is False
    assert policy.rule("hate") == default_policy().rule("hate")
    json_file = tmp_path / "site.json"
    json_file.write_text(json.dumps({"rules": {"profanity": {"queue": 0.3, "reject": 0.7}}}))
    assert Policy.load(json_file).rule("profanity").queue == 0.3


def test_file_without_a_known_suffix_is_read_as_toml_or_json(tmp_path: Path) -> None:
    path = tmp_path / "policy.conf"
    path.write_text('{"max_length": 500}')
    assert Policy.load(path).max_length == 500
    path.write_text("max_length = 600\n")
    assert Policy.load(path).max_length == 600


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": {"hatred": {}}}, r"rules\.hatred: unknown rule slug"),
        ({"rules": {"hate": 0.5}}, r"rules\.hate: must be a table"),
        ({"rules": {"hate": {"threshold": 0.5}}}, r"rules\.hate: unknown key\(s\) threshold"),
        ({"rules": {"hate": {"queue": "high"}}}, r"rules\.hate\.queue: must be a number"),
        ({"rules": {"hate": {"queue": True}}}, r"rules\.hate\.queue: must be a number"),
        ({"rules": {"hate": {"queue": float("nan")}}}, r"rules\.hate\.queue: must be a finite"),
        ({"rules": {"hate": {"queue": 1.5}}}, r"rules\.hate\.queue: must be between 0 and 1"),
        ({"rules": {"hate": {"reject": 2}}}, r"rules\.hate\.reject: must be between 0 and 1\.01"),
        (
            {"rules": {"hate": {"queue": 0.8, "reject": 0.5}}},
            r"reject \(0\.5\) must not be below queue \(0\.8\)",
        ),
        ({"rules": {"hate": {"enabled": "yes"}}}, r"rules\.hate\.enabled: must be true or false"),
        ({"rules": []}, r"'rules' must be a table"),
        ({"languages": []}, r"languages: at least one"),
        ({"languages": ["english"]}, r"'english' is not an ISO 639-1 code"),
        ({"languages": "en"}, r"languages: must be a list of strings"),
        ({"max_length": 0}, r"max_length: must be a positive integer"),
        ({"max_length": "10000"}, r"max_length: must be a positive integer"),
        ({"colour": "red"}, r"unknown policy key\(s\): colour"),
        ({"extra": []}, r"extra: must be a table"),
    ],
)
def test_malformed_policy_names_the_offending_key(data: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy.from_dict(data, base=default_policy())  # type: ignore[arg-type]


def test_policy_must_be_a_table() -> None:
    with pytest.raises(PolicyError, match="must be a table"):
        Policy.from_dict([1, 2])  # type: ignore[arg-type]


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(PolicyError, match=r"absent\.toml: cannot read"):
        Policy.load(missing)
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[rules.hate\nqueue = 0.5\n")
    with pytest.raises(PolicyError, match=r"bad\.toml: invalid TOML"):
        Policy.load(bad_toml)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"rules": ')
    with pytest.raises(PolicyError, match=r"bad\.json: invalid JSON"):
        Policy.load(bad_json)
    bad_value = tmp_path / "value.toml"
    bad_value.write_text("[rules.hate]\nqueue = 7\n")
    with pytest.raises(PolicyError, match=r"value\.toml: rules\.hate\.queue"):
        Policy.load(bad_value)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyError, match="not UTF-8"):
        Policy.load(binary)


def test_toml_dates_in_extra_still_hash() -> None:
    import tomllib

    data = tomllib.loads("[extra]\nsince = 2026-01-01T00:00:00Z\n")
    assert len(Policy.from_dict(data, base=default_policy()).version) == 12


def test_with_languages_makes_a_new_version() -> None:
    policy = default_policy()
    bilingual = policy.with_languages(["en", "fr"])
    assert bilingual.languages == ("en", "fr")
    assert bilingual.version != policy.version


def test_rule_languages_and_unavailable_round_trip_and_change_the_version() -> None:
    base = default_policy()
    assert "unavailable" not in base.to_dict()  # defaults stay out: stored versions hold
    assert all("languages" not in rule for rule in base.to_dict()["rules"].values())
    edited = Policy.from_dict(
        {"unavailable": "site", "rules": {"hate": {"languages": ["EN", "ru"]}}}, base=base
    )
    assert edited.unavailable == "site"
    assert edited.rule("hate").languages == ("en", "ru")
    assert edited.rule("hate").queue == base.rule("hate").queue
    assert edited.version != base.version
    rebuilt = Policy.from_dict(json.loads(json.dumps(edited.to_dict())))
    assert rebuilt == edited and rebuilt.version == edited.version


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"unavailable": "sometimes"}, "unavailable: must be one of queue, site, ignore"),
        ({"rules": {"hate": {"languages": "en"}}}, "rules.hate.languages"),
        ({"rules": {"hate": {"languages": ["english"]}}}, "rules.hate.languages"),
    ],
)
def test_bad_unavailable_or_rule_languages_are_named(data: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy.from_dict(data, base=default_policy())  # type: ignore[arg-type]
