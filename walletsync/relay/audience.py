"""Which relay-auth JWT audiences this relay accepts: tokens minted for it, not for another relay.

A client signs its token for the relay URL it connects to (the JS SDK and
walletsync's transport put that URL, as configured, in ``aud``). A token shown to
another relay must not work here, or any relay that ever saw it could act as that
client. Audiences are compared by origin (ws≡http, wss≡https, host, port), so a
trailing slash, a path or a query in the configured URL do not matter.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

_SCHEMES = {"ws": ("ws", 80), "http": ("ws", 80), "wss": ("wss", 443), "https": ("wss", 443)}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "localhost.localdomain", "ip6-localhost")

Origin = tuple[str, str, int]


def origin(url: str) -> Origin | None:
    """``(scheme, host, port)`` of a relay URL, or None if it is not a ws/wss/http/https URL."""
    try:
        parts = urlsplit(url.strip())
        scheme = _SCHEMES.get(parts.scheme.lower())
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:  # a bad port or bracket
        return None
    if scheme is None or not host:
        return None
    return (scheme[0], host, port if port is not None else scheme[1])


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")


def _this_machine() -> set[str]:
    """Names and addresses a client on the network may use for this machine (a best effort; --public-url for the rest)."""
    names = {socket.gethostname(), socket.getfqdn()}
    addresses: set[str] = set()
    for name in list(names):
        try:
            addresses |= {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
        except OSError:
            pass
    return {n.lower() for n in names | addresses if n}


def accepted_origins(host: str, port: int, public_urls: Iterable[str] = ()) -> frozenset[Origin]:
    """What ``aud`` may name: this relay's listening URL (its loopback aliases when it listens on
    loopback; this machine's names when it listens on every address) and every public URL."""
    hosts = {host.strip("[]").lower()}
    if _is_loopback(host) or _is_wildcard(host):
        hosts |= set(LOOPBACK_NAMES)
    if _is_wildcard(host):
        hosts |= _this_machine()
    out = {(scheme, h, port) for h in hosts for scheme in ("ws", "wss")}
    for url in public_urls:
        o = origin(url)
        if o is None:
            raise ValueError(f"public URL {url!r} is not a ws://, wss://, http:// or https:// URL")
        out.add(o)
    return frozenset(out)
