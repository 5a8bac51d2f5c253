"""Site policy as data: per-rule switches and thresholds, languages, allow and deny lists.

A policy loads from TOML or JSON (the CLI) or from a dict (the web app keeps it in the
database). Its version is a hash of its canonical content, so two equal policies share a
version and any edit makes a new one.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from civility.standards.rules import SLUGS


class PolicyError(ValueError):
    """The policy file or dict is malformed; the message names the offending key."""


@dataclass(frozen=True, slots=True)
class RulePolicy:
    enabled: bool = True
    queue: float = 0.5  # score at or above which the comment is held for review
    reject: float = 0.9  # score at or above which it is removed (reject > 1 means never)


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

    @property
    def version(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def rule(self, slug: str) -> RulePolicy:
        return self.rules[slug]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rules"] = {slug: asdict(rule) for slug, rule in sorted(self.rules.items())}
        for key in ("languages", "allow_words", "deny_words", "allow_domains", "deny_domains"):
            data[key] = list(data[key])
        return data

    def with_languages(self, languages: list[str] | tuple[str, ...]) -> Policy:
        return replace(self, languages=tuple(languages))

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Policy | None = None) -> Policy:
        """Build a policy; keys absent from ``data`` keep ``base``'s values (default: none)."""
        if not isinstance(data, dict):
            raise PolicyError("policy must be a table/object")
        known = {
            "rules", "languages", "max_length", "allow_words", "deny_words", "allow_domains",
            "deny_domains", "flash_mob_window_minutes", "flood_window_minutes", "extra",
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
                raise PolicyError(f"rules.{slug}: unknown rule slug")
            if not isinstance(raw, dict):
                raise PolicyError(f"rules.{slug}: must be a table")
            current = rules.get(slug, RulePolicy())
            try:
                enabled = raw.get("enabled", current.enabled)
                queue = float(raw.get("queue", current.queue))
                reject = float(raw.get("reject", current.reject))
            except (TypeError, ValueError) as exc:
                raise PolicyError(f"rules.{slug}: thresholds must be numbers") from exc
            if not isinstance(enabled, bool):
                raise PolicyError(f"rules.{slug}.enabled: must be true or false")
            if not (0.0 <= queue <= 1.0) or not (0.0 <= reject <= 1.01) or reject < queue:
                raise PolicyError(f"rules.{slug}: need 0 <= queue <= reject <= 1.01")
            rules[slug] = RulePolicy(enabled=enabled, queue=queue, reject=reject)
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
        extra = data.get("extra", base_values.extra)
        if not isinstance(extra, dict):
            raise PolicyError("extra: must be a table")
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
        )

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Load a TOML or JSON policy file on top of the default policy."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise PolicyError(f"{path}: {exc.strerror}") from exc
        try:
            if path.suffix.lower() == ".json":
                data = json.loads(raw)
            else:
                data = tomllib.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path}: {exc}") from exc
        return cls.from_dict(data, base=default_policy())

    @classmethod
    def default(cls) -> Policy:
        return default_policy()


_DEFAULT: Policy | None = None


def default_policy() -> Policy:
    """The shipped policy (standards/default_policy.toml)."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("civility.standards").joinpath("default_policy.toml").read_text("utf-8")
        _DEFAULT = Policy.from_dict(tomllib.loads(text))
    return _DEFAULT
