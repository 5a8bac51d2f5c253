"""Personal data: IP addresses are kept only as keyed hashes, and only for a while.

An address is needed for two jobs: rate limits (a few minutes) and spotting that several
accounts write from one place (moderators compare addresses, never read them). Both work on a
keyed hash as well as on the address, so the address itself is never stored:

* :func:`ip_digest` is an HMAC-SHA256 of the address, keyed from SECRET_KEY: without the key
  nobody can test the 2**32 IPv4 addresses against it.
* :func:`pseudonymise_ip` writes that digest as an IPv6 address in the unique-local range
  ``fd0c:1::/32`` so it fits the ``GenericIPAddressField`` columns the accounts and discussion
  apps already have (no schema change); equal addresses still give equal values.
* :func:`purge_ip_addresses` clears stored values older than CIVILITY_IP_RETENTION_DAYS
  (Celery beat runs it daily; ``civility manage purge_ip_addresses`` runs it by hand).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

# fd00::/8 is private (RFC 4193); no packet ever comes from fd0c:0001::/32 on the internet
# side of our proxy, so a stored value in it is recognisably a hash.
PSEUDONYM_PREFIX = ipaddress.IPv6Network("fd0c:1::/32")


def _key() -> bytes:
    return hashlib.sha256(f"civility-ip-pseudonym:{settings.SECRET_KEY}".encode()).digest()


def ip_digest(ip: str) -> str:
    """A keyed hash of an address (hex): the same for the same address, unreadable without the key."""
    canonical = str(ipaddress.ip_address(ip.strip())) if is_ip(ip) else ip.strip()
    return hmac.new(_key(), canonical.encode(), hashlib.sha256).hexdigest()


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


def is_pseudonym(value: str | None) -> bool:
    return (
        bool(value) and is_ip(str(value)) and ipaddress.ip_address(str(value)) in PSEUDONYM_PREFIX
    )


def pseudonymise_ip(ip: str | None) -> str:
    """The address as a keyed-hash IPv6 address in fd0c:1::/32 ('' for none; idempotent)."""
    if not ip:
        return ""
    if is_pseudonym(ip):
        return str(ip)
    digest = int(ip_digest(str(ip))[:24], 16)  # 96 bits fill the host part of the /32
    return str(ipaddress.IPv6Address(int(PSEUDONYM_PREFIX.network_address) | digest))


# (app_label.Model, field, timestamp field that says how old the value is)
STORED_IP_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("discussion.Comment", "ip_address", "created_at"),
    ("accounts.User", "signup_ip", "date_joined"),
    ("accounts.User", "last_login_ip", "last_login"),
)


def _model(label: str) -> Any:
    from django.apps import apps

    return apps.get_model(label)


def purge_ip_addresses(*, now: Any = None) -> dict[str, int]:
    """Clear every stored address older than the retention period; return counts per field."""
    cutoff = (now or timezone.now()) - timedelta(days=int(settings.CIVILITY_IP_RETENTION_DAYS))
    cleared: dict[str, int] = {}
    for label, field, stamp in STORED_IP_FIELDS:
        model = _model(label)
        old = model.objects.filter(**{f"{field}__isnull": False, f"{stamp}__lt": cutoff})
        cleared[f"{label}.{field}"] = old.update(**{field: None})
    return cleared


def pseudonymise_on_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    """pre_save receiver: replace a raw address with its pseudonym before it reaches the disk."""
    if not getattr(settings, "CIVILITY_IP_PSEUDONYMISE", True):
        return
    for label, field, _stamp in STORED_IP_FIELDS:
        if sender._meta.label == label:
            value = getattr(instance, field, None)
            if value and not is_pseudonym(value):
                setattr(instance, field, pseudonymise_ip(str(value)))
