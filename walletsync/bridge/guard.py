"""Who may talk to the bridge: the checks every HTTP request and WebSocket handshake passes before it is read.

Pure: headers in, a :class:`Refusal` (or None) out. The bridge listens on loopback only, but a web page in the
user's browser can still reach loopback: through DNS rebinding (a name of the attacker's that resolves to
127.0.0.1, so the ``Host`` header is that name) or by posting from its own origin (an ``Origin`` header). So a
request is refused unless its ``Host`` is a loopback name, and unless it has no ``Origin`` or one the user
allowed; with a token, unless it carries ``Authorization: Bearer TOKEN``.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from dataclasses import dataclass

LOOPBACK_HOST = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\])(?::(?P<port>[0-9]{1,5}))?", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: ``reason`` a stable word (``host``, ``origin``, ``token``), ``status`` the HTTP
    status to answer with, ``message`` for the client."""

    reason: str
    status: int
    message: str


@dataclass(frozen=True)
class Guard:
    """The rules for one listening endpoint: its ``port``, the origins the user allowed, and the token (if any)."""

    port: int
    allowed_origins: frozenset[str] = frozenset()
    token: str | None = None

    def check(self, host: str | None, origin: str | None, authorization: str | None) -> Refusal | None:
        """None when a request with these headers may be served; else why not."""
        if not loopback_host(host, self.port):
            return Refusal("host", 403, f"refused: {host_problem(host, self.port)}")
        if origin is not None and normal_origin(origin) not in self.allowed_origins:
            return Refusal("origin", 403, "refused: requests from a web page are served only from an allowed origin")
        if self.token is not None and not _bearer_matches(authorization, self.token):
            return Refusal("token", 401, "refused: this endpoint needs 'Authorization: Bearer TOKEN'")
        return None

    def allows_origin(self, origin: str | None) -> bool:
        """True for an origin the user allowed (its responses then carry CORS headers for it)."""
        return origin is not None and normal_origin(origin) in self.allowed_origins


def loopback_host(host: str | None, port: int) -> bool:
    """True for ``127.0.0.1``, ``localhost`` or ``[::1]``, alone or with this ``port``."""
    found = LOOPBACK_HOST.fullmatch(host or "")
    return found is not None and (found["port"] is None or int(found["port"]) == port)


def host_problem(host: str | None, port: int) -> str:
    """Why ``Host`` is refused, said so that the fix is plain: another port (DNS rebinding through a port a page
    owns), or a name that is not loopback."""
    found = LOOPBACK_HOST.fullmatch(host or "")
    if found is not None:
        return f"the Host header names port {found['port']}, not this endpoint's {port}"
    return "the Host header is not a loopback name (127.0.0.1, localhost, [::1])"


def normal_origin(origin: str) -> str:
    """An origin as compared: lower case, no trailing slash (``http://localhost:3000``)."""
    return origin.strip().rstrip("/").lower()


def loopback_address(host: str) -> bool:
    """True when listening on ``host`` reaches this machine only (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
