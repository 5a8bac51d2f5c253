"""VAPID keys for web push: configured, or generated once into the data dir."""

from __future__ import annotations

import base64
import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from py_vapid import Vapid

KEY_FILE_NAME = "vapid_private.pem"


def key_file() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILE_NAME


@functools.cache
def vapid() -> Vapid:
    """The site's VAPID key pair (process-wide; the file is written once, atomically)."""
    configured = settings.CIVILITY_VAPID_PRIVATE_KEY
    if configured:
        if "BEGIN" in configured:
            return Vapid.from_pem(configured.encode())
        return Vapid.from_string(configured)
    path = key_file()
    if not path.exists():
        generated = Vapid()
        generated.generate_keys()
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(generated.private_pem())
        temporary.chmod(0o600)
        try:
            # Another process may have won the race: keep its key, drop ours.
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return Vapid.from_file(str(path))


def application_server_key() -> str:
    """The public key as the browser's PushManager.subscribe() wants it (base64url, raw point)."""
    raw = vapid().public_key.public_bytes(
        encoding=serialization.Encoding.X962, format=serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
