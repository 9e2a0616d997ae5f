"""The link URI a member shows (and its QR), and what its one-time secret names.

``walletsync:link?v=1&secret=<base64url 32 bytes>&relay=<ws(s) url>&expires=<unix s>`` plus
``project=<32 hex>`` for the public relay. The secret is the only thing that lets a joiner find the
member: its derived hash names the link topic and a second derived key seals the handshake
messages (:mod:`walletsync.sync.link_wire`), so a relay that sees the topic learns neither.

The secret never prints: :class:`LinkUri` hides it in ``repr``/``str`` (only :meth:`LinkUri.format`
writes it), and no error quotes any part of the text it refuses, so a mangled URI cannot leak the
secret into a log through an error message.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlsplit

from walletsync.errors import WalletsyncError
from walletsync.protocol.crypto import KEY_BYTES, Random, b64url_encode, hkdf_sha256

LINK_LIFETIME = 300
"""Seconds a link URI is valid for by default: long enough to scan, short enough to be useless later."""
LINK_VERSION = 1
MAX_LINK_URI_CHARS = 1024
MAX_RELAY_CHARS = 512
_PREFIX = "walletsync:link?"
_SECRET_TEXT = re.compile(r"[A-Za-z0-9_-]{43}")
_DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII only: str.isdigit() also accepts '²' and '٢'
_PROJECT = re.compile(r"[0-9a-f]{32}")
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f\\@]")
"""Whitespace, controls, backslashes and userinfo: nothing a relay URL we would connect to contains."""


# --- errors --------------------------------------------------------------------------------


class LinkError(WalletsyncError):
    """A link URI or handshake message that cannot be used, or a step the link does not allow now.

    Messages never quote the input they refuse (it may hold the secret).
    """

    code = "link"


class LinkMalformed(LinkError):
    """A URI or message of the wrong shape: missing or unknown parts, bad encodings, wrong lengths."""

    code = "link_malformed"


class LinkOversized(LinkMalformed):
    """A URI or message longer than any valid one."""

    code = "link_oversized"


class LinkUnsupported(LinkMalformed):
    """A URI or message of a version this walletsync does not speak (a newer walletsync made it)."""

    code = "link_unsupported"


class LinkExpired(LinkError):
    """The link's expiry has passed: the member shows a new one."""

    code = "link_expired"


# --- what the secret names -----------------------------------------------------------------


def _require_secret(secret: bytes) -> bytes:
    if not isinstance(secret, (bytes, bytearray)) or len(secret) != KEY_BYTES:
        raise LinkMalformed(f"a link secret is {KEY_BYTES} bytes")
    return bytes(secret)


def link_topic(secret: bytes) -> str:
    """The relay topic of the handshake: sha256 (hex) of a value derived from the secret, never of the secret."""
    return hashlib.sha256(hkdf_sha256(_require_secret(secret), info=b"walletsync link topic v1")).hexdigest()


def link_key(secret: bytes) -> bytes:
    """The key sealing the handshake messages (XChaCha20-Poly1305); distinct from what names the topic."""
    return hkdf_sha256(_require_secret(secret), info=b"walletsync link key v1")


# --- the URI -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkUri:
    """A link the member offers. ``secret`` is one-time and never printed (``str`` is ``repr``)."""

    secret: bytes = field(repr=False)
    relay: str
    expires: int
    project: str | None = None
    version: int = LINK_VERSION

    def __post_init__(self) -> None:
        _require_secret(self.secret)
        check_relay(self.relay)
        if self.project is not None and not _PROJECT.fullmatch(self.project):
            raise LinkMalformed("a project id is 32 lowercase hex digits")
        if self.version != LINK_VERSION:
            raise LinkUnsupported(f"this walletsync writes version {LINK_VERSION} links")
        if not isinstance(self.expires, int) or isinstance(self.expires, bool) or self.expires < 0:
            raise LinkMalformed("expires is unix seconds")

    @classmethod
    def create(
        cls, random: Random, relay: str, now: float, *, project: str | None = None, lifetime: int = LINK_LIFETIME
    ) -> LinkUri:
        """A fresh link: 32 random bytes of secret, valid for ``lifetime`` seconds from ``now``."""
        return cls(random(KEY_BYTES), relay, int(now) + lifetime, project)

    @property
    def topic(self) -> str:
        return link_topic(self.secret)

    def is_expired(self, now: float) -> bool:
        """A link expiring at ``T`` is dead from ``T`` on."""
        return now >= self.expires

    def format(self) -> str:
        """The URI text (what the QR holds). It contains the secret: show it, never log it."""
        text = (
            f"{_PREFIX}v={self.version}&secret={b64url_encode(self.secret)}"
            f"&relay={quote(self.relay, safe=':/')}&expires={self.expires}"
        )
        return text + (f"&project={self.project}" if self.project else "")


