"""Supply chain: hash-pinned requirements, pip-audit with reviewed, expiring ignores."""

from __future__ import annotations

import datetime
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

from civility.security import supply_chain
from civility.security.supply_chain import IgnoreFileError, load_ignores, summarise

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-\[\],]+)==([^\s\\;]+)")


@pytest.mark.parametrize(
    "requirements", sorted((ROOT / "requirements").glob("*.txt")), ids=lambda p: p.name
)
def test_every_requirement_is_pinned_with_hashes(requirements: Path) -> None:
    blocks: list[list[str]] = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line.startswith((" ", "\t")):
            blocks.append([stripped])
        elif blocks:
            blocks[-1].append(stripped)
    requirements_found = [b for b in blocks if not b[0].startswith("-")]
    assert requirements_found, f"{requirements.name}: no requirements"
    for block in requirements_found:
        assert REQUIREMENT.match(block[0]), f"{requirements.name}: not pinned: {block[0]}"
        assert any("--hash=sha256:" in part for part in block), (
            f"{requirements.name}: no hash for {block[0]}"
        )


def test_the_shipped_ignore_file_is_valid() -> None:
    for ignore in load_ignores():
        assert ignore.reason and ignore.expires >= datetime.date.today()
    for allowance in supply_chain.load_unchecked_allowances().values():
        assert allowance.reason and allowance.expires >= datetime.date.today()


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "ignores.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_an_ignore_needs_a_reason_and_an_expiry(tmp_path: Path) -> None:
    path = write(tmp_path, '[[ignore]]\nid = "GHSA-1"\npackage = "x"\nexpires = 2026-12-01\n')
    with pytest.raises(IgnoreFileError, match="lacks reason"):
        load_ignores(path, today=datetime.date(2026, 11, 1))


def test_an_expired_ignore_fails_the_audit(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[ignore]]\nid = "GHSA-1"\npackage = "x"\nreason = "r"\nexpires = 2026-10-01\n',
    )
    with pytest.raises(IgnoreFileError, match="expired"):
        load_ignores(path, today=datetime.date(2026, 11, 1))
    assert load_ignores(path, today=datetime.date(2026, 9, 1))[0].id == "GHSA-1"


def test_an_ignore_cannot_last_more_than_half_a_year(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[ignore]]\nid = "GHSA-1"\npackage = "x"\nreason = "r"\nexpires = 2028-01-01\n',
    )
    with pytest.raises(IgnoreFileError, match="180 days"):
        load_ignores(path, today=datetime.date(2026, 11, 1))


