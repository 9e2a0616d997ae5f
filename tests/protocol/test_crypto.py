"""Bad keys and envelopes: a malformed or forged relay message is refused with a specific error.

Each parser must turn bad input into one specific ``WalletsyncError`` subclass whose text
says what was wrong; otherwise a user (or a misbehaving peer or relay) gets a traceback, a
vague message, or silently wrong behaviour.
"""

from __future__ import annotations

import pytest

from tests.protocol.samples import IV, KEY, SYM_KEY, sealed_type0
from walletsync.protocol import crypto
from walletsync.protocol.errors import (
    DecryptionFailed,
    InvalidEnvelope,
    InvalidKey,
)


class TestCrypto:
    """A malformed or forged relay message must be refused, never crash or decrypt to junk."""

    @pytest.mark.parametrize(
        "text", ["@@@@", "AAA", "AA==AA==", "ÄÖÜ="], ids=["alphabet", "padding", "mid-pad", "non-ascii"]
    )
    def test_bad_base64(self, text: str) -> None:
        with pytest.raises(InvalidEnvelope, match="not valid base64"):
            crypto.b64decode(text)

    def test_bad_base64url(self) -> None:
        with pytest.raises(InvalidEnvelope, match="not valid base64url"):
            crypto.b64url_decode("A")

    def test_empty_envelope(self) -> None:
        with pytest.raises(InvalidEnvelope, match="empty envelope"):
            crypto.decode_envelope(b"")
        with pytest.raises(InvalidEnvelope, match="empty envelope"):
            crypto.open_b64(KEY, "")

    def test_unknown_type_byte(self) -> None:
        with pytest.raises(InvalidEnvelope, match="unknown envelope type byte 0x07"):
            crypto.decode_envelope(b"\x07" + bytes(60))

    def test_truncated_type0(self) -> None:
        with pytest.raises(InvalidEnvelope, match=r"type 0 envelope too short \(28 bytes\)"):
            crypto.decode_envelope(sealed_type0(b"")[:28])

    def test_minimal_type0_decodes(self) -> None:
        """29 bytes (type, iv, tag) is the shortest valid type 0: an empty plaintext."""
        envelope = sealed_type0(b"")
        assert len(envelope) == 29
        assert crypto.open_sealed(KEY, crypto.decode_envelope(envelope)) == b""

    def test_truncated_type1(self) -> None:
        envelope = crypto.seal(KEY, b"", IV, type=crypto.TYPE_1, sender_public_key=bytes(range(32)))
        with pytest.raises(InvalidEnvelope, match=r"type 1 envelope too short \(60 bytes\)"):
            crypto.decode_envelope(envelope[:60])

    @pytest.mark.parametrize("index", [1, 13, -1], ids=["iv", "ciphertext", "tag"])
    def test_tampered_envelope_fails_decryption(self, index: int) -> None:
        envelope = bytearray(sealed_type0())
        envelope[index] ^= 0x01
        with pytest.raises(DecryptionFailed, match="did not decrypt"):
            crypto.open_b64(KEY, crypto.b64encode(bytes(envelope)))

    def test_wrong_key_fails_decryption(self) -> None:
        with pytest.raises(DecryptionFailed) as info:
            crypto.open_b64(bytes(32), crypto.b64encode(sealed_type0()))
        assert isinstance(info.value, InvalidEnvelope)  # callers catching InvalidEnvelope see it too

    def test_decryption_failure_is_blamed_on_peer(self) -> None:
        with pytest.raises(DecryptionFailed) as info:
            crypto.open_b64(bytes(32), crypto.b64encode(sealed_type0()))
        assert info.value.by == "peer"

    def test_low_order_public_key_is_refused(self) -> None:
        with pytest.raises(InvalidKey, match="low-order"):
            crypto.shared_secret(bytes(range(32)), bytes(32))
        with pytest.raises(InvalidKey, match="low-order"):
            crypto.derive_sym_key(bytes(range(32)), bytes(32))

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda: crypto.shared_secret(bytes(31), bytes(32)), "X25519 private key must be 32 bytes"),
            (lambda: crypto.shared_secret(bytes(32), bytes(33)), "peer public key must be 32 bytes"),
            (lambda: crypto.X25519KeyPair.from_private(bytes(33)), "X25519 private key must be 32 bytes"),
            (lambda: crypto.topic_for(bytes(16)), "symKey must be 32 bytes"),
            (lambda: crypto.seal(bytes(31), b"x", IV), "symKey must be 32 bytes"),
            (lambda: crypto.seal(KEY, b"x", bytes(11)), "iv must be 12 bytes"),
            (lambda: crypto.seal(KEY, b"x", IV, type=crypto.TYPE_1), "sender's 32-byte public key"),
            (lambda: crypto.open_sealed(bytes(16), crypto.decode_envelope(sealed_type0())), "symKey must be 32 bytes"),
            (lambda: crypto.key_from_hex("ab" * 31, "peer key"), "peer key must be 64 hex chars, got 62"),
            (lambda: crypto.key_from_hex(None, "peer key"), "peer key must be 64 hex chars, got NoneType"),  # type: ignore[arg-type]
        ],
        ids=[
            "priv-31",
            "pub-33",
            "keypair-33",
            "topic-16",
            "seal-key-31",
            "iv-11",
            "type1-no-sender",
            "open-key-16",
            "hex-62",
            "hex-none",
        ],
    )
    def test_wrong_length_keys(self, call, message: str) -> None:
        with pytest.raises(InvalidKey, match=message):
            call()

    @pytest.mark.parametrize(
        "text", ["  " + SYM_KEY[:62], SYM_KEY[:30] + "\t\n" + SYM_KEY[32:]], ids=["leading", "inner"]
    )
    def test_key_from_hex_refuses_whitespace(self, text: str) -> None:
        """BUG: ``bytes.fromhex`` skips ASCII whitespace, so 64 chars with 2 spaces give a 31-byte key."""
        assert len(text) == 64
        with pytest.raises(InvalidKey, match="symKey"):
            key = crypto.key_from_hex(text, "symKey")
            assert len(key) == 32, f"returned a {len(key)}-byte key"

    def test_unknown_seal_type_is_a_caller_error(self) -> None:
        with pytest.raises(InvalidEnvelope, match="unknown envelope type 7") as info:
            crypto.seal(KEY, b"x", IV, type=7)
        assert info.value.by == "caller"
