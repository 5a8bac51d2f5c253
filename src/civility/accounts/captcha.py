"""ALTCHA proof-of-work captcha, verified on the server, each solution accepted once.

The browser receives a challenge (SHA-256 of ``salt + number`` with the number withheld, signed
with our HMAC key), finds the number by brute force and posts back a base64 JSON payload.
The server checks the signature and the hash, refuses expired challenges, and remembers the
challenge in the shared cache until it expires, so a solved payload cannot be replayed.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
from typing import Literal, cast

import altcha
from altcha.v1 import PayloadType
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

REPLAY_KEY_PREFIX = "civility:altcha:used:"


def _hmac_key() -> str:
    # Derived from SECRET_KEY so no extra secret has to be configured or stored.
    return hashlib.sha256(f"civility-altcha:{settings.SECRET_KEY}".encode()).hexdigest()


def new_challenge() -> dict[str, object]:
    """Create a signed challenge as the JSON the widget expects."""
    expires = timezone.now() + datetime.timedelta(seconds=settings.CIVILITY_CAPTCHA_EXPIRES_SECONDS)
    options = altcha.ChallengeOptionsV1(
        algorithm="SHA-256",
        max_number=settings.CIVILITY_CAPTCHA_MAX_NUMBER,
        hmac_key=_hmac_key(),
        expires=expires,
    )
    challenge = altcha.create_challenge_v1(options)
    return dict(challenge.to_dict())


class CaptchaError(ValueError):
    """The payload is missing, malformed, wrong, expired or already used."""


def verify(payload: str) -> None:
    """Accept a solved payload once; raise :class:`CaptchaError` otherwise."""
    if not payload:
        raise CaptchaError(_("Please solve the anti-robot check."))
    try:
        decoded = json.loads(base64.b64decode(payload, validate=True).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise CaptchaError(_("The anti-robot check is invalid. Please try again.")) from error
    if not isinstance(decoded, dict):
        raise CaptchaError(_("The anti-robot check is invalid. Please try again."))
    ok, reason = altcha.verify_solution_v1(
        cast(PayloadType, decoded), _hmac_key(), check_expires=True
    )
    if not ok:
        if reason and "expired" in reason:
            raise CaptchaError(_("The anti-robot check expired. Please solve it again."))
        raise CaptchaError(_("The anti-robot check failed. Please try again."))
    # cache.add is atomic on Redis and locmem: only the first submission of a challenge wins.
    replay_key = REPLAY_KEY_PREFIX + str(decoded["challenge"])
    if not cache.add(replay_key, 1, timeout=settings.CIVILITY_CAPTCHA_EXPIRES_SECONDS + 60):
        raise CaptchaError(_("This anti-robot check was already used. Please solve it again."))


def solve(challenge: dict[str, object]) -> str:
    """Solve a challenge the way the widget does (for tests and the CLI); return the payload."""
    algorithm = str(challenge["algorithm"])
    if algorithm not in ("SHA-1", "SHA-256", "SHA-512"):
        raise CaptchaError("unsupported algorithm")
    solution = altcha.solve_challenge_v1(
        str(challenge["challenge"]),
        str(challenge["salt"]),
        cast(Literal["SHA-1", "SHA-256", "SHA-512"], algorithm),
        int(str(challenge.get("maxNumber") or 1_000_000)),
    )
    if solution is None:
        raise CaptchaError("unsolvable challenge")
    payload = {
        "algorithm": algorithm,
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()