def test_the_summary_counts_vulnerabilities_ignores_and_unchecked() -> None:
    ignores = [supply_chain.Ignore("PYSEC-2", "b", "reviewed", datetime.date(2099, 1, 1))]
    report = {
        "dependencies": [
            {"name": "a", "version": "1", "vulns": [{"id": "GHSA-1", "fix_versions": ["2"]}]},
            {"name": "b", "version": "1", "vulns": [{"id": "GHSA-9", "aliases": ["PYSEC-2"]}]},
            {"name": "c", "version": "1", "vulns": []},
            {"name": "d", "version": "1", "skip_reason": "not found"},
        ]
    }
    result = summarise(report, ignores)
    assert result.checked == 3 and len(result.unchecked) == 1
    assert result.vulnerabilities == ["a==1: GHSA-1 (fixed in ['2'])"]
    assert len(result.ignored) == 1 and result.exit_code == supply_chain.EXIT_VULNERABLE
    clean = summarise({"dependencies": [{"name": "c", "version": "1", "vulns": []}]}, [])
    assert clean.exit_code == 0
    unreachable = summarise(
        {"dependencies": [{"name": "d", "version": "1", "skip_reason": "x"}]}, []
    )
    assert unreachable.exit_code == supply_chain.EXIT_UNCHECKED


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("pip_audit") is None, reason="pip-audit is not installed"
)
def test_no_known_vulnerability_in_the_pinned_requirements() -> None:
    completed = subprocess.run(
        [str(ROOT / "scripts" / "audit.sh")], capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    if completed.returncode == supply_chain.EXIT_UNCHECKED:
        pytest.skip(
            "AUDIT NOT RUN: no vulnerability service (pypi.org JSON API) is reachable:\n"
            + completed.stdout
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def project_page(version: str, vulnerabilities: list[dict[str, object]]) -> dict[str, object]:
    return {"info": {"version": version}, "vulnerabilities": vulnerabilities}


def test_a_skipped_pin_is_checked_against_its_project_page_when_it_is_the_latest() -> None:
    """pip-audit's per-version lookups unreachable: the project page's advisories (those of
    the latest release) still check a pin that is the latest release; the others stay
    unchecked, and an advisory there makes the pin vulnerable."""
    pages = {
        "clean": project_page("2.0", []),
        "bad": project_page("1.0", [{"id": "GHSA-x", "aliases": ["CVE-1"], "fixed_in": ["1.1"]}]),
        "old": project_page("9.0", []),
        "withdrawn": project_page("3.0", [{"id": "GHSA-w", "withdrawn": "2026-01-01"}]),
    }
    skipped = "Dependency not found on PyPI and could not be audited"
    report = {"dependencies": [{"name": n, "skip_reason": skipped} for n in pages]}
    pins = {"clean": "2.0", "bad": "1.0", "old": "1.0", "withdrawn": "3.0"}
    filled = supply_chain.check_latest_releases(report, pins, fetch=pages.__getitem__)
    result = summarise(filled, [])
    assert result.checked == 3
    assert result.vulnerabilities == ["bad==1.0: GHSA-x (fixed in ['1.1'])"]
    assert [line.split(":")[0] for line in result.unchecked] == ["old==1.0"]


def released(*uploads: str) -> list[dict[str, object]]:
    return [{"upload_time_iso_8601": upload} for upload in uploads]


def test_a_pin_superseded_lately_is_reported_but_does_not_fail_until_its_grace_ends() -> None:
    """A new upstream release is not a vulnerability: for SUPERSEDED_GRACE the old pin is
    reported (with the date it must move by) instead of failing the audit; then it fails."""
    page = {
        "info": {"version": "1.1"},
        "vulnerabilities": [],
        "releases": {
            "0.9": released("2026-01-01T00:00:00Z"),
            "1.0": released("2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z"),
            "1.1": released("2026-11-27T20:00:00Z"),
            "1.2rc1": [{"upload_time_iso_8601": "2026-11-22T00:00:00Z", "yanked": True}],
        },
    }
    report = {
        "dependencies": [
            {"name": "fresh", "version": "1", "vulns": []},
            {"name": "lib", "skip_reason": "Dependency not found on PyPI"},
        ]
    }

    def audit(now: str) -> supply_chain.AuditResult:
        filled = supply_chain.check_latest_releases(
            report,
            {"lib": "1.0"},
            fetch=lambda name: page,
            now=datetime.datetime.fromisoformat(now),
        )
        return summarise(filled, [])

    within = audit("2026-11-30T10:00:00+00:00")
    assert within.exit_code == 0 and within.unchecked == []
    assert within.superseded == [
        "lib==1.0: superseded on 2026-11-27 by a newer release (latest 1.1); "
        "move the pin (make lock) by 2026-12-11"
    ]
    after = audit("2026-12-12T00:00:00+00:00")
    assert after.exit_code == supply_chain.EXIT_PARTIAL and after.superseded == []
    assert after.unchecked[0].startswith("lib==1.0: not the latest release (1.1)")


def test_a_pin_whose_release_dates_are_unknown_gets_no_grace() -> None:
    page = {"info": {"version": "2"}, "releases": {"2": released("2026-11-29T00:00:00Z")}}
    report = {"dependencies": [{"name": "lib", "skip_reason": "not found"}]}
    filled = supply_chain.check_latest_releases(report, {"lib": "1"}, fetch=lambda name: page)
    assert summarise(filled, []).exit_code == supply_chain.EXIT_UNCHECKED


def test_an_unreachable_project_page_leaves_the_pin_unchecked() -> None:
    def unreachable(name: str) -> dict[str, object]:
        raise OSError("network is unreachable")

    report = {"dependencies": [{"name": "x", "skip_reason": "y"}]}
    filled = supply_chain.check_latest_releases(report, {"x": "1"}, fetch=unreachable)
    assert summarise(filled, []).exit_code == supply_chain.EXIT_UNCHECKED


def test_partly_checked_is_its_own_exit_status_unless_documented(tmp_path: Path) -> None:
    report = {
        "dependencies": [
            {"name": "c", "version": "1", "vulns": []},
            {"name": "Old_Pkg", "version": "1", "skip_reason": "not the latest release"},
        ]
    }
    assert summarise(report, []).exit_code == supply_chain.EXIT_PARTIAL
    path = write(
        tmp_path,
        '[[unchecked]]\npackage = "old-pkg"\nreason = "pinned by c"\nexpires = 2026-12-01\n',
    )
    allowances = supply_chain.load_unchecked_allowances(path, today=datetime.date(2026, 11, 1))
    documented = summarise(report, [], allowances)
    assert documented.exit_code == 0 and documented.allowed_unchecked == [
        "Old_Pkg==1: pinned by c (until 2026-12-01)"
    ]
    with pytest.raises(IgnoreFileError, match="expired"):
        supply_chain.load_unchecked_allowances(path, today=datetime.date(2026, 12, 2))


def test_the_pins_are_read_from_the_requirements_file() -> None:
    pins = supply_chain.pinned_versions(ROOT / "requirements" / "base.txt")
    assert pins["django"].startswith("6.")
    assert all(version for version in pins.values())
