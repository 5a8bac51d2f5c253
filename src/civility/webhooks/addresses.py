"""Which endpoint URLs Civility may call.

A webhook makes the server send requests wherever an admin says, so an endpoint on the
server's own network (the database, Redis, a cloud metadata service at 169.254.169.254) is
refused unless CIVILITY_WEBHOOKS_ALLOW_PRIVATE is on. The check runs when the endpoint is
saved and again before each send, because what a host name resolves to can change.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

ALLOWED_SCHEMES = ("http", "https")


class RefusedAddress(ValueError):
    """The URL is malformed, does not resolve, or points at a non-public address."""


def is_public(address: str) -> bool:
    """Whether ``address`` (an IP address as getaddrinfo gives it) is routable on the public
    internet: loopback, private, link-local, shared (CGNAT), reserved, documentation and
    multicast ranges are not, and neither are IPv4 addresses mapped into IPv6."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool | None = None) -> None:
    """Raise :class:`RefusedAddress` unless ``url`` is http(s) with a host whose every address
    is public (or private addresses are allowed). Resolves the host name (DNS)."""
    if allow_private is None:
        allow_private = bool(settings.CIVILITY_WEBHOOKS_ALLOW_PRIVATE)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedAddress(_("This is not a valid URL.")) from exc
    if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise RefusedAddress(_("Only http:// and https:// URLs with a host name can be used."))
    if allow_private:
        return
    default_port = 443 if parts.scheme == "https" else 80
    try:
        found = socket.getaddrinfo(parts.hostname, port or default_port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedAddress(
            _("The host name %(host)s could not be resolved.") % {"host": parts.hostname}
        ) from exc
    addresses = {str(info[4][0]) for info in found}
    # Every address must be public: a name that also resolves to an internal one could be
    # answered with that one at send time.
    private = sorted(a for a in addresses if not is_public(a))
    if private or not addresses:
        raise RefusedAddress(
            _(
                "%(host)s resolves to a private, loopback or reserved address (%(addresses)s). "
                "Webhooks only go to public addresses unless CIVILITY_WEBHOOKS_ALLOW_PRIVATE "
                "is set."
            )
            % {"host": parts.hostname, "addresses": ", ".join(private)}
        )
