"""The ``civility`` command, in process and as a real console script."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from civility.cli import SUBCOMMANDS, main

CIVILITY = [sys.executable, "-m", "civility.cli"]


def _clean_env(data_dir: Path) -> dict[str, str]:
    """The environment of a fresh install: embedded SQLite under ``data_dir``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CIVILITY_", "DJANGO_"))
    }
    env["CIVILITY_DATA_DIR"] = str(data_dir)
    return env


def test_no_arguments_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in ("serve", "demo", "import-articles", "createuser", "manage"):
        assert name in out
    assert set(SUBCOMMANDS) >= {"serve", "demo", "import-articles", "createuser", "manage"}


@pytest.mark.django_db
def test_createuser_makes_a_verified_moderator_and_refuses_duplicates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from allauth.account.models import EmailAddress
    from django.contrib.auth import authenticate, get_user_model

    argv = ["createuser", "--email", "a@example.org", "--password", "S3cure-pass!", "--moderator"]
    assert main(argv) == 0
    assert "Created a@example.org" in capsys.readouterr().out
    user = get_user_model().objects.get(email="a@example.org")
    assert user.groups.filter(name="moderators").exists()
    assert not user.is_staff
    assert EmailAddress.objects.filter(user=user, verified=True, primary=True).exists()
    assert authenticate(username="a@example.org", password="S3cure-pass!") == user

    assert main([*argv[:2], "A@Example.org", *argv[3:]]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "already exists" in error and "Traceback" not in error


@pytest.mark.django_db
def test_createuser_staff_and_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    from django.contrib.auth import get_user_model

    assert (
        main(["createuser", "--email", "ed@example.org", "--password", "S3cure-pass!", "--staff"])
        == 0
    )
    assert get_user_model().objects.get(email="ed@example.org").is_staff
    assert main(["createuser", "--email", "not-an-address", "--password", "S3cure-pass!"]) == 1
    assert main(["createuser", "--email", "b@example.org", "--password", "123"]) == 1
    assert "too short" in capsys.readouterr().err


@pytest.mark.django_db
def test_moderators_group_gets_moderation_permissions() -> None:
    from civility.accounts.commands.createuser import create_user

    user = create_user("m@example.org", "S3cure-pass!", moderator=True)
    labels = set(
        user.groups.get(name="moderators").permissions.values_list(
            "content_type__app_label", flat=True
        )
    )
    assert labels <= {"discussion", "moderation"}
    assert "moderation" in labels  # the audit log's permissions at least


@pytest.mark.slow
def test_createuser_console_script_contract(tmp_path: Path) -> None:
    env = _clean_env(tmp_path / "data")
    subprocess.run([*CIVILITY, "manage", "migrate", "-v0"], env=env, check=True, timeout=120)
    command = [
        *CIVILITY,
        "createuser",
        "--email",
        "a@example.org",
        "--password",
        "S3cure-pass!",
        "--moderator",
    ]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "already exists" in second.stderr and "Traceback" not in second.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str, str]:
    """Status, final URL and body, following redirects."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.url, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, url, ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """``civility serve --port P`` with CIVILITY_DATA_DIR=D, run from an empty folder."""
    data_dir, workdir = tmp_path / "data", tmp_path / "cwd"
    workdir.mkdir()
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [*CIVILITY, "serve", "--port", str(port), "--workers", "1"],
        env=_clean_env(data_dir),
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"civility serve exited: {(tmp_path / 'serve.log').read_text()}")
            try:
                if _get(base + "/")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("civility serve did not answer within 120 s")
        yield base, data_dir, workdir
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    log_text = (tmp_path / "serve.log").read_text()
    assert "moderator@example.org" in log_text
    assert "Demo discussions: " in log_text


@pytest.mark.slow
def test_serve_contract(served: tuple[str, Path, Path]) -> None:
    base, data_dir, workdir = served
    status, _, front = _get(base + "/")
    assert status == 200 and front.count('class="card"') >= 10
    article_path = front.split('class="card__headline"><a href="', 1)[1].split('"', 1)[0]
    status, _, article = _get(base + article_path)
    assert status == 200
    short_url = article.split(
        'id="short-url" class="short-url__input" type="text" readonly value="', 1
    )[1].split('"')[0]
    assert short_url.startswith(f"{base}/s/")
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(short_url, timeout=10)
    assert redirect.value.code == 301
    assert redirect.value.headers["Location"] == article_path
    # The demo discussions: comments under the articles, judged by the engine.
    status, _, discussed = _get(base + "/news/neighbours-agree-to-resume-peace-treaty-talks/")
    assert status == 200 and discussed.count("data-comment-id=") >= 4
    assert _get(base + "/static/civility/css/site.css")[0] == 200
    assert _get(base + "/news/no-such-story/")[0] == 404
    assert _get(base + "/search?q=" + "x" * 5000)[0] == 200
    assert _get(base + "/search?q=" + "%FF%00%C3" * 2000)[0] == 200
    # All state is under the data dir; the working folder stays empty.
    assert (data_dir / "civility.sqlite3").exists()
    assert (data_dir / "secret_key").exists()
    assert any((data_dir / "media").rglob("*.jpg"))
    assert list(workdir.iterdir()) == []
    # With no broker, the periodic jobs run in a `civility beat` process beside the server.
    beat_state = data_dir / "inline-beat.json"
    deadline = time.monotonic() + 60
    while not beat_state.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "civility-purge-deleted-accounts" in json.loads(beat_state.read_text())
