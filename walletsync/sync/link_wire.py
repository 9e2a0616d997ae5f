"""The bytes on the link topic: how a handshake message is sealed, and what each kind's body holds.

::

    message = version (1) ‖ nonce (24) ‖ XChaCha20-Poly1305(link key, kind (1) ‖ body, aad = version)

The commit, offer, reveal and refusal bodies are canonical JSON (sorted keys, no spaces), and a
reader refuses any other spelling: the transcript (:mod:`walletsync.sync.link_agreement`) hashes
the bytes, so a message must have one. The confirmation and the welcome parts are sealed again,
under keys of the agreement. Every reader raises a :class:`LinkError` subclass that quotes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from nacl import bindings
from nacl.exceptions import CryptoError

from walletsync.protocol.crypto import KEY_BYTES, Random
from walletsync.sync.ids import device_id, is_device_id
from walletsync.sync.link_uri import LinkError, LinkMalformed, LinkOversized, LinkUnsupported

WIRE_VERSION = 1
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
TAG_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
MAX_BODY_BYTES = 2048
"""A commit, offer, reveal, confirm or refusal is a few hundred bytes; nothing longer is one."""
MAX_WELCOME_BYTES = 8 * 1024 * 1024
WELCOME_PART_BYTES = 64 * 1024
"""The welcome travels in parts so each relay message stays well under the relay's size limit."""
MAX_WELCOME_PARTS = MAX_WELCOME_BYTES // WELCOME_PART_BYTES
PART_HEAD_BYTES = 4
"""A welcome part starts with its index and the number of parts, two bytes each."""
MAX_NAME_CHARS = 128
MAX_MESSAGE_BYTES = 1 + NONCE_BYTES + TAG_BYTES + 1 + PART_HEAD_BYTES + NONCE_BYTES + TAG_BYTES + WELCOME_PART_BYTES
_MIN_MESSAGE_BYTES = 1 + NONCE_BYTES + TAG_BYTES + 1
_HEADER = bytes([WIRE_VERSION])

COMMIT, OFFER, REVEAL, CONFIRM, WELCOME, REFUSED = 1, 2, 3, 4, 5, 6
_KIND_NAMES = {
    COMMIT: "commit",
    OFFER: "offer",
    REVEAL: "reveal",
    CONFIRM: "confirm",
    WELCOME: "welcome",
    REFUSED: "refusal",
}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

Role = Literal["member", "joiner"]


class LinkUndecryptable(LinkError):
    """A message that does not open with the key it must have been sealed with (or was altered)."""

    code = "link_undecryptable"


# --- the device's card -----------------------------------------------------------------------


@dataclass(frozen=True)
class LinkDevice:
    """The public card a device sends while linking; its ``id`` is derived from ``signing_public``.

    What the other side claims here is only what it says until the users compared the codes.
    """

    id: str
    signing_public: bytes
    exchange_public: bytes
    name: str

    def __post_init__(self) -> None:
        for key in (self.signing_public, self.exchange_public):
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise LinkMalformed(f"a device's public keys are {KEY_BYTES} bytes")
        if not is_device_id(self.id) or self.id != device_id(self.signing_public):
            raise LinkMalformed("a device's id must be derived from its signing key")
        if not isinstance(self.name, str) or not 0 < len(self.name) <= MAX_NAME_CHARS:
            raise LinkMalformed(f"a device's name is 1 to {MAX_NAME_CHARS} characters")
        if any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in self.name):
            raise LinkMalformed("a device's name holds control or invisible characters")

    @classmethod
    def of(cls, signing_public: bytes, exchange_public: bytes, name: str) -> LinkDevice:
        """The card of a device from its public keys and name (the id follows from the signing key)."""
        if not isinstance(signing_public, bytes) or len(signing_public) != KEY_BYTES:
            raise LinkMalformed(f"a device's public keys are {KEY_BYTES} bytes")
        return cls(device_id(signing_public), signing_public, exchange_public, name)

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "signing": self.signing_public.hex(),
            "exchange": self.exchange_public.hex(),
            "name": self.name,
        }

    @classmethod
    def from_json(cls, value: object) -> LinkDevice:
        fields = _fields(value, {"id", "signing", "exchange", "name"}, "device")
        return cls(fields["id"], _hex32(fields["signing"]), _hex32(fields["exchange"]), fields["name"])


# --- sealing ---------------------------------------------------------------------------------


def take(random: Random, n: int) -> bytes:
    """``n`` bytes from the caller's random source, which must give exactly that."""
    data = random(n)
    if not isinstance(data, bytes) or len(data) != n:
        raise LinkError(f"the random source gave something else than {n} bytes")
    return data


def seal_message(key: bytes, kind: int, body: bytes, random: Random) -> bytes:
    """A message of ``kind`` for the link topic, sealed with the link key under a fresh nonce."""
    nonce = take(random, NONCE_BYTES)
    sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(bytes([kind]) + body, _HEADER, nonce, key)
    return _HEADER + nonce + sealed


