"""A real HTTP receiver on 127.0.0.1 (the private-address check is relaxed for it) and
endpoints made through the service."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from civility.webhooks import services
from civility.webhooks.models import WebhookEndpoint


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[ReceivedRequest] = field(default_factory=list)
    # Status codes to answer, in order; then ``default_status``.
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else self.default_status


def verifies(request: ReceivedRequest, secret: str) -> bool:
    """What a receiver does (docs/webhooks.md): recompute the HMAC of "<t>.<body>"."""
    parts = dict(item.split("=", 1) for item in request.headers["Civility-Signature"].split(","))
    signed = parts["t"].encode() + b"." + request.body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE = True
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.received.append(ReceivedRequest(self.path, dict(self.headers.items()), body))
            status = state.next_status()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"receiver says no " * 100)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/civility"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port_url(settings: Any) -> str:
    """A URL nothing listens on: connections are refused at once."""
    settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE = True
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/down"


@pytest.fixture
def make_endpoint(db: None) -> Callable[..., WebhookEndpoint]:
    def make(url: str, events: list[str], **fields: Any) -> WebhookEndpoint:
        return services.save_endpoint(WebhookEndpoint(url=url, events=events, **fields), by=None)

    return make


@pytest.fixture
def lenient_policy(db: None) -> Any:
    """Every rule switched off: the engine publishes whatever these tests post."""
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy
    from civility.standards.policy import Policy

    base = site_default_policy()
    rules = {slug: {"enabled": False} for slug in base.rules}
    return save_policy(Policy.from_dict({"rules": rules}, base=base), by=None, note="tests")
