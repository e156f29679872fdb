"""Webhook URL safety: the SSRF guard.

A target is refused when its host is, or resolves to, any address that is not plainly
public: loopback, private, link-local (incl. 169.254.169.254), carrier-grade NAT, multicast,
reserved, unspecified, IPv4 embedded in IPv6 (mapped, 6to4, NAT64) pointing at one of those,
and every odd IPv4 spelling (``2130706433``, ``0177.0.0.1``, ``0x7f.1``). The check runs at
creation and again at delivery, where the sender connects to exactly the address it checked
(no DNS-rebinding window). ``ALLOW_PRIVATE_WEBHOOK_TARGETS=true`` lifts it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from paysandbox.settings import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(ValueError):
    """The URL's host is or resolves to an address webhooks must not reach."""


class UnresolvableTarget(ValueError):
    """DNS gave no address for the host."""


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: the URL's parts and the checked addresses to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def is_forbidden(address: IPAddress) -> bool:
    """True for every address that is not a plain public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and is_forbidden(embedded):
            return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT)
        or not address.is_global
    )


def literal_address(host: str) -> IPAddress | None:
    """The address a host string denotes by itself, in any spelling a resolver accepts.

    ``inet_aton`` is what libc resolvers (and so HTTP clients) use for IPv4 literals: it
    reads decimal (``2130706433``), octal (``0177.0.0.1``), hex (``0x7f.1``) and short forms.
    """
    bare = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if bare and all(c in "0123456789abcdefxABCDEFX." for c in bare) and bare[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (the module-level seam tests replace for DNS names)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _parts(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("must be an absolute http(s) URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget("has an invalid port") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def _addresses(host: str, port: int) -> list[IPAddress]:
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        raise UnresolvableTarget(f"host {host!r} does not resolve") from None
    if not found:
        raise UnresolvableTarget(f"host {host!r} does not resolve")
    return found


def check_at_creation(url: str) -> str:
    """Refuse a webhook URL whose host is or resolves to a forbidden address.

    A name that does not resolve yet is accepted (the merchant may create DNS later);
    delivery checks again against the address it actually connects to.
    """
    if get_settings().allow_private_webhook_targets:
        return url
    _, host, port, _ = _parts(url)
    try:
        addresses = _addresses(host, port)
    except UnresolvableTarget:
        return url
    if any(is_forbidden(a) for a in addresses):
        raise UnsafeTarget("must not point at a private, loopback, link-local or reserved address")
    return url


def target_for_delivery(url: str) -> Target:
    """Resolve and check once; the sender connects only to the returned addresses."""
    scheme, host, port, path = _parts(url)
    addresses = _addresses(host, port)
    if not get_settings().allow_private_webhook_targets:
        bad = [a for a in addresses if is_forbidden(a)]
        if bad:
            raise UnsafeTarget(f"host {host!r} resolves to a forbidden address")
    # Bracket-free host for the Host header / SNI; IPv6 literals get brackets back in Host.
    return Target(scheme, host, port, path, tuple(str(a) for a in addresses))
