"""Supply-chain checks: pip-audit over the hash-pinned requirements, with reviewed ignores.

``python -m civility.security.supply_chain`` (scripts/audit.sh) runs pip-audit on each
requirements/*.txt, applies the ignores in security/pip-audit-ignores.toml (each with a reason
and an expiry date: an expired ignore fails the audit), and fails when pip-audit could not
check the dependencies at all (an unreachable vulnerability service must not pass as "no
known vulnerabilities").

Where pip-audit's per-version lookups (``/pypi/<name>/<version>/json``) are unreachable but the
project pages (``/pypi/<name>/json``) are not, a pin that is the project's latest release is
checked against the ``vulnerabilities`` PyPI publishes there (OSV's advisories for the latest
release). Other pins stay unchecked unless an ``[[unchecked]]`` entry in the ignores file
names them with a reason and an expiry date.

A pin that was the latest release until a newer one came out less than ``SUPERSEDED_GRACE``
ago is reported as superseded and does not fail the audit: the build machine cannot check it
any more, but an upstream release is not a vulnerability, and CI should not break on every
release of one of ~150 pins. After the grace the pin must move (``make lock``) or get an
``[[unchecked]]`` entry.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IGNORES_FILE = Path(__file__).with_name("pip-audit-ignores.toml")
REQUIREMENTS = ("base.txt", "test.txt")
EXIT_VULNERABLE = 1
# Nothing could be checked: no vulnerability service reachable. CI reports the audit as
# skipped (docs/security.md, "Supply chain") instead of passing it.
EXIT_UNCHECKED = 2
# Some pins could be checked, others not, and no [[unchecked]] entry covers those.
EXIT_PARTIAL = 3
PYPI_PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
SUPERSEDED_GRACE = datetime.timedelta(days=14)


@dataclass(frozen=True)
class Ignore:
    id: str
    package: str
    reason: str
    expires: datetime.date


class IgnoreFileError(ValueError):
    """An ignore without a reason or an expiry date, or one that has expired."""


def load_ignores(path: Path = IGNORES_FILE, *, today: datetime.date | None = None) -> list[Ignore]:
    """The reviewed ignores; refuses incomplete or expired entries."""
    today = today or datetime.date.today()
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    ignores = []
    for entry in data.get("ignore", []):
        missing = [key for key in ("id", "package", "reason", "expires") if not entry.get(key)]
        if missing:
            raise IgnoreFileError(f"{path.name}: {entry.get('id', '?')} lacks {', '.join(missing)}")
        expires = entry["expires"]
        if not isinstance(expires, datetime.date):
            raise IgnoreFileError(
                f"{path.name}: {entry['id']}: expires must be a date (YYYY-MM-DD)"
            )
        if expires < today:
            raise IgnoreFileError(
                f"{path.name}: the ignore of {entry['id']} ({entry['package']}) expired on "
                f"{expires}: upgrade the package or review the ignore again"
            )
        if (expires - today).days > 180:
            raise IgnoreFileError(f"{path.name}: {entry['id']}: ignores last 180 days at most")
        ignores.append(Ignore(entry["id"], entry["package"], entry["reason"], expires))
    return ignores


@dataclass(frozen=True)
class UncheckedAllowance:
    package: str
    reason: str
    expires: datetime.date


def load_unchecked_allowances(
    path: Path = IGNORES_FILE, *, today: datetime.date | None = None
) -> dict[str, UncheckedAllowance]:
    """Pins we accept not to check for a while (package name -> allowance), like ignores."""
    today = today or datetime.date.today()
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    allowances = {}
    for entry in data.get("unchecked", []):
        missing = [key for key in ("package", "reason", "expires") if not entry.get(key)]
        if missing:
            raise IgnoreFileError(
                f"{path.name}: unchecked {entry.get('package', '?')} lacks {', '.join(missing)}"
            )
        expires = entry["expires"]
        if not isinstance(expires, datetime.date) or expires < today:
            raise IgnoreFileError(
                f"{path.name}: unchecked {entry['package']}: expired or not a date ({expires})"
            )
        if (expires - today).days > 180:
            raise IgnoreFileError(f"{path.name}: unchecked {entry['package']}: 180 days at most")
        name = normalise_name(entry["package"])
        allowances[name] = UncheckedAllowance(name, entry["reason"], expires)
    return allowances


def normalise_name(name: str) -> str:
    """PEP 503: ``Foo_Bar.baz`` and ``foo-bar-baz`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class AuditResult:
    vulnerabilities: list[str]
    ignored: list[str]
    unchecked: list[str]
    checked: int

    allowed_unchecked: list[str] | None = None
    superseded: list[str] | None = None

    @property
    def exit_code(self) -> int:
        if self.vulnerabilities:
            return EXIT_VULNERABLE
        if self.unchecked and not self.checked:
            return EXIT_UNCHECKED
        if self.unchecked:
            return EXIT_PARTIAL
        return 0


def summarise(
    report: dict[str, Any],
    ignores: list[Ignore],
    allowances: dict[str, UncheckedAllowance] | None = None,
) -> AuditResult:
    """Read pip-audit's JSON report (``--format json``)."""
    ignored_ids = {i.id for i in ignores}
    allowances = allowances or {}
    result = AuditResult([], [], [], 0, [], [])
    for dependency in report.get("dependencies", []):
        name = f"{dependency.get('name')}=={dependency.get('version')}"
        if dependency.get("superseded_grace_until"):
            assert result.superseded is not None
            result.superseded.append(
                f"{name}: {dependency['skip_reason']}; move the pin (make lock) by "
                f"{dependency['superseded_grace_until']}"
            )
            continue
        if dependency.get("skip_reason"):
            allowance = allowances.get(normalise_name(str(dependency.get("name", ""))))
            if allowance is not None:
                assert result.allowed_unchecked is not None
                result.allowed_unchecked.append(
                    f"{name}: {allowance.reason} (until {allowance.expires})"
                )
            else:
                result.unchecked.append(f"{name}: {dependency['skip_reason']}")
            continue
        result.checked += 1
        for vulnerability in dependency.get("vulns", []):
            aliases = {vulnerability.get("id", ""), *vulnerability.get("aliases", [])}
            line = (
                f"{name}: {vulnerability.get('id')} (fixed in {vulnerability.get('fix_versions')})"
            )
            (result.ignored if aliases & ignored_ids else result.vulnerabilities).append(line)
    return result


def run_pip_audit(requirements: Path) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "pip_audit", "--requirement", str(requirements),
        "--require-hashes", "--disable-pip", "--format", "json", "--progress-spinner", "off",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if not completed.stdout.strip():
        raise RuntimeError(f"pip-audit failed: {completed.stderr.strip()[-2000:]}")
    return dict(json.loads(completed.stdout))


def fetch_project_json(name: str) -> dict[str, Any]:
    url = PYPI_PROJECT_JSON.format(name=normalise_name(name))
    with urllib.request.urlopen(url, timeout=30) as response:
        return dict(json.load(response))


PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\[[^\]]*\])?==([^\s\\;]+)")


def pinned_versions(requirements: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file (normalised name -> version)."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[normalise_name(match[1])] = match[2]
    return pins


def _first_upload(files: list[dict[str, Any]]) -> datetime.datetime | None:
    times = [
        datetime.datetime.fromisoformat(str(f["upload_time_iso_8601"]).replace("Z", "+00:00"))
        for f in files
        if f.get("upload_time_iso_8601") and not f.get("yanked")
    ]
    return min(times) if times else None


def superseded_since(project: dict[str, Any], version: str) -> datetime.datetime | None:
    """When the first release uploaded after ``version`` came out (the moment the pin stopped
    being checkable from the project page); None when the page does not say."""
    releases = project.get("releases") or {}
    pinned_at = _first_upload(releases.get(version) or [])
    if pinned_at is None:
        return None
    later = [
        uploaded
        for release, files in releases.items()
        if release != version
        and (uploaded := _first_upload(files)) is not None
        and uploaded > pinned_at
    ]
    return min(later) if later else None


def check_latest_releases(
    report: dict[str, Any],
    pins: dict[str, str],
    fetch: Any = fetch_project_json,
    *,
    now: datetime.datetime | None = None,
) -> dict[str, Any]:
    """Fill in what pip-audit skipped from the project pages, where the pin is the latest
    release (whose advisories the project page lists); the others keep their skip reason,
    and those superseded less than ``SUPERSEDED_GRACE`` ago are marked with the grace's end.
    pip-audit leaves the version out of a skipped dependency: ``pins`` has it."""
    now = now or datetime.datetime.now(datetime.UTC)
    dependencies = []
    for dependency in report.get("dependencies", []):
        if not dependency.get("skip_reason"):
            dependencies.append(dependency)
            continue
        name = str(dependency.get("name"))
        version = str(dependency.get("version") or pins.get(normalise_name(name), ""))
        dependency = {**dependency, "version": version}
        try:
            project = fetch(name)
        except (urllib.error.URLError, OSError, ValueError) as error:
            dependencies.append({**dependency, "skip_reason": f"project page: {error}"})
            continue
        latest = str(project.get("info", {}).get("version", ""))
        if latest != version:
            reason = f"not the latest release ({latest}); its advisories are not reachable here"
            since = superseded_since(project, version)
            if since is not None and now - since < SUPERSEDED_GRACE:
                reason = f"superseded on {since.date()} by a newer release (latest {latest})"
                grace_until = (since + SUPERSEDED_GRACE).date().isoformat()
                dependency = {**dependency, "superseded_grace_until": grace_until}
            dependencies.append({**dependency, "skip_reason": reason})
            continue
        vulns = [
            {
                "id": v.get("id", ""),
                "aliases": v.get("aliases") or [],
                "fix_versions": v.get("fixed_in") or [],
            }
            for v in project.get("vulnerabilities") or []
            if not v.get("withdrawn")
        ]
        dependencies.append({"name": name, "version": version, "vulns": vulns})
    return {**report, "dependencies": dependencies}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements-dir", type=Path, default=Path("requirements"))
    args = parser.parse_args(argv)
    try:
        ignores = load_ignores()
        allowances = load_unchecked_allowances()
    except IgnoreFileError as error:
        print(f"audit: {error}", file=sys.stderr)
        return EXIT_VULNERABLE
    worst = 0
    for name in REQUIREMENTS:
        requirements = args.requirements_dir / name
        report = run_pip_audit(requirements)
        if any(d.get("skip_reason") for d in report.get("dependencies", [])):
            report = check_latest_releases(report, pinned_versions(requirements))
        result = summarise(report, ignores, allowances)
        allowed = result.allowed_unchecked or []
        superseded = result.superseded or []
        print(
            f"{name}: {result.checked} checked, {len(result.vulnerabilities)} vulnerable, "
            f"{len(result.ignored)} ignored (reviewed), {len(result.unchecked)} not checked, "
            f"{len(allowed)} not checked (documented), {len(superseded)} superseded lately"
        )
        for line in result.vulnerabilities:
            print(f"  VULNERABLE {line}")
        for line in result.ignored:
            print(f"  ignored    {line}")
        for line in result.unchecked:
            print(f"  UNCHECKED  {line}")
        for line in allowed:
            print(f"  unchecked (documented) {line}")
        for line in superseded:
            print(f"  SUPERSEDED {line}")
        if result.exit_code == EXIT_UNCHECKED:
            print(
                "  AUDIT SKIPPED: no vulnerability service could be reached, nothing was checked "
                f"(exit {EXIT_UNCHECKED}; docs/security.md, Supply chain)"
            )
        # Worst first: vulnerable (1), then partial (3), then nothing checked (2).
        worst = max(worst, result.exit_code, key=SEVERITY.index)
    return worst


SEVERITY = [0, EXIT_UNCHECKED, EXIT_PARTIAL, EXIT_VULNERABLE]


if __name__ == "__main__":
    raise SystemExit(main())
