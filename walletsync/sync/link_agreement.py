"""What the two ends of a link agree on once the joiner revealed: the code, and keys only they hold.

Both compute the X25519 secret of their ephemeral keys and a transcript, sha256 over the link topic
and the commit, offer and reveal bodies exactly as sent. From the two, HKDF gives the 6-digit code
the users compare and two keys: one seals the joiner's confirmation, the other the welcome's parts.
Someone who saw the QR holds the link key but neither of these, and a different transcript on the
two sides gives different codes. Nothing here prints a secret.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from nacl import bindings
from nacl.exceptions import CryptoError

from walletsync.protocol.crypto import Random, hkdf_sha256, shared_secret
from walletsync.protocol.errors import InvalidKey
from walletsync.sync.link_uri import LinkMalformed
from walletsync.sync.link_wire import (
    MAX_WELCOME_PARTS,
    NONCE_BYTES,
    PART_HEAD_BYTES,
    TAG_BYTES,
    WELCOME_PART_BYTES,
    LinkUndecryptable,
    take,
)

_CONFIRMED = b"walletsync link confirmed v1"


@dataclass(frozen=True)
class Agreement:
    """The code and the keys both ends derive from the X25519 secret and the transcript (never printed)."""

    code: str = field(repr=False)
    transcript: bytes = field(repr=False)
    confirm_key: bytes = field(repr=False)
    welcome_key: bytes = field(repr=False)


def agree(private_key: bytes, peer_public: bytes, topic: str, commit: bytes, offer: bytes, reveal: bytes) -> Agreement:
    """This end's view of the agreement: its ephemeral private key, the other's public key, the bodies sent."""
    try:
        shared = shared_secret(private_key, peer_public)
    except InvalidKey:
        raise LinkMalformed("the other device's key is a degenerate X25519 point") from None
    digest = hashlib.sha256(b"walletsync link transcript v1\0" + bytes.fromhex(topic))
    for part in (commit, offer, reveal):
        digest.update(len(part).to_bytes(4, "big") + part)
    transcript = digest.digest()
    number = int.from_bytes(hkdf_sha256(shared, 8, info=b"walletsync link code v1", salt=transcript), "big")
    digits = f"{number % 10**6:06d}"
    return Agreement(
        code=f"{digits[:3]} {digits[3:]}",
        transcript=transcript,
        confirm_key=hkdf_sha256(shared, info=b"walletsync link confirm v1", salt=transcript),
        welcome_key=hkdf_sha256(shared, info=b"walletsync link welcome v1", salt=transcript),
    )


# --- the confirmation ------------------------------------------------------------------------


def confirmation(agreed: Agreement, random: Random) -> bytes:
    """The joiner's "yes": a body only the end it agreed with can open."""
    return _seal_inner(agreed.confirm_key, _CONFIRMED, agreed.transcript, random)


def check_confirmation(agreed: Agreement, body: bytes) -> None:
    """Raises unless ``body`` is the "yes" of the end this one agreed with."""
    said = _open_inner(agreed.confirm_key, body, agreed.transcript, "confirmation")
    if not hmac.compare_digest(said, _CONFIRMED):
        raise LinkMalformed("a link confirmation that does not say yes")


# --- the welcome, in parts -------------------------------------------------------------------
# part = index (2) ‖ count (2) ‖ nonce (24) ‖ XChaCha20-Poly1305(welcome key, chunk, aad = transcript ‖ index ‖ count)


def welcome_bodies(agreed: Agreement, payload: bytes, random: Random) -> list[bytes]:
    """The welcome's bodies, one per part of at most :data:`WELCOME_PART_BYTES` (an empty payload is one part)."""
    chunks = [payload[i : i + WELCOME_PART_BYTES] for i in range(0, len(payload), WELCOME_PART_BYTES)] or [b""]
    bodies = []
    for index, chunk in enumerate(chunks):
        head = index.to_bytes(2, "big") + len(chunks).to_bytes(2, "big")
        bodies.append(head + _seal_inner(agreed.welcome_key, chunk, agreed.transcript + head, random))
    return bodies


def open_welcome(agreed: Agreement, body: bytes) -> tuple[int, int, bytes]:
    """A welcome part's index, the number of parts, and its chunk of the payload."""
    if len(body) < PART_HEAD_BYTES:
        raise LinkMalformed("a link welcome that is truncated")
    head = body[:PART_HEAD_BYTES]
    index, count = int.from_bytes(head[:2], "big"), int.from_bytes(head[2:], "big")
    if not index < count <= MAX_WELCOME_PARTS:
        raise LinkMalformed(f"a link welcome part {index} of {count} (at most {MAX_WELCOME_PARTS} parts)")
    chunk = _open_inner(agreed.welcome_key, body[PART_HEAD_BYTES:], agreed.transcript + head, "welcome")
    return index, count, chunk


# --- inner sealing ---------------------------------------------------------------------------


def _seal_inner(key: bytes, plaintext: bytes, aad: bytes, random: Random) -> bytes:
    nonce = take(random, NONCE_BYTES)
    return nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def _open_inner(key: bytes, sealed: bytes, aad: bytes, what: str) -> bytes:
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise LinkMalformed(f"a link {what} that is truncated")
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed[NONCE_BYTES:], aad, sealed[:NONCE_BYTES], key)
    except CryptoError:
        raise LinkUndecryptable(f"a link {what} not sealed by the device this link agreed with") from None


__all__ = ["Agreement", "agree", "check_confirmation", "confirmation", "open_welcome", "welcome_bodies"]
