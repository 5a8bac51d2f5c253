"""Supply-chain checks: pip-audit over the hash-pinned requirements, with reviewed ignores.

``python -m civility.security.supply_chain`` (scripts/audit.sh) runs pip-audit on each
requirements/*.txt, applies the ignores in security/pip-audit-ignores.toml (each with a reason
and an expiry date: an expired ignore fails the audit), and fails when pip-audit could not
check the dependencies at all (an unreachable vulnerability service must not pass as "no
known vulnerabilities").
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IGNORES_FILE = Path(__file__).with_name("pip-audit-ignores.toml")
REQUIREMENTS = ("base.txt", "test.txt")
EXIT_VULNERABLE = 1
EXIT_UNCHECKED = 2


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


@dataclass
class AuditResult:
    vulnerabilities: list[str]
    ignored: list[str]
    unchecked: list[str]
    checked: int

    @property
    def exit_code(self) -> int:
        if self.vulnerabilities:
            return EXIT_VULNERABLE
        if self.unchecked and not self.checked:
            return EXIT_UNCHECKED
        return 0


def summarise(report: dict[str, Any], ignores: list[Ignore]) -> AuditResult:
    """Read pip-audit's JSON report (``--format json``)."""
    ignored_ids = {i.id for i in ignores}
    result = AuditResult([], [], [], 0)
    for dependency in report.get("dependencies", []):
        name = f"{dependency.get('name')}=={dependency.get('version')}"
        if dependency.get("skip_reason"):
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements-dir", type=Path, default=Path("requirements"))
    args = parser.parse_args(argv)
    try:
        ignores = load_ignores()
    except IgnoreFileError as error:
        print(f"audit: {error}", file=sys.stderr)
        return EXIT_VULNERABLE
    worst = 0
    for name in REQUIREMENTS:
        result = summarise(run_pip_audit(args.requirements_dir / name), ignores)
        print(
            f"{name}: {result.checked} checked, {len(result.vulnerabilities)} vulnerable, "
            f"{len(result.ignored)} ignored (reviewed), {len(result.unchecked)} not checked"
        )
        for line in result.vulnerabilities:
            print(f"  VULNERABLE {line}")
        for line in result.ignored:
            print(f"  ignored    {line}")
        if result.exit_code == EXIT_UNCHECKED:
            print("  the vulnerability service could not be reached: nothing was checked")
        worst = max(worst, result.exit_code)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
