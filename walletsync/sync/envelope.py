"""Sync messages on the group topic: sealed with the epoch's data key, signed by the member who sent them.

Wire: ``version (1) ‖ epoch (4, big-endian) ‖ nonce (24) ‖ ciphertext``, XChaCha20-Poly1305 (libsodium)
under the epoch's data key with those 29 header bytes as associated data. Inside: ``sender id (16) ‖
seq (8, big-endian) ‖ encoding (1) ‖ payload ‖ signature (64)``, the signature Ed25519 by the sender over
:data:`DOMAIN` ‖ header ‖ sender ‖ seq ‖ encoding ‖ payload. The encoding says what the payload is: the
body as is (:data:`AS_IS`) or its raw DEFLATE (:data:`DEFLATE`); :func:`seal` keeps the smaller. The
signature covers the payload as sent, so nothing is inflated before its sender is known to be a member,
and inflating stops at :data:`MAX_BODY_BYTES` (a bomb costs the reader one bounded buffer).

The data key says "a member of this epoch sealed it"; the signature says which one, so a member
cannot speak for another. The sender must be a current member: a revoked device still holds the
keys of the epochs before its revoke and could seal new messages into them, so its messages are
refused whatever their epoch. Replays (a ``(sender, seq)`` applied before) are the shared state's
to refuse (its version vector). Refusals raise :class:`EnvelopeError` with a ``code`` to audit.

Compressing before sealing shows the relay each body's compressed length. The secrets in bodies are
sessions' keys: a change carries one next to that session's own data, which its phone (holding the key
already) sent, or once in what a device shares on founding or joining, so no one else can steer what is
compressed with it again and again; a snapshot puts every session's key next to what every phone sent,
which a phone and the relay together could probe one snapshot per guess (as CRIME did), so snapshots
are sealed with ``compress=False``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import NamedTuple

from nacl import bindings
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from walletsync.errors import WalletsyncError
from walletsync.protocol.crypto import b64decode, b64encode
from walletsync.protocol.errors import InvalidEnvelope
from walletsync.sync.ids import DEVICE_ID_CHARS
from walletsync.sync.keys import MAX_EPOCH, DeviceKeys, EpochKey, Random

VERSION = 2
DOMAIN = b"walletsync sync message v2\x00"
NONCE_BYTES = 24
HEADER_BYTES = 1 + 4 + NONCE_BYTES
SENDER_BYTES = DEVICE_ID_CHARS // 2
SEQ_BYTES = 8
ENCODING_BYTES = 1
AS_IS = 0
"""Encoding: the payload is the body."""
DEFLATE = 1
"""Encoding: the payload is the body's raw DEFLATE (RFC 1951: no zlib header, no checksum; the AEAD checks it)."""
DEFLATE_LEVEL = 9
SIGNATURE_BYTES = 64
TAG_BYTES = 16
OVERHEAD = HEADER_BYTES + TAG_BYTES + SENDER_BYTES + SEQ_BYTES + ENCODING_BYTES + SIGNATURE_BYTES
"""A message's bytes around its payload."""
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_BODY_BYTES = MAX_MESSAGE_BYTES - OVERHEAD
"""The bound on a body before compression (sealing refuses more, opening inflates no more)."""
MAX_SEQ = 2**64 - 1

EpochKeys = Callable[[int], Iterable[EpochKey]]
"""The data keys this device holds for an epoch number (concurrent revokes can give one number two keys)."""


class EnvelopeError(WalletsyncError):
    """A sync message that cannot be sealed or accepted; ``code`` says why (the service audits refusals).

    Codes: ``truncated``, ``oversized`` (also a body inflating past :data:`MAX_BODY_BYTES`), ``malformed``
    (unknown version, bad base64, bad arguments, an unknown encoding, a payload that is not one whole DEFLATE
    stream), ``unknown_epoch`` (no key held for its epoch), ``undecryptable`` (no key held opens it),
    ``unknown_sender``, ``revoked_sender``, ``bad_signature``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {str(self)!r})"


class Opened(NamedTuple):
    """What an accepted message says: who sent it, its sequence number and its body."""

    sender: str
    seq: int
    body: bytes


def keyring(keys: Iterable[EpochKey]) -> EpochKeys:
    """An :data:`EpochKeys` lookup over ``keys``."""
    by_epoch: dict[int, list[EpochKey]] = {}
    for key in keys:
        by_epoch.setdefault(key.epoch, []).append(key)
    return lambda epoch: by_epoch.get(epoch, ())


def _header(epoch: int, nonce: bytes) -> bytes:
    return bytes([VERSION]) + epoch.to_bytes(4, "big") + nonce


def _signed(header: bytes, sender: bytes, seq: bytes, payload: bytes) -> bytes:
    return DOMAIN + header + sender + seq + payload


def _encoded(body: bytes, compress: bool) -> bytes:
    """The encoding byte and the payload: the body's raw DEFLATE if that is smaller, else the body."""
    if compress:
        deflate = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
        packed = deflate.compress(body) + deflate.flush()
        if len(packed) < len(body):
            return bytes([DEFLATE]) + packed
    return bytes([AS_IS]) + body


