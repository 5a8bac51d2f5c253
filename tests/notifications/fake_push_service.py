"""A local stand-in for a browser vendor's push service (the outside world in these tests).

It accepts Web Push requests over HTTP, checks the VAPID header, decrypts the aes128gcm body
with the subscriber's private key and auth secret (RFC 8291), and records what arrived.
Each endpoint can be told to answer with another status (404/410: subscription gone).
"""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """The keys a browser generates when it subscribes."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def subscription_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    payload: dict[str, Any] | None
    vapid_claims: dict[str, Any]


class FakePushService:
    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.deliveries: list[Delivery] = []
        self.statuses: dict[str, int] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                service._receive(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                status = service.statuses.get(self.path, 201)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def new_browser(self, name: str) -> Browser:
        browser = Browser(endpoint=f"{self.base_url}/push/{name}")
        self.browsers[f"/push/{name}"] = browser
        return browser

    def answer(self, browser: Browser, status: int) -> None:
        self.statuses[browser.endpoint.removeprefix(self.base_url)] = status

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> None:
        browser = self.browsers.get(path)
        payload = None
        if browser is not None and body:
            assert headers.get("content-encoding") == "aes128gcm", headers
            plain = http_ece.decrypt(
                body,
                private_key=browser.private_key,
                auth_secret=browser.auth_secret,
                version="aes128gcm",
            )
            payload = json.loads(plain)
        claims: dict[str, Any] = {}
        authorization = headers.get("authorization", "")
        if authorization.startswith("vapid "):
            parts = dict(
                part.strip().split("=", 1) for part in authorization[len("vapid ") :].split(",")
            )
            claims = json.loads(b64url_decode(parts["t"].split(".")[1]))
            claims["_k"] = parts["k"]
        self.deliveries.append(
            Delivery(path=path, headers=headers, payload=payload, vapid_claims=claims)
        )

    def __enter__(self) -> FakePushService:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