def open_message(key: bytes, message: object) -> tuple[int, bytes]:
    """A message's kind and body; :class:`LinkError` for anything truncated, oversized or not sealed by ``key``."""
    if not isinstance(message, (bytes, bytearray)):
        raise LinkMalformed("a link message is bytes")
    if len(message) > MAX_MESSAGE_BYTES:
        raise LinkOversized(f"a link message is at most {MAX_MESSAGE_BYTES} bytes, got {len(message)}")
    if len(message) < _MIN_MESSAGE_BYTES:
        raise LinkMalformed(f"a link message of {len(message)} bytes is truncated")
    if message[0] != WIRE_VERSION:
        raise LinkUnsupported(f"a link message of version {message[0]}; this walletsync speaks {WIRE_VERSION}")
    nonce = bytes(message[1 : 1 + NONCE_BYTES])
    try:
        plain = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            bytes(message[1 + NONCE_BYTES :]), _HEADER, nonce, key
        )
    except CryptoError:
        raise LinkUndecryptable("a link message that does not open with this link's key") from None
    kind, body = plain[0], plain[1:]
    if kind not in _KIND_NAMES:
        raise LinkMalformed("a link message of an unknown kind")
    if kind != WELCOME and len(body) > MAX_BODY_BYTES:
        raise LinkOversized(f"a link {_KIND_NAMES[kind]} is at most {MAX_BODY_BYTES} bytes")
    return kind, body


# --- the bodies ------------------------------------------------------------------------------


def commitment_of(public_key: bytes, nonce: bytes) -> bytes:
    """What the joiner commits to before it sees the member's key."""
    return hashlib.sha256(public_key + nonce).digest()


def commit_body(commitment: bytes, joiner: LinkDevice) -> bytes:
    return _canonical({"commitment": commitment.hex(), "device": joiner.to_json()})


def read_commit(body: bytes) -> tuple[bytes, LinkDevice]:
    fields = _read_json(body, {"commitment", "device"}, "commit")
    return _hex32(fields["commitment"]), LinkDevice.from_json(fields["device"])


def offer_body(commitment: bytes, member: LinkDevice, public_key: bytes) -> bytes:
    return _canonical({"commitment": commitment.hex(), "device": member.to_json(), "key": public_key.hex()})


def read_offer(body: bytes) -> tuple[bytes, LinkDevice, bytes]:
    fields = _read_json(body, {"commitment", "device", "key"}, "offer")
    return _hex32(fields["commitment"]), LinkDevice.from_json(fields["device"]), _hex32(fields["key"])


def reveal_body(public_key: bytes, nonce: bytes) -> bytes:
    return _canonical({"key": public_key.hex(), "nonce": nonce.hex()})


def read_reveal(body: bytes) -> tuple[bytes, bytes]:
    fields = _read_json(body, {"key", "nonce"}, "reveal")
    return _hex32(fields["key"]), _hex32(fields["nonce"])


@dataclass(frozen=True)
class Refusal:
    """Who refused, the commitment it is addressed to (``None``: before any), and whether the link was in use."""

    by: Role
    commitment: bytes | None
    in_use: bool


def refusal_body(by: Role, commitment: bytes | None, *, in_use: bool = False) -> bytes:
    return _canonical(
        {"by": by, "commitment": commitment.hex() if commitment else None, "reason": "in_use" if in_use else "refused"}
    )


def read_refusal(body: bytes) -> Refusal:
    fields = _read_json(body, {"by", "commitment", "reason"}, "refusal")
    by, reason = fields["by"], fields["reason"]
    if by not in ("member", "joiner") or reason not in ("refused", "in_use"):
        raise LinkMalformed("a link refusal names an unknown side or reason")
    commitment = None if fields["commitment"] is None else _hex32(fields["commitment"])
    return Refusal(by, commitment, reason == "in_use")


# --- canonical JSON --------------------------------------------------------------------------


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise ValueError("repeated key")
    return value


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


def _read_json(body: bytes, keys: set[str], what: str) -> dict[str, Any]:
    """A canonical JSON object with exactly ``keys``: one spelling per message, as the transcript hashes it."""
    try:
        value = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicate_keys, parse_constant=_not_json)
        fields = _fields(value, keys, what)
        canonical = _canonical(fields) == body
    except (ValueError, RecursionError, UnicodeError):
        raise LinkMalformed(f"a link {what} that is not the JSON it must be") from None
    if not canonical:
        raise LinkMalformed(f"a link {what} that is not in canonical JSON")
    return fields


def _fields(value: object, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        raise LinkMalformed(f"a link {what} must have exactly the fields {', '.join(sorted(keys))}")
    return value


def _hex32(value: object) -> bytes:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise LinkMalformed("a key or hash in a link message is 64 lowercase hex digits")
    return bytes.fromhex(value)


__all__ = [
    "COMMIT",
    "CONFIRM",
    "MAX_BODY_BYTES",
    "MAX_MESSAGE_BYTES",
    "MAX_NAME_CHARS",
    "MAX_WELCOME_BYTES",
    "MAX_WELCOME_PARTS",
    "NONCE_BYTES",
    "OFFER",
    "PART_HEAD_BYTES",
    "REFUSED",
    "REVEAL",
    "TAG_BYTES",
    "WELCOME",
    "WELCOME_PART_BYTES",
    "WIRE_VERSION",
    "LinkDevice",
    "LinkUndecryptable",
    "Refusal",
    "Role",
    "commit_body",
    "commitment_of",
    "offer_body",
    "open_message",
    "read_commit",
    "read_offer",
    "read_refusal",
    "read_reveal",
    "refusal_body",
    "reveal_body",
    "seal_message",
    "take",
]
