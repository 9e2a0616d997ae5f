"""Pairing URIs: ``wc:{topic}@2?{query}`` (reference §1).

Parsing is order-insensitive and accepts what wallets meet in the wild (``wc://``
from Android intents, a base64-wrapped URI); formatting writes what SDK 2.25
writes: query keys sorted, ``URLSearchParams`` encoding.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote_plus

from walletsync.protocol.crypto import KEY_BYTES, key_from_hex, topic_for
from walletsync.protocol.errors import InvalidKey, InvalidUri

PAIRING_TTL = 300
MAX_URI_LENGTH = 4096
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also accepts '²' and '٢'


@dataclass(frozen=True)
class PairingUri:
    """A parsed pairing URI. ``sym_key`` is a secret: ``repr`` hides it."""

    topic: str
    sym_key: bytes = field(repr=False)
    relay_protocol: str = "irn"
    relay_data: str | None = None
    expiry_timestamp: int | None = None
    methods: tuple[str, ...] = ()
    version: int = 2

    @classmethod
    def create(cls, sym_key: bytes, *, expiry_timestamp: int, methods: tuple[str, ...] = ()) -> PairingUri:
        """A fresh pairing for ``sym_key`` (32 random bytes); the topic is its sha256."""
        return cls(topic_for(sym_key), sym_key, expiry_timestamp=expiry_timestamp, methods=tuple(methods))

    def is_expired(self, now: float) -> bool:
        return self.expiry_timestamp is not None and self.expiry_timestamp < now

    def __str__(self) -> str:
        return format_uri(self)


def _form_encode(value: str) -> str:
    """``URLSearchParams`` encoding: like quote_plus, but ``*`` stays and ``~`` is escaped."""
    return quote_plus(value, safe="*").replace("~", "%7E")


def format_uri(uri: PairingUri) -> str:
    """The URI string exactly as SDK 2.25 formats it (keys sorted, flat comma list of methods)."""
    params: dict[str, str] = {"symKey": uri.sym_key.hex(), "relay-protocol": uri.relay_protocol}
    if uri.expiry_timestamp is not None:
        params["expiryTimestamp"] = str(int(uri.expiry_timestamp))
    if uri.methods:
        params["methods"] = ",".join(uri.methods)
    if uri.relay_data:
        params["relay-data"] = uri.relay_data
    query = "&".join(f"{_form_encode(k)}={_form_encode(params[k])}" for k in sorted(params, key=str.lower))
    return f"wc:{uri.topic}@{uri.version}?{query}"


def _unwrap_base64(text: str) -> str:
    try:
        decoded = base64.b64decode(text.strip() + "=" * (-len(text.strip()) % 4), validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidUri("not a WalletConnect URI (no 'wc:' and not base64 of one)", by="peer") from None
    if "wc:" not in decoded:
        raise InvalidUri("not a WalletConnect URI (no 'wc:' and not base64 of one)", by="peer")
    return decoded


def parse_uri(text: str) -> PairingUri:
    """Parse a pairing URI; raise :class:`InvalidUri` saying exactly what is wrong.

    Expiry is not checked here (no clock): use :meth:`PairingUri.is_expired`.
    """
    if not isinstance(text, str):
        raise InvalidUri(f"URI must be text, got {type(text).__name__}", by="peer")
    if len(text) > MAX_URI_LENGTH:
        raise InvalidUri(f"URI is {len(text)} chars long; at most {MAX_URI_LENGTH} allowed", by="peer")
    text = text.strip()
    if "wc:" not in text:
        text = _unwrap_base64(text)
    text = text[text.index("wc:") :]
    rest = text[len("wc://") :] if text.startswith("wc://") else text[len("wc:") :]
    rest = rest.removeprefix("//")
    head, sep, query = rest.partition("?")
    if not sep:
        raise InvalidUri("URI has no query (symKey and relay-protocol are required)", by="peer")
    topic, at, version_text = head.partition("@")
    if not at:
        raise InvalidUri("URI has no '@version' after the topic", by="peer")
    if not _DIGITS.fullmatch(version_text) or len(version_text) > 3:
        raise InvalidUri(f"version must be a number, got {version_text[:8]!r}", by="peer")
    version = int(version_text)
    if version != 2:
        raise InvalidUri(f"only WalletConnect v2 URIs are supported, got version {version}", by="peer")
    if not _HEX64.fullmatch(topic):
        raise InvalidUri(f"topic must be 64 lowercase hex chars, got {len(topic)} chars", by="peer")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False, max_num_fields=32)
    except ValueError as exc:
        raise InvalidUri(f"query is malformed: {exc}", by="peer") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise InvalidUri(f"query repeats {key!r}", by="peer")
        params[key] = value
    sym_key_hex = params.get("symKey")
    if not sym_key_hex:
        raise InvalidUri("symKey is missing", by="peer")
    try:
        sym_key = key_from_hex(sym_key_hex, "symKey")
    except InvalidKey as exc:
        raise InvalidUri(str(exc), by="peer") from None
    relay_protocol = params.get("relay-protocol")
    if not relay_protocol:
        raise InvalidUri("relay-protocol is missing", by="peer")
    expiry: int | None = None
    if "expiryTimestamp" in params:
        raw = params["expiryTimestamp"]
        if not _DIGITS.fullmatch(raw) or len(raw) > 12:
            raise InvalidUri(f"expiryTimestamp must be unix seconds, got {raw[:16]!r}", by="peer")
        expiry = int(raw)
    methods = tuple(m for m in params.get("methods", "").split(",") if m)
    return PairingUri(
        topic=topic,
        sym_key=sym_key,
        relay_protocol=relay_protocol,
        relay_data=params.get("relay-data") or None,
        expiry_timestamp=expiry,
        methods=methods,
        version=version,
    )


__all__ = ["PAIRING_TTL", "KEY_BYTES", "PairingUri", "format_uri", "parse_uri"]
