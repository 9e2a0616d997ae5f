"""Keys, topics and the type 0/1/2 envelopes of WalletConnect v2 (reference §2, §3).

Primitives come from pynacl (X25519, ChaCha20-Poly1305 IETF) and cryptography
(HKDF-SHA256); nothing here implements a primitive. Randomness is passed in by
the caller (``iv``, private key bytes) so this module stays deterministic.

Secret-holding values (:class:`X25519KeyPair`, symmetric keys) never print
themselves: their ``repr`` shows only the public part.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl import bindings
from nacl.exceptions import CryptoError
from nacl.exceptions import RuntimeError as NaclRuntimeError

from walletsync.protocol.errors import Blame, DecryptionFailed, InvalidEnvelope, InvalidKey

Random = Callable[[int], bytes]
"""Source of random bytes, e.g. ``os.urandom``; passed in so tests can fix it."""

KEY_BYTES = 32
IV_BYTES = 12
TAG_BYTES = 16
TYPE_0, TYPE_1, TYPE_2 = 0, 1, 2
_HEX = re.compile(r"[0-9a-fA-F]*")


# --- encodings ---------------------------------------------------------------------


def b64encode(data: bytes) -> str:
    """Standard base64 with padding: what the relay transport carries."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict standard base64; anything else is an :class:`InvalidEnvelope`."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError) as exc:
        raise InvalidEnvelope(f"message is not valid base64: {exc}", by="peer") from None


