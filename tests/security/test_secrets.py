"""No secret in the repository: private keys, cloud and service tokens, and long random
values assigned to names like SECRET, PASSWORD or TOKEN.

Values that look like secrets but are not (a test key, the demo accounts' passwords, which
docs and the README print on purpose) are allowed one by one in ALLOWED, with the reason.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 2_000_000
BINARY_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".onnx", ".npz", ".npy", ".pdf",
    ".woff", ".woff2", ".ttf", ".gz", ".zip", ".sqlite3", ".pyc", ".mo",
}  # fmt: skip

PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "Stripe key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "URL with a password": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^@\s/'\"{}<>$]{6,})@"),
}
ASSIGNED = re.compile(
    r"(?i)\b([A-Z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY)"
    r"[A-Z0-9_]*)\b[\"']?\s*(?:=|:|=>)\s*[rbf]?[\"']([^\"'\s]{12,})[\"']"
)

# (file, the value or its start) -> why it is not a secret.
ALLOWED: dict[tuple[str, str], str] = {
    ("tests/test_settings.py", "k3Q9-vX2pL7mN4rT8wY1zB6cF0hJ5sD3gA9eU2iO7qW4tR1yP8uM6nV0bX5lK3jH"):
        "a made-up key for the production-settings test; never used by a running site",
    ("tests/accounts/test_purge.py", "ya29.secret-token-value"):
        "a fake OAuth token the purge test must see erased",
    ("tests/security/test_abuse.py", "Long-enough-passw0rd"):
        "the password of a sign-up the captcha test expects to be refused",
    ("tests/security/test_privacy.py", "django-insecure-abcdef123456"):
        "a sample log line the redaction test must clean",
}  # fmt: skip


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


NOT_SECRET = re.compile(
    # setting names, dotted import paths, placeholders, variables, format fields, file paths
    r"[A-Z0-9_]+|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|<[^>]+>|\$\{?\w+\}?|\{\w*\}|[/\w.-]+/[\w./-]*"
)


def looks_random(value: str, *, minimum: int = 16) -> bool:
    if NOT_SECRET.fullmatch(value):
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return len(value) >= minimum and classes >= 2 and entropy(value) >= 3.0


def repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        cwd=ROOT,
        check=True,
    ).stdout.decode()
    paths = [ROOT / name for name in listed.split("\0") if name]
    return [
        p
        for p in paths
        if p.is_file() and p.suffix.lower() not in BINARY_SUFFIXES and p.stat().st_size < MAX_BYTES
    ]


def findings_in(path: Path) -> list[str]:
    relative = path.relative_to(ROOT).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for kind, pattern in PATTERNS.items():
            match = pattern.search(line)
            if not match:
                continue
            if kind == "URL with a password" and not looks_random(match.group(1), minimum=8):
                continue  # change-me, civility:civility and other placeholders
            if kind == "private key" and relative == "tests/security/test_secrets.py":
                continue
            found.append(f"{relative}:{number}: {kind}")
        for name, value in ASSIGNED.findall(line):
            if looks_random(value) and not any(
                relative == file and value.startswith(allowed) for file, allowed in ALLOWED
            ):
                found.append(f"{relative}:{number}: {name} = {value[:6]}... (high entropy)")
    return found


def test_no_secret_is_committed() -> None:
    files = repository_files()
    assert len(files) > 50
    findings = [finding for path in files for finding in findings_in(path)]
    assert findings == [], "secrets in the repository:\n" + "\n".join(findings)


def test_the_scanner_finds_what_it_looks_for(tmp_path: Path, monkeypatch: object) -> None:
    """Control: planted secrets are found (the values are assembled so this file is clean)."""
    planted = tmp_path / "leak.py"
    planted.write_text(
        "\n".join(
            [
                "-----BEGIN RSA " + "PRIVATE KEY-----",
                "aws = 'AKIA" + "ABCDEFGHIJKLMNOP'",
                "STRIPE_SECRET = '" + "Zx8Qp2Lm9Vt4Rk7Wn3Bc6Hy1'",
                "url = 'postgres://civ:" + "Tr0ub4dor&3xyz@db/civ'",
                "PASSWORD = 'correct horse battery staple'",  # words with spaces: not matched
            ]
        ),
        encoding="utf-8",
    )
    import tests.security.test_secrets as scanner

    monkeypatch.setattr(scanner, "ROOT", tmp_path)  # type: ignore[attr-defined]
    kinds = "\n".join(findings_in(planted))
    assert "private key" in kinds and "AWS access key" in kinds
    assert "STRIPE_SECRET" in kinds and "URL with a password" in kinds
    assert "PASSWORD" not in kinds.replace("STRIPE_SECRET", "")