def _decoded(payload: bytes) -> bytes:
    """The body from the encoding byte and payload; inflating stops past :data:`MAX_BODY_BYTES`."""
    encoding, data = payload[0], payload[1:]
    if encoding == AS_IS:
        return data
    if encoding != DEFLATE:
        raise EnvelopeError("malformed", f"unknown body encoding {encoding}")
    inflate = zlib.decompressobj(-15)
    try:
        body = inflate.decompress(data, MAX_BODY_BYTES + 1)
    except zlib.error:
        raise EnvelopeError("malformed", "the body is not valid DEFLATE") from None
    if len(body) > MAX_BODY_BYTES:  # output stopped at the bound: the rest stays in unconsumed_tail
        raise EnvelopeError("oversized", f"the body inflates past {MAX_BODY_BYTES} bytes")
    if not inflate.eof or inflate.unused_data or inflate.unconsumed_tail:
        raise EnvelopeError("malformed", "the body is not one whole DEFLATE stream")
    return body


def seal(
    epoch_key: EpochKey, sender: DeviceKeys, seq: int, body: bytes, random: Random, *, compress: bool = True
) -> bytes:
    """``body`` from ``sender`` as its ``seq``-th message, sealed for the members of ``epoch_key``'s epoch.

    The body is compressed when that makes it smaller, unless ``compress`` is false: pass that for a body
    mixing secrets with text others choose, again and again (see the module's note on lengths).
    """
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise EnvelopeError("malformed", "a sequence number is 0 to 2**64 - 1")
    if not isinstance(body, (bytes, bytearray)):
        raise EnvelopeError("malformed", "a message body is bytes")
    if len(body) > MAX_BODY_BYTES:
        raise EnvelopeError("oversized", f"a message body is at most {MAX_BODY_BYTES} bytes")
    nonce = random(NONCE_BYTES)
    if len(nonce) != NONCE_BYTES:
        raise EnvelopeError("malformed", f"the nonce is {NONCE_BYTES} random bytes")
    header = _header(epoch_key.epoch, nonce)
    sender_id, seq_bytes = bytes.fromhex(sender.id), seq.to_bytes(SEQ_BYTES, "big")
    payload = _encoded(bytes(body), compress)
    signature = sender.sign(_signed(header, sender_id, seq_bytes, payload))
    plaintext = sender_id + seq_bytes + payload + signature
    return header + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, nonce, epoch_key.key)


def open(
    data: bytes,
    *,
    keys: EpochKeys,
    senders: Mapping[str, bytes],
    revoked: Collection[str] = (),
) -> Opened:
    """The message in ``data`` if a key in ``keys`` opens it and a current member in ``senders`` signed it.

    ``senders`` maps each current member's id to its Ed25519 public key; ``revoked`` (the ids ever
    revoked) only changes the error's code for them. The body comes back as it was sealed (inflated).
    """
    if not isinstance(data, (bytes, bytearray)):
        raise EnvelopeError("malformed", "a sync message is bytes")
    if len(data) > MAX_MESSAGE_BYTES:
        raise EnvelopeError("oversized", f"a sync message is at most {MAX_MESSAGE_BYTES} bytes")
    if len(data) < OVERHEAD:
        raise EnvelopeError("truncated", f"a sync message is at least {OVERHEAD} bytes")
    data = bytes(data)
    if data[0] != VERSION:
        raise EnvelopeError("malformed", f"unknown sync message version {data[0]}")
    header, sealed = data[:HEADER_BYTES], data[HEADER_BYTES:]
    epoch, nonce = int.from_bytes(header[1:5], "big"), header[5:]
    candidates = list(keys(epoch)) if 1 <= epoch <= MAX_EPOCH else []
    if not candidates:
        raise EnvelopeError("unknown_epoch", f"no data key is held for epoch {epoch}")
    plaintext = None
    for key in candidates:
        try:
            plaintext = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, header, nonce, key.key)
            break
        except CryptoError:
            continue
    if plaintext is None:
        raise EnvelopeError("undecryptable", f"the message does not open with epoch {epoch}'s key")
    sender_id = plaintext[:SENDER_BYTES]
    seq_bytes = plaintext[SENDER_BYTES : SENDER_BYTES + SEQ_BYTES]
    payload = plaintext[SENDER_BYTES + SEQ_BYTES : -SIGNATURE_BYTES]
    signature = plaintext[-SIGNATURE_BYTES:]
    sender = sender_id.hex()
    if sender in revoked:
        raise EnvelopeError("revoked_sender", f"the sender {sender} was revoked")
    signing_public = senders.get(sender)
    if signing_public is None:
        raise EnvelopeError("unknown_sender", f"the sender {sender} is not a member")
    try:
        VerifyKey(signing_public).verify(_signed(header, sender_id, seq_bytes, payload), signature)
    except (BadSignatureError, ValueError, TypeError):
        raise EnvelopeError("bad_signature", f"the signature does not check with {sender}'s key") from None
    return Opened(sender, int.from_bytes(seq_bytes, "big"), _decoded(payload))


def seal_b64(
    epoch_key: EpochKey, sender: DeviceKeys, seq: int, body: bytes, random: Random, *, compress: bool = True
) -> str:
    """:func:`seal`, then standard base64 for the relay."""
    return b64encode(seal(epoch_key, sender, seq, body, random, compress=compress))


def open_b64(message: str, *, keys: EpochKeys, senders: Mapping[str, bytes], revoked: Collection[str] = ()) -> Opened:
    """A base64 message from the relay through :func:`open`."""
    if not isinstance(message, str):
        raise EnvelopeError("malformed", "a relay message is text")
    if len(message) > 4 * (MAX_MESSAGE_BYTES // 3 + 1):
        raise EnvelopeError("oversized", f"a sync message is at most {MAX_MESSAGE_BYTES} bytes")
    try:
        data = b64decode(message)
    except InvalidEnvelope:
        raise EnvelopeError("malformed", "a sync message is standard base64") from None
    return open(data, keys=keys, senders=senders, revoked=revoked)