def b64url_encode(data: bytes) -> str:
    """base64url without padding: link mode and JWTs."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    """base64url with or without padding; strict about the alphabet."""
    try:
        raw = text.encode("ascii")
        if len(raw) % 4 == 1:
            raise binascii.Error("impossible length")
        return base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError) as exc:
        raise InvalidEnvelope(f"not valid base64url: {exc}", by="peer") from None


def key_from_hex(text: object, what: str = "key", *, by: Blame = "caller") -> bytes:
    """32 bytes from 64 hex digits, with a message that names the key and the length seen."""
    if not isinstance(text, str) or len(text) != 2 * KEY_BYTES:
        got = len(text) if isinstance(text, str) else type(text).__name__
        raise InvalidKey(f"{what} must be {2 * KEY_BYTES} hex chars, got {got}", by=by)
    if not _HEX.fullmatch(text):  # bytes.fromhex would skip whitespace and return a short key
        raise InvalidKey(f"{what} must be hex, got {text[:8]!r}…", by=by)
    return bytes.fromhex(text)


def _require_key(key: bytes, what: str) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
        raise InvalidKey(f"{what} must be {KEY_BYTES} bytes", by="caller")
    return bytes(key)


# --- keys and topics ---------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def topic_for(key: bytes) -> str:
    """The topic of a symmetric key: sha256 of the key bytes (not of its hex)."""
    return sha256_hex(_require_key(key, "symKey"))


@dataclass(frozen=True)
class X25519KeyPair:
    """An X25519 key pair. Holds a secret: never log it; ``repr`` shows the public key only."""

    private_key: bytes = field(repr=False)
    public_key: bytes

    @classmethod
    def generate(cls, random: Random) -> X25519KeyPair:
        return cls.from_private(random(KEY_BYTES))

    @classmethod
    def from_private(cls, private_key: bytes) -> X25519KeyPair:
        private_key = _require_key(private_key, "X25519 private key")
        return cls(private_key, bindings.crypto_scalarmult_base(private_key))

    @property
    def public_hex(self) -> str:
        return self.public_key.hex()


def shared_secret(private_key: bytes, peer_public_key: bytes) -> bytes:
    """Raw X25519 output; a low-order peer key is refused (it would give a known secret)."""
    private_key = _require_key(private_key, "X25519 private key")
    if not isinstance(peer_public_key, (bytes, bytearray)) or len(peer_public_key) != KEY_BYTES:
        raise InvalidKey("peer public key must be 32 bytes", by="peer")
    try:
        return bindings.crypto_scalarmult(private_key, bytes(peer_public_key))
    except (NaclRuntimeError, CryptoError):
        raise InvalidKey("peer public key is a low-order point", by="peer") from None


def hkdf_sha256(secret: bytes, length: int = KEY_BYTES, *, info: bytes = b"", salt: bytes | None = None) -> bytes:
    """HKDF-SHA256; with the defaults (no salt, empty info) it is the JS SDK's ``deriveSymKey``.

    A caller deriving several values from one secret gives each its own ``info``.
    """
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def derive_sym_key(private_key: bytes, peer_public_key: bytes) -> bytes:
    """The session symKey both sides compute from their X25519 keys."""
    return hkdf_sha256(shared_secret(private_key, peer_public_key))


# --- envelopes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """A decoded (still sealed) envelope. ``sealed`` is ciphertext ‖ tag, or the plain JSON for type 2."""

    type: int
    sealed: bytes
    iv: bytes = b""
    sender_public_key: bytes | None = None


def _aead_seal(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    key = _require_key(key, "symKey")
    if len(iv) != IV_BYTES:
        raise InvalidKey(f"iv must be {IV_BYTES} bytes", by="caller")
    return bindings.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, None, iv, key)


def seal(
    key: bytes,
    plaintext: bytes,
    iv: bytes,
    *,
    type: int = TYPE_0,
    sender_public_key: bytes | None = None,
) -> bytes:
    """Serialize an envelope (bytes, before base64). ``iv`` must be 12 fresh random bytes."""
    if type == TYPE_0:
        return bytes([TYPE_0]) + iv + _aead_seal(key, iv, plaintext)
    if type == TYPE_1:
        if sender_public_key is None or len(sender_public_key) != KEY_BYTES:
            raise InvalidKey("a type 1 envelope needs the sender's 32-byte public key", by="caller")
        return bytes([TYPE_1]) + sender_public_key + iv + _aead_seal(key, iv, plaintext)
    if type == TYPE_2:
        return bytes([TYPE_2]) + plaintext
    raise InvalidEnvelope(f"unknown envelope type {type}", by="caller")


def decode_envelope(data: bytes) -> Envelope:
    """Split envelope bytes into their parts without decrypting."""
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidEnvelope(f"envelope must be bytes, got {type(data).__name__}", by="caller")
    if not data:
        raise InvalidEnvelope("empty envelope", by="peer")
    kind = data[0]
    if kind == TYPE_0:
        if len(data) < 1 + IV_BYTES + TAG_BYTES:
            raise InvalidEnvelope(f"type 0 envelope too short ({len(data)} bytes)", by="peer")
        return Envelope(TYPE_0, data[1 + IV_BYTES :], iv=data[1 : 1 + IV_BYTES])
    if kind == TYPE_1:
        if len(data) < 1 + KEY_BYTES + IV_BYTES + TAG_BYTES:
            raise InvalidEnvelope(f"type 1 envelope too short ({len(data)} bytes)", by="peer")
        sender = data[1 : 1 + KEY_BYTES]
        iv = data[1 + KEY_BYTES : 1 + KEY_BYTES + IV_BYTES]
        return Envelope(TYPE_1, data[1 + KEY_BYTES + IV_BYTES :], iv=iv, sender_public_key=sender)
    if kind == TYPE_2:
        return Envelope(TYPE_2, data[1:])
    raise InvalidEnvelope(f"unknown envelope type byte 0x{kind:02x}", by="peer")


def open_sealed(key: bytes, envelope: Envelope) -> bytes:
    """Decrypt a type 0/1 envelope with ``key`` (for type 1, derive it from ``sender_public_key`` first)."""
    if envelope.type == TYPE_2:
        raise InvalidEnvelope("type 2 envelopes are unencrypted and only valid in link mode", by="peer")
    try:
        return bindings.crypto_aead_chacha20poly1305_ietf_decrypt(
            envelope.sealed, None, envelope.iv, _require_key(key, "symKey")
        )
    except CryptoError:
        raise DecryptionFailed("envelope did not decrypt with the key for this topic", by="peer") from None


def seal_b64(
    key: bytes, plaintext: bytes, iv: bytes, *, type: int = TYPE_0, sender_public_key: bytes | None = None
) -> str:
    """:func:`seal` then standard base64, ready for ``irn_publish``."""
    return b64encode(seal(key, plaintext, iv, type=type, sender_public_key=sender_public_key))


def open_b64(key: bytes, message: str) -> bytes:
    """Base64 type 0 message from the relay to plaintext. Type 1 and 2 are refused here."""
    envelope = decode_envelope(b64decode(message))
    if envelope.type != TYPE_0:
        raise InvalidEnvelope(f"expected a type 0 envelope on this topic, got type {envelope.type}", by="peer")
    return open_sealed(key, envelope)
