"""Site policy as data: per-rule switches and thresholds, languages, allow and deny lists.

A policy loads from TOML or JSON (the CLI) or from a dict (the web app keeps it in the
database). Its version is a hash of its canonical content, so two equal policies share a
version and any edit makes a new one.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from civility.standards.rules import SLUGS

NEVER = 1.01  # a reject threshold no calibrated score reaches: the rule never removes alone
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


class PolicyError(ValueError):
    """The policy file or dict is malformed; the message names the offending key."""


# What a rule that cannot judge a comment (``Finding.available`` False, or a language outside
# the rule's ``languages``) does to the decision:
# - "queue": hold the comment for a moderator, whatever its language (the default: nothing
#   is published unread);
# - "site": hold it when the comment is in a site language (or its language is unknown);
#   a comment in another language is left to rule 20 (foreign_language);
# - "ignore": the rule just does not score (the site accepts the risk).
UNAVAILABLE_CHOICES = ("queue", "site", "ignore")


@dataclass(frozen=True, slots=True)
class RulePolicy:
    enabled: bool = True
    queue: float = 0.5  # score at or above which the comment is held for review
    reject: float = 0.9  # score at or above which it is removed (reject > 1 means never)
    # Languages (ISO 639-1) the site trusts this rule in; empty = wherever its model works.
    # In any other identified language the rule is "not available" (see UNAVAILABLE_CHOICES).
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    rules: dict[str, RulePolicy]
    languages: tuple[str, ...] = ("en",)
    max_length: int = 10_000
    allow_words: tuple[str, ...] = ()
    deny_words: tuple[str, ...] = ()
    allow_domains: tuple[str, ...] = ()
    deny_domains: tuple[str, ...] = ()
    flash_mob_window_minutes: int = 60
    flood_window_minutes: int = 10
    extra: dict[str, Any] = field(default_factory=dict)  # detector tuning knobs, versioned too
    unavailable: str = "queue"  # see UNAVAILABLE_CHOICES

    @property
    def version(self) -> str:
        # default=str: TOML dates in `extra` have no JSON form but must still be hashed.
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def rule(self, slug: str) -> RulePolicy:
        return self.rules[slug]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rules"] = {slug: _rule_dict(rule) for slug, rule in sorted(self.rules.items())}
        for key in ("languages", "allow_words", "deny_words", "allow_domains", "deny_domains"):
            data[key] = list(data[key])
        # Keys added after policies were first stored are left out at their default, so the
        # version (a hash of this dict) of an unchanged policy stays the same.
        if self.unavailable == "queue":
            del data["unavailable"]
        return data

    def with_languages(self, languages: list[str] | tuple[str, ...]) -> Policy:
        return replace(self, languages=tuple(languages))

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Policy | None = None) -> Policy:
        """Build a policy; keys absent from ``data`` keep ``base``'s values (default: none)."""
        if not isinstance(data, dict):
            raise PolicyError("policy must be a table/object")
        known = {
            "rules",
            "languages",
            "max_length",
            "allow_words",
            "deny_words",
            "allow_domains",
            "deny_domains",
            "flash_mob_window_minutes",
            "flood_window_minutes",
            "extra",
            "unavailable",
        }
        unknown = set(data) - known
        if unknown:
            raise PolicyError(f"unknown policy key(s): {', '.join(sorted(unknown))}")
        rules = dict(base.rules) if base else {slug: RulePolicy() for slug in SLUGS}
        raw_rules = data.get("rules", {})
        if not isinstance(raw_rules, dict):
            raise PolicyError("'rules' must be a table keyed by rule slug")
        for slug, raw in raw_rules.items():
            if slug not in SLUGS:
                raise PolicyError(f"rules.{slug}: unknown rule slug (known: {', '.join(SLUGS)})")
            if not isinstance(raw, dict):
                raise PolicyError(f"rules.{slug}: must be a table with enabled/queue/reject")
            stray = set(raw) - {"enabled", "queue", "reject", "languages"}
            if stray:
                raise PolicyError(
                    f"rules.{slug}: unknown key(s) {', '.join(sorted(stray))}; "
                    "expected enabled, queue, reject, languages"
                )
            current = rules.get(slug, RulePolicy())
            enabled = raw.get("enabled", current.enabled)
            if not isinstance(enabled, bool):
                raise PolicyError(f"rules.{slug}.enabled: must be true or false")
            queue = _threshold(raw, "queue", current.queue, slug)
            reject = _threshold(raw, "reject", current.reject, slug)
            if not 0.0 <= queue <= 1.0:
                raise PolicyError(f"rules.{slug}.queue: must be between 0 and 1, got {queue}")
            if not 0.0 <= reject <= NEVER:
                raise PolicyError(
                    f"rules.{slug}.reject: must be between 0 and {NEVER} (never), got {reject}"
                )
            if reject < queue:
                raise PolicyError(
                    f"rules.{slug}: reject ({reject}) must not be below queue ({queue})"
                )
            rule_languages = raw.get("languages", list(current.languages))
            if not isinstance(rule_languages, list | tuple) or not all(
                isinstance(code, str) and _LANGUAGE_CODE.fullmatch(code.strip().lower())
                for code in rule_languages
            ):
                raise PolicyError(
                    f"rules.{slug}.languages: must be a list of ISO 639-1 codes such as 'en'"
                )
            rules[slug] = RulePolicy(
                enabled=enabled,
                queue=queue,
                reject=reject,
                languages=tuple(code.strip().lower() for code in rule_languages),
            )
        base_values = base or cls(rules=rules)

        def words(key: str) -> tuple[str, ...]:
            value = data.get(key, getattr(base_values, key))
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise PolicyError(f"{key}: must be a list of strings")
            return tuple(v.strip().lower() for v in value if v.strip())

        def integer(key: str) -> int:
            value = data.get(key, getattr(base_values, key))
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise PolicyError(f"{key}: must be a positive integer")
            return value

        languages = words("languages")
        if not languages:
            raise PolicyError("languages: at least one site language is required")
        for code in languages:
            if not _LANGUAGE_CODE.fullmatch(code):
                raise PolicyError(f"languages: {code!r} is not an ISO 639-1 code such as 'en'")
        extra = data.get("extra", base_values.extra)
        if not isinstance(extra, dict):
            raise PolicyError("extra: must be a table")
        unavailable = data.get("unavailable", base_values.unavailable)
        if unavailable not in UNAVAILABLE_CHOICES:
            raise PolicyError(
                f"unavailable: must be one of {', '.join(UNAVAILABLE_CHOICES)}, got {unavailable!r}"
            )
        return cls(
            rules=rules,
            languages=languages,
            max_length=integer("max_length"),
            allow_words=words("allow_words"),
            deny_words=words("deny_words"),
            allow_domains=words("allow_domains"),
            deny_domains=words("deny_domains"),
            flash_mob_window_minutes=integer("flash_mob_window_minutes"),
            flood_window_minutes=integer("flood_window_minutes"),
            extra=dict(extra),
            unavailable=unavailable,
        )

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Load a TOML or JSON policy file on top of the default policy."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise PolicyError(f"{path}: cannot read: {exc.strerror}") from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"{path}: not UTF-8 text") from exc
        suffix = path.suffix.lower()
        try:
            if suffix == ".json":
                data = json.loads(text)
            elif suffix == ".toml":
                data = tomllib.loads(text)
            else:  # no telling suffix: TOML first (the documented format), then JSON
                try:
                    data = tomllib.loads(text)
                except tomllib.TOMLDecodeError:
                    data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"{path}: invalid JSON: {exc.msg} (line {exc.lineno})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{path}: invalid TOML: {exc}") from exc
        try:
            return cls.from_dict(data, base=default_policy())
        except PolicyError as exc:
            raise PolicyError(f"{path}: {exc}") from exc

    @classmethod
    def default(cls) -> Policy:
        return default_policy()


def _rule_dict(rule: RulePolicy) -> dict[str, Any]:
    data = asdict(rule)
    if rule.languages:
        data["languages"] = list(rule.languages)
    else:
        del data["languages"]  # the default, left out so that versions stay stable
    return data


def _threshold(raw: dict[str, Any], key: str, current: float, slug: str) -> float:
    value = raw.get(key, current)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"rules.{slug}.{key}: must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise PolicyError(f"rules.{slug}.{key}: must be a finite number")
    return value


_DEFAULT: Policy | None = None


def default_policy() -> Policy:
    """The shipped policy (standards/default_policy.toml)."""
    global _DEFAULT
    if _DEFAULT is None:
        text = (
            resources.files("civility.standards").joinpath("default_policy.toml").read_text("utf-8")
        )
        _DEFAULT = Policy.from_dict(tomllib.loads(text))
    return _DEFAULT