def check_relay(relay: object) -> str:
    """A ``ws://`` or ``wss://`` URL with a host, no credentials, query or fragment; else :class:`LinkMalformed`."""
    if not isinstance(relay, str) or not relay:
        raise LinkMalformed("the relay URL is missing")
    if len(relay) > MAX_RELAY_CHARS:
        raise LinkOversized(f"the relay URL is {len(relay)} characters; at most {MAX_RELAY_CHARS}")
    if _UNSAFE_IN_URL.search(relay):
        raise LinkMalformed("the relay URL holds spaces, control characters or credentials")
    try:
        parts = urlsplit(relay)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise LinkMalformed("the relay URL is not a valid URL") from None
    if parts.scheme not in ("ws", "wss"):
        raise LinkMalformed("the relay URL must start with ws:// or wss://")
    if not parts.hostname:
        raise LinkMalformed("the relay URL has no host")
    if parts.query or parts.fragment or "?" in relay or "#" in relay:
        raise LinkMalformed("the relay URL must have no query or fragment")
    return relay


def parse_link_uri(text: object, now: float) -> LinkUri:
    """Read a link URI a user scanned or pasted; any problem is a :class:`LinkError` saying which.

    Parameters may come in any order; unknown ones are ignored (a later v1 may add some), a repeated
    one is refused. The link must not have expired at ``now``.
    """
    if not isinstance(text, str):
        raise LinkMalformed("a link URI is text")
    if len(text) > MAX_LINK_URI_CHARS:
        raise LinkOversized(f"the link URI is {len(text)} characters; at most {MAX_LINK_URI_CHARS}")
    text = text.strip()
    prefix = text[: len(_PREFIX)]
    if not (prefix.isascii() and prefix.lower() == _PREFIX):
        raise LinkMalformed("not a walletsync link (it must start with 'walletsync:link?')")
    try:
        pairs = parse_qsl(text[len(_PREFIX) :], keep_blank_values=True, max_num_fields=16, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise LinkMalformed("the link's parameters are malformed") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise LinkMalformed("the link repeats a parameter")
        params[key] = value
    version = params.get("v")
    if version is None:
        raise LinkMalformed("the link has no version (v=)")
    if not _DIGITS.fullmatch(version) or len(version) > 3:
        raise LinkMalformed("the link's version (v=) is not a number")
    if int(version) != LINK_VERSION:
        raise LinkUnsupported(f"this is a version {int(version)} link; this walletsync reads version {LINK_VERSION}")
    secret_text = params.get("secret")
    if secret_text is None:
        raise LinkMalformed("the link has no secret")
    if not _SECRET_TEXT.fullmatch(secret_text):
        raise LinkMalformed(f"the link's secret must be 43 base64url characters, got {len(secret_text)}")
    secret = _b64url_32(secret_text)
    relay = params.get("relay")
    if relay is None:
        raise LinkMalformed("the link has no relay")
    expires_text = params.get("expires")
    if expires_text is None:
        raise LinkMalformed("the link has no expiry (expires=)")
    if not _DIGITS.fullmatch(expires_text):
        raise LinkMalformed("the link's expiry (expires=) must be unix seconds")
    project = params.get("project")
    if project is not None and not _PROJECT.fullmatch(project):
        raise LinkMalformed("the link's project id must be 32 lowercase hex digits")
    uri = LinkUri(secret, check_relay(relay), int(expires_text), project)
    if uri.is_expired(now):
        raise LinkExpired("this link has expired: show a new one on the other device")
    return uri


def _b64url_32(text: str) -> bytes:
    """32 bytes from 43 base64url characters, refusing the non-canonical spellings (stray low bits)."""
    secret = base64.urlsafe_b64decode(text + "=")
    if len(secret) != KEY_BYTES or b64url_encode(secret) != text:
        raise LinkMalformed("the link's secret is not canonical base64url")
    return secret


__all__ = [
    "LINK_LIFETIME",
    "LINK_VERSION",
    "MAX_LINK_URI_CHARS",
    "LinkError",
    "LinkExpired",
    "LinkMalformed",
    "LinkOversized",
    "LinkUnsupported",
    "LinkUri",
    "check_relay",
    "link_key",
    "link_topic",
    "parse_link_uri",
]
