"""Sync messages: sealed with the epoch's data key, signed by their sender, refused with a typed error otherwise."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl import bindings

from walletsync.sync import envelope
from walletsync.sync.envelope import (
    DOMAIN,
    HEADER_BYTES,
    MAX_BODY_BYTES,
    MAX_MESSAGE_BYTES,
    OVERHEAD,
    EnvelopeError,
    Opened,
    keyring,
    open_b64,
    seal,
    seal_b64,
)
from walletsync.sync.keys import DeviceKeys, EpochKey
from walletsync.sync.membership import found

FUZZ = settings(
    max_examples=300, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

A, B, X = (DeviceKeys(hashlib.sha256(b"envelope device %d" % i).digest()) for i in range(3))
EPOCH_1 = EpochKey(1, bytes(range(32)))
SENDERS = {d.id: d.signing_public for d in (A, B)}
KEYS = keyring([EPOCH_1])


def seeded(seed: int):
    """Reproducible randomness (tests only)."""
    return random.Random(seed).randbytes


def open_(data: bytes, keys=KEYS, senders=SENDERS, revoked=()) -> Opened:
    return envelope.open(data, keys=keys, senders=senders, revoked=revoked)


def refused(code: str, data, **kw) -> None:
    with pytest.raises(EnvelopeError) as err:
        open_(data, **kw)
    assert err.value.code == code, err.value


MESSAGE = seal(EPOCH_1, A, 7, b"a change", seeded(1))


def test_a_message_opens_to_its_sender_seq_and_body():
    assert open_(MESSAGE) == Opened(A.id, 7, b"a change")
    sender, seq, body = open_(seal(EPOCH_1, B, 2**64 - 1, b"", seeded(2)))
    assert (sender, seq, body) == (B.id, 2**64 - 1, b"")


def test_the_wire_layout():
    nonce = seeded(1)(24)
    header = bytes([1]) + (1).to_bytes(4, "big") + nonce
    assert MESSAGE[:HEADER_BYTES] == header
    assert len(MESSAGE) == OVERHEAD + len(b"a change")
    plaintext = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(MESSAGE[HEADER_BYTES:], header, nonce, EPOCH_1.key)
    sender, seq, body, signature = plaintext[:16], plaintext[16:24], plaintext[24:-64], plaintext[-64:]
    assert (sender.hex(), int.from_bytes(seq, "big"), body) == (A.id, 7, b"a change")
    assert signature == A.sign(DOMAIN + header + sender + seq + body)


def test_every_flipped_bit_is_refused():
    for i in range(len(MESSAGE)):
        flipped = bytearray(MESSAGE)
        flipped[i] ^= 1 << (i % 8)
        code = "malformed" if i == 0 else "unknown_epoch" if i < 5 else "undecryptable"
        refused(code, bytes(flipped))


def test_a_truncated_or_extended_message_is_refused():
    for n in range(len(MESSAGE)):
        refused("truncated" if n < OVERHEAD else "undecryptable", MESSAGE[:n])
    refused("undecryptable", MESSAGE + b"\0")


def test_an_oversized_message_is_refused_before_any_work():
    refused("oversized", MESSAGE + bytes(MAX_MESSAGE_BYTES))
    biggest = seal(EPOCH_1, A, 1, bytes(MAX_BODY_BYTES), seeded(3))
    assert len(biggest) == MAX_MESSAGE_BYTES and open_(biggest).body == bytes(MAX_BODY_BYTES)
    with pytest.raises(EnvelopeError) as err:
        seal(EPOCH_1, A, 1, bytes(MAX_BODY_BYTES + 1), seeded(3))
    assert err.value.code == "oversized"


def test_a_member_cannot_speak_for_another():
    """B holds the data key: it can seal, but what it seals under A's name does not carry A's signature."""
    nonce = seeded(4)(24)
    header = bytes([1]) + (1).to_bytes(4, "big") + nonce
    sender, seq, body = bytes.fromhex(A.id), (8).to_bytes(8, "big"), b"forged by B"
    for signature in (B.sign(DOMAIN + header + sender + seq + body), bytes(64)):
        plaintext = sender + seq + body + signature
        forged = header + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, nonce, EPOCH_1.key)
        refused("bad_signature", forged)


def test_a_signed_message_cannot_move_to_another_epoch():
    """The header is signed: re-sealing A's message under epoch 2's key (which B holds) breaks the signature."""
    epoch_2 = EpochKey(2, bytes(range(1, 33)))
    header = MESSAGE[:HEADER_BYTES]
    plaintext = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
        MESSAGE[HEADER_BYTES:], header, header[5:], EPOCH_1.key
    )
    moved_header = bytes([1]) + (2).to_bytes(4, "big") + header[5:]
    moved = moved_header + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, moved_header, header[5:], epoch_2.key
    )
    refused("bad_signature", moved, keys=keyring([EPOCH_1, epoch_2]))


def test_unknown_and_revoked_senders_are_refused():
    from_x = seal(EPOCH_1, X, 1, b"hello", seeded(5))
    refused("unknown_sender", from_x)
    refused("revoked_sender", from_x, revoked={X.id})
    refused("revoked_sender", from_x, senders={**SENDERS, X.id: X.signing_public}, revoked={X.id})


def test_an_unknown_epoch_is_refused():
    refused("unknown_epoch", seal(EpochKey(2, bytes(32)), A, 1, b"x", seeded(6)))
    refused("unknown_epoch", MESSAGE, keys=keyring([]))
    refused("undecryptable", MESSAGE, keys=keyring([EpochKey(1, bytes(32))]))


def test_two_keys_of_one_epoch_number_both_open():
    """Concurrent revokes start two epochs with the same number: a member holding both opens either."""
    other = EpochKey(1, bytes(32))
    message = seal(other, B, 3, b"from the other branch", seeded(7))
    keys = keyring([EPOCH_1, other])
    assert open_(MESSAGE, keys=keys).body == b"a change"
    assert open_(message, keys=keys).body == b"from the other branch"


def test_a_revoked_device_cannot_open_the_new_epoch_nor_be_heard_in_it():
    """With its own real keys: X gets no key for epoch 2, guessing its old key fails, and its messages are refused."""
    membership, epoch_1 = found(A, "a", at=1, random=seeded(8))
    membership.add(A, B.card("b"), at=2)
    membership.add(A, X.card("x"), at=3)
    entry, epoch_2 = membership.revoke(A, X.id, at=4, random=seeded(9))
    message = seal(epoch_2, B, 1, b"after the revoke", seeded(10))
    members, revoked = membership.signing_keys(), membership.revoked()
    assert envelope.open(message, keys=keyring([epoch_1, epoch_2]), senders=members, revoked=revoked).body

    x_keys = [epoch_1, *membership.epoch_keys_for(X)]  # what X holds: epoch 1 from its link, nothing since
    assert x_keys == [epoch_1]
    with pytest.raises(EnvelopeError) as err:
        envelope.open(message, keys=keyring(x_keys), senders=members, revoked=revoked)
    assert err.value.code == "unknown_epoch"
    with pytest.raises(EnvelopeError) as err:  # X guesses that its old key serves epoch 2
        envelope.open(message, keys=lambda n: [epoch_1], senders=members, revoked=revoked)
    assert err.value.code == "undecryptable"
    assert epoch_2.topic != epoch_1.topic  # it cannot even find the new topic

    late = seal(epoch_1, X, 99, b"still here", seeded(11))  # X still holds epoch 1's key
    with pytest.raises(EnvelopeError) as err:
        envelope.open(late, keys=keyring([epoch_1, epoch_2]), senders=members, revoked=revoked)
    assert err.value.code == "revoked_sender"


def test_base64_for_the_relay():
    text = seal_b64(EPOCH_1, A, 1, b"x", seeded(12))
    assert open_b64(text, keys=KEYS, senders=SENDERS) == Opened(A.id, 1, b"x")
    for bad in ("not base64!", text[:-1], 7):
        with pytest.raises(EnvelopeError) as err:
            open_b64(bad, keys=KEYS, senders=SENDERS)
        assert err.value.code in ("malformed", "truncated")
    with pytest.raises(EnvelopeError) as err:
        open_b64("A" * (2 * MAX_MESSAGE_BYTES), keys=KEYS, senders=SENDERS)
    assert err.value.code == "oversized"


@pytest.mark.parametrize("seq", [-1, 2**64, True, 1.0])
def test_seal_refuses_a_bad_sequence_number(seq):
    with pytest.raises(EnvelopeError) as err:
        seal(EPOCH_1, A, seq, b"", seeded(1))
    assert err.value.code == "malformed"


def test_a_replay_opens_again_the_state_refuses_it():
    """Replays are the version vector's to refuse (sync/state.py): open is stateless."""
    assert open_(MESSAGE) == open_(MESSAGE)


CODES = {
    "truncated",
    "oversized",
    "malformed",
    "unknown_epoch",
    "undecryptable",
    "unknown_sender",
    "revoked_sender",
    "bad_signature",
}


@st.composite
def _mutated(draw):
    data = bytearray(MESSAGE)
    for _ in range(draw(st.integers(1, 3))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data) + 1))])


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        _mutated(),
        st.binary(min_size=OVERHEAD, max_size=OVERHEAD + 40).map(lambda b: b"\x01\0\0\0\x01" + b),
    )
)
def test_open_on_any_bytes_only_raises_its_typed_errors(data):
    try:
        assert open_(data) == Opened(A.id, 7, b"a change")  # only the one real message opens
    except EnvelopeError as err:
        assert err.code in CODES


@FUZZ
@given(st.text(max_size=300))
def test_open_b64_on_any_text_only_raises_its_typed_errors(text):
    with pytest.raises(EnvelopeError) as err:
        open_b64(text, keys=KEYS, senders=SENDERS)
    assert err.value.code in CODES
