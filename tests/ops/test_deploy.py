"""The example deployment files in deploy/ stay consistent with the code (they are not run)."""

from __future__ import annotations

import configparser
import runpy
from pathlib import Path
from typing import Any

import pytest

from civility.cli import SUBCOMMANDS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_gunicorn_config_uses_sync_workers_and_prepares_the_metrics_dir(
    tmp_path: Path, monkeypatch: Any
) -> None:
    metrics_dir = tmp_path / "prometheus"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["worker_class"] == "sync"
    assert config["workers"] == 3
    assert config["timeout"] > 0 and config["max_requests"] > 0
    (metrics_dir).mkdir()
    (metrics_dir / "counter_123.db").write_bytes(b"stale")
    config["on_starting"](None)
    assert metrics_dir.is_dir() and not any(metrics_dir.iterdir())


@pytest.mark.parametrize(
    ("unit", "command"),
    [
        ("civility-web.service", "gunicorn -c /opt/civility/deploy/gunicorn.conf.py"),
        ("civility-web-posts.service", "gunicorn -c /opt/civility/deploy/gunicorn.conf.py"),
        ("civility-worker@.service", "civility worker"),
        ("civility-beat.service", "civility beat"),
    ],
)
def test_systemd_units_run_the_documented_commands(unit: str, command: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / unit)
    assert command in parser["Service"]["ExecStart"]
    assert parser["Service"]["EnvironmentFile"] == "/etc/civility/civility.env"
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_compose_runs_every_part_and_the_cli_knows_their_commands() -> None:
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert services["worker"]["command"][:2] == ["civility", "worker"]
    assert services["beat"]["command"][:2] == ["civility", "beat"]
    assert "worker" in SUBCOMMANDS and "beat" in SUBCOMMANDS
    assert "/healthz" in str(services["web"]["healthcheck"])


def test_environment_example_names_only_documented_variables() -> None:
    from civility.config.env import VARIABLES

    names = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (DEPLOY / "civility.env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and line.lstrip("# ").startswith("CIVILITY_")
    }
    assert names and names <= set(VARIABLES), sorted(names - set(VARIABLES))


def test_gunicorn_closes_a_served_connection_at_once_unless_request_bytes_are_unread(
    monkeypatch: Any,
) -> None:
    """close_promptly sends FIN without waiting for the client when nothing is unread, and
    falls back to gunicorn's draining close when request bytes are still in the buffer."""
    import socket

    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    drained: list[Any] = []
    config["close_promptly"].__globals__["graceful"] = lambda sock, *a: (
        drained.append(sock),
        sock.close(),
    )
    server, client = socket.socketpair()
    config["close_promptly"](server)  # the client has not closed and sent nothing more
    assert server.fileno() == -1 and drained == []
    assert client.recv(1) == b""  # the client sees the end of the response at once
    client.close()

    server, client = socket.socketpair()
    client.close()  # the client closed first: nothing to wait for
    config["close_promptly"](server)
    assert server.fileno() == -1 and drained == []

    server, client = socket.socketpair()
    client.sendall(b"unread request bytes")
    config["close_promptly"](server)
    assert drained == [server] and server.fileno() == -1
    client.close()


def test_posts_pool_has_the_larger_cpu_share_and_its_own_port() -> None:
    units = {}
    for name in ("civility-web.service", "civility-web-posts.service"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(DEPLOY / "systemd" / name)
        units[name] = parser["Service"]
    readers, posts = units["civility-web.service"], units["civility-web-posts.service"]
    assert int(posts["CPUWeight"]) > int(readers["CPUWeight"])
    assert "--bind 127.0.0.1:8002" in posts["ExecStart"]
    assert "--bind 127.0.0.1:8000" in readers["ExecStart"]
