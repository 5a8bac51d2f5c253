"""PostgreSQL restarts while comments are posted: while it is down, requests get 503 with
Retry-After; nothing is half-written (every comment has its audit row); the site recovers by
itself. The test runs its own PostgreSQL (initdb into a temporary directory, a spare port) and
a gunicorn serving the site on it, so the machine's shared server is left alone."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CLEAN = "The talks on the peace treaty and the islands seem to be making slow progress."


def postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivatePostgres:
    bin: Path
    data: Path
    port: int
    as_owner: list[str]

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                *self.as_owner,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "-l",
                str(self.data.parent / "postgres.log"),
                *args,
            ],
            check=True,
            capture_output=True,
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    pg_bin = postgres_bin()
    if pg_bin is None:
        pytest.skip("needs PostgreSQL's server binaries (initdb, pg_ctl)")
    root = Path(tempfile.mkdtemp(prefix="civility-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as postgres
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        root.chmod(0o755)
        shutil.chown(root, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    server = PrivatePostgres(pg_bin, root / "data", free_port(), as_owner)
    subprocess.run(
        [
            *as_owner,
            str(pg_bin / "initdb"),
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    server.ctl("start")
    try:
        yield server
    finally:
        subprocess.run(
            [*as_owner, str(pg_bin / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def site_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CIVILITY_", "DJANGO_", "PYTEST"))
    }
    env.update(
        CIVILITY_DATABASE_URL=database_url,
        CIVILITY_DATA_DIR=str(data_dir),
        CIVILITY_READ_CACHE_SECONDS="0",
        CIVILITY_ONNX_THREADS="1",
        DJANGO_SETTINGS_MODULE="tests.integration.restart_settings",
        PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "src")]),
    )
    return env


SEED = """
import django, json
django.setup()
from civility.accounts.commands.createuser import create_user
from civility.discussion.services import issue_api_token, thread_for_article
from civility.news.models import Article
article = Article.objects.create(slug="restart", headline="Talks resume", lead="Ministers met.",
                                 body="<p>The ministers met on Monday.</p>")
thread_for_article(article)
raw, _ = issue_api_token(create_user("poster@restart.example", "restart-password-123"))
print(json.dumps({"token": raw}))
"""


def post(base: str, token: str, n: int) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(
        f"{base}/api/articles/restart/comments",
        data=json.dumps({"text": f"{CLEAN} Number {n}.", "client_token": f"restart-{n}"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return list(connection.execute(sql).fetchall())


@pytest.mark.slow
def test_postgres_restart_gives_503_writes_nothing_half_and_recovers(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    env = site_environment(private_postgres.url, tmp_path)
    civility = [sys.executable, "-m", "civility.cli"]
    subprocess.run(
        [*civility, "manage", "migrate", "--no-input"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    seeded = subprocess.run(
        [sys.executable, "-c", SEED], env=env, cwd=REPO, check=True, capture_output=True, text=True
    )
    token = json.loads(seeded.stdout.strip().splitlines()[-1])["token"]
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "civility.config.wsgi:application",
        ],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # up, engine built, posting works
            try:
                if post(base, token, 0)[0] in (200, 201):
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(1)
        accepted = {0}
        for n in range(1, 4):
            assert post(base, token, n)[0] == 201
            accepted.add(n)

        private_postgres.ctl("-m", "fast", "stop")
        while_down = [post(base, token, n) for n in range(4, 8)]
        for status, headers in while_down:
            assert status == 503, status
            assert headers.get("Retry-After", "").isdigit()
        private_postgres.ctl("start")

        # The site recovers by itself: the next posts succeed without a restart of gunicorn.
        recovered = None
        deadline = time.monotonic() + 60
        n = 8
        while time.monotonic() < deadline and recovered is None:
            status, _ = post(base, token, n)
            if status == 201:
                recovered = n
                accepted.add(n)
            n += 1
        assert recovered is not None, "posting did not recover after PostgreSQL came back"
        for m in range(n, n + 3):
            assert post(base, token, m)[0] == 201
            accepted.add(m)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=60)

    saved = rows(
        private_postgres.url,
        "SELECT c.client_token, count(a.id) FROM discussion_comment c LEFT JOIN "
        "moderation_auditlog a ON a.target_id = c.id::text AND a.action = 'comment.posted' "
        "GROUP BY c.client_token",
    )
    by_token = dict(saved)
    assert {f"restart-{n}" for n in accepted} <= set(by_token)  # nothing accepted is lost
    assert all(count == 1 for count in by_token.values()), by_token  # no half-written comment
    down_tokens = {f"restart-{n}" for n in range(4, 8)}
    assert not down_tokens & set(by_token)  # refused while down: not written at all
