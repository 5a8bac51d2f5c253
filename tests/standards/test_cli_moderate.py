"""`civility moderate`: the JSONL contract, driven as a subprocess like an outside caller."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from civility.standards.cli.moderate import highlight, moderate_bytes
from civility.standards.engine import Engine
from civility.standards.rules import SLUGS

TIMEOUT = 300


def civility(
    *args: str, stdin: bytes = b"", cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "civility.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT,
        env=env,
        cwd=cwd,
        check=False,
    )


def jsonl(*objects: Any) -> bytes:
    return b"".join(
        (o if isinstance(o, bytes) else json.dumps(o).encode()) + b"\n" for o in objects
    )


def outputs(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


GOOD = {
    "id": "c1",
    "text": "Thanks, this explains the new bridge budget well.",
    "article": {"title": "Council approves bridge", "lead": "A vote", "body": "The council..."},
    "author": "ann",
    "created_at": "2026-01-01T12:00:00Z",
    "parent_text": "What does the bridge cost?",
    "lang": "en",
}


def assert_verdict_line(line: dict[str, Any], comment_id: Any) -> None:
    assert line["id"] == comment_id
    assert line["decision"] in {"publish", "queue", "reject"}
    assert isinstance(line["rules"], list)
    assert set(line["scores"]) == set(SLUGS)
    assert all(isinstance(v, float | int) and 0 <= v <= 1 for v in line["scores"].values())
    assert isinstance(line["evidence"], list)
    assert set(line["rules"]) <= set(SLUGS)


def test_stdin_to_stdout_one_line_per_input_line() -> None:
    lines: list[dict[str, Any]] = [
        GOOD,
        {"id": 2, "text": "A plain comment without anything else."},
        {"id": "c3", "text": "Second reply", "article": "Bridge story", "author": 17},
    ]
    result = outputs(civility("moderate", stdin=jsonl(*lines)))
    assert len(result) == 3
    for line, source in zip(result, lines, strict=True):
        assert_verdict_line(line, source["id"])


def test_malformed_lines_get_an_error_line_and_the_run_goes_on() -> None:
    stream = jsonl(
        GOOD,
        b"{not json",
        {"id": "no-text"},
        {"id": "num-text", "text": 42},
        {"id": "bad-date", "text": "hi", "created_at": "last tuesday"},
        {"id": "too-long", "text": "x" * 10_001},
        [1, 2],
        b"",
        {"id": "bad-article", "text": "hi", "article": 5},
        b"\xff\xfe not utf-8",
        {"id": "last", "text": "Still judged after all that."},
    )
    result = outputs(civility("moderate", stdin=stream))
    assert len(result) == 11
    assert_verdict_line(result[0], "c1")
    assert_verdict_line(result[-1], "last")
    errors = {line["line"]: line for line in result[1:-1]}
    assert sorted(errors) == list(range(2, 11))
    assert "invalid JSON" in errors[2]["error"]
    assert errors[3] == {"id": "no-text", "line": 3, "error": "missing 'text'"}
    assert "'text' must be a string" in errors[4]["error"]
    assert "ISO 8601" in errors[5]["error"]
    assert "10,001 characters" in errors[6]["error"] and errors[6]["id"] == "too-long"
    assert "JSON object" in errors[7]["error"]
    assert "empty line" in errors[8]["error"]
    assert "'article'" in errors[9]["error"]
    assert "UTF-8" in errors[10]["error"]
    assert all("decision" not in line for line in errors.values())


def test_input_and_output_files(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    target = tmp_path / "out.jsonl"
    source.write_bytes(jsonl(*({"id": i, "text": f"comment {i}"} for i in range(600))))
    result = civility("moderate", "--input", str(source), "--output", str(target))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""
    lines = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    assert [line["id"] for line in lines] == list(range(600))


def test_last_line_without_newline_and_crlf_are_read() -> None:
    stream = b'{"id": 1, "text": "one"}\r\n{"id": 2, "text": "two"}'
    assert [line["id"] for line in outputs(civility("moderate", stdin=stream))] == [1, 2]


def test_unicode_survives_the_round_trip() -> None:
    text = "Ça va? 日本語 🙂 \u202egnp.exe \u0301\u0301 \ud800"
    stream = json.dumps({"id": "u", "text": text}).encode()
    [line] = outputs(civility("moderate", stdin=stream))
    assert_verdict_line(line, "u")


def test_missing_input_file_and_bad_policy_are_clear_errors(tmp_path: Path) -> None:
    result = civility("moderate", "--input", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2
    assert b"nope.jsonl" in result.stderr
    policy = tmp_path / "p.toml"
    policy.write_text("[rules.hate]\nqueue = 3\n")
    result = civility("moderate", "--policy", str(policy), stdin=jsonl(GOOD))
    assert result.returncode == 2
    assert b"rules.hate.queue" in result.stderr


def test_policy_file_changes_decisions_and_version(tmp_path: Path) -> None:
    policy = tmp_path / "strict.toml"
    policy.write_text("".join(f"[rules.{s}]\nenabled = false\n" for s in SLUGS))
    [default_line] = outputs(civility("moderate", stdin=jsonl(GOOD)))
    [line] = outputs(civility("moderate", "--policy", str(policy), stdin=jsonl(GOOD)))
    assert line["decision"] == "publish" and line["rules"] == []
    assert line["policy_version"] != default_line["policy_version"]


def test_text_prints_a_readable_verdict() -> None:
    result = civility("moderate", "--text", "Thanks for covering the council meeting.")
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert out.startswith("decision: ")
    assert "rules that fired:" in out
    assert "\033[" not in out  # not a terminal: no ANSI codes


def test_text_json_and_too_long() -> None:
    result = civility("moderate", "--text", "hello", "--json")
    data = json.loads(result.stdout)
    assert set(data["scores"]) == set(SLUGS)
    result = civility("moderate", "--text", "y" * 10_001)
    assert result.returncode == 2
    assert b"10,001 characters" in result.stderr


def test_moderate_never_imports_django() -> None:
    code = (
        "import sys; from civility.cli import main; "
        "main(['moderate', '--text', 'hello there']); "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=TIMEOUT, env=env, check=False
    )
    assert result.returncode == 0, result.stderr.decode()


def test_highlight_marks_merged_spans_with_brackets_or_ansi() -> None:
    assert highlight("you are a dolt, dolt", [(10, 14), (16, 20), (12, 14)], color=False) == (
        "you are a [dolt], [dolt]"
    )
    assert highlight("abc", [(0, 10)], color=False) == "[abc]"
    assert highlight("abc", [(1, 2)], color=True) == "a\033[1;41;97mb\033[0mc"


@pytest.mark.parametrize("batch_size", [1, 7, 256])
def test_stream_verdicts_do_not_depend_on_the_batch_size(batch_size: int) -> None:
    lines = [
        {
            "id": i,
            "text": "Join us now at the square!" if i % 3 else f"my own take number {i}",
            "author": f"a{i % 4}",
            "created_at": f"2026-01-01T12:{i:02d}:00Z",
        }
        for i in range(20)
    ]
    engine = Engine(strict=True)
    reference = moderate_bytes(engine, jsonl(*lines), batch_size=20)
    assert moderate_bytes(engine, jsonl(*lines), batch_size=20) == reference  # same call shape
    result = moderate_bytes(engine, jsonl(*lines), batch_size=batch_size)
    strip = [{k: v for k, v in line.items() if k != "stage"} for line in result]
    assert strip == [{k: v for k, v in line.items() if k != "stage"} for line in reference]


def test_progress_bar_only_when_stderr_is_a_terminal(tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    source = tmp_path / "in.jsonl"
    source.write_bytes(jsonl(*({"id": i, "text": f"comment {i}"} for i in range(300))))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "civility.cli", "moderate", "--input", str(source)],
        stdout=subprocess.PIPE, stderr=slave, timeout=TIMEOUT, env=env, check=False,
    )  # fmt: skip
    os.close(slave)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    assert result.returncode == 0
    assert b"moderating" in terminal and b"100%" in terminal
    assert len(result.stdout.splitlines()) == 300  # stdout stays pure JSONL
    piped = civility("moderate", "--input", str(source))
    assert b"moderating" not in piped.stderr


def test_oversized_line_is_refused_without_stopping_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from civility.standards.cli import moderate

    monkeypatch.setattr(moderate, "MAX_LINE_BYTES", 100)
    big = json.dumps({"id": "big", "text": "x" * 500}).encode()
    lines = moderate_bytes(
        Engine(strict=True), jsonl({"id": 1, "text": "ok"}, big, {"id": 3, "text": "ok"})
    )
    assert [line.get("id") for line in lines] == [1, None, 3]
    assert "line longer than" in lines[1]["error"] and lines[1]["line"] == 2
