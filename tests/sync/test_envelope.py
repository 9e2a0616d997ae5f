"""Sync messages: sealed with the epoch's data key, signed by their sender, refused with a typed error otherwise."""

from __future__ import annotations

import hashlib
import json
import random
import tracemalloc
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl import bindings

from walletsync.sync import envelope
from walletsync.sync.envelope import (
    AS_IS,
    DEFLATE,
    DOMAIN,
    HEADER_BYTES,
    MAX_BODY_BYTES,
    MAX_MESSAGE_BYTES,
    OVERHEAD,
    VERSION,
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


def plaintext_of(message: bytes) -> bytes:
    header = message[:HEADER_BYTES]
    return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(message[HEADER_BYTES:], header, header[5:], EPOCH_1.key)


def test_the_wire_layout():
    nonce = seeded(1)(24)
    header = bytes([2]) + (1).to_bytes(4, "big") + nonce
    assert MESSAGE[:HEADER_BYTES] == header
    assert len(MESSAGE) == OVERHEAD + len(b"a change")
    plaintext = plaintext_of(MESSAGE)
    sender, seq, encoding, body, signature = (
        plaintext[:16],
        plaintext[16:24],
        plaintext[24:25],
        plaintext[25:-64],
        plaintext[-64:],
    )
    assert (sender.hex(), int.from_bytes(seq, "big"), encoding, body) == (A.id, 7, b"\0", b"a change")
    assert signature == A.sign(b"walletsync sync message v2\0" + header + sender + seq + encoding + body)


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
    biggest = seal(EPOCH_1, A, 1, bytes(MAX_BODY_BYTES), seeded(3), compress=False)
    assert len(biggest) == MAX_MESSAGE_BYTES and open_(biggest).body == bytes(MAX_BODY_BYTES)
    noise = seeded(13)(MAX_BODY_BYTES)  # does not compress: goes as is, filling the message
    assert len(seal(EPOCH_1, A, 1, noise, seeded(3))) == MAX_MESSAGE_BYTES
    assert open_(seal(EPOCH_1, A, 1, bytes(MAX_BODY_BYTES), seeded(3))).body == bytes(MAX_BODY_BYTES)
    with pytest.raises(EnvelopeError) as err:
        seal(EPOCH_1, A, 1, bytes(MAX_BODY_BYTES + 1), seeded(3))
    assert err.value.code == "oversized"


def test_a_member_cannot_speak_for_another():
    """B holds the data key: it can seal, but what it seals under A's name does not carry A's signature."""
    nonce = seeded(4)(24)
    header = bytes([VERSION]) + (1).to_bytes(4, "big") + nonce
    sender, seq, body = bytes.fromhex(A.id), (8).to_bytes(8, "big"), bytes([AS_IS]) + b"forged by B"
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
    moved_header = bytes([VERSION]) + (2).to_bytes(4, "big") + header[5:]
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


# --- body encodings: as is, or raw DEFLATE ---------------------------------------------------------------


def deflate(data: bytes, level: int = 9) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def signed_by(sender: DeviceKeys, payload: bytes, *, version: int = VERSION, domain: bytes = DOMAIN) -> bytes:
    """A message ``sender`` really sealed and signed, whatever its payload (encoding byte included) says."""
    nonce = seeded(20)(24)
    header = bytes([version]) + (1).to_bytes(4, "big") + nonce
    signed = bytes.fromhex(sender.id) + (9).to_bytes(8, "big") + payload
    plaintext = signed + sender.sign(domain + header + signed)
    return header + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, nonce, EPOCH_1.key)


CHANGE = json.dumps(  # a rename's change: the name and the signed audit row, mostly hex
    {
        "change": {
            "device": A.id,
            "seq": 42,
            "stamp": f"1760000123456:0:{A.id}",
            "writes": [
                ["session/" + "1a2f" * 16, "name", "set", "a typical name"],
                [
                    f"audit/{A.id}/42",
                    "entry",
                    "once",
                    {"hash": "99aa" * 16, "prev_hash": "d227" * 16, "sig": "71" * 64},
                ],
            ],
        },
        "t": "change",
    },
    sort_keys=True,
    separators=(",", ":"),
).encode()


def test_a_body_that_compresses_goes_deflated_and_opens_byte_exact():
    message = seal(EPOCH_1, A, 42, CHANGE, seeded(21))
    plaintext = plaintext_of(message)
    encoding, payload = plaintext[24], plaintext[25:-64]
    assert encoding == DEFLATE and payload == deflate(CHANGE)
    assert len(message) == OVERHEAD + len(payload) < OVERHEAD + len(CHANGE)
    # the signature covers the payload as sent, so nothing is inflated before the sender checks out
    assert plaintext[-64:] == A.sign(DOMAIN + message[:HEADER_BYTES] + plaintext[:-64])
    assert open_(message) == Opened(A.id, 42, CHANGE)
    assert open_b64(seal_b64(EPOCH_1, A, 42, CHANGE, seeded(21)), keys=KEYS, senders=SENDERS).body == CHANGE


def test_a_body_that_does_not_compress_goes_as_is():
    noise = seeded(22)(600)
    for body, compress in ((noise, True), (CHANGE, False), (b"", True)):
        message = seal(EPOCH_1, A, 1, body, seeded(23), compress=compress)
        plaintext = plaintext_of(message)
        assert (plaintext[24], plaintext[25:-64]) == (AS_IS, body)
        assert len(message) == OVERHEAD + len(body) and open_(message).body == body


def test_a_bomb_is_refused_oversized_without_inflating_it():
    """A member signs 64 KiB that inflate to 64 MiB: opening holds a few bounds' worth at most, not the 64 MiB."""
    packer, chunk = zlib.compressobj(9, zlib.DEFLATED, -15), bytes(1024 * 1024)
    bomb = b"".join(packer.compress(chunk) for _ in range(64)) + packer.flush()
    message = signed_by(A, bytes([DEFLATE]) + bomb)
    assert len(message) < MAX_MESSAGE_BYTES
    tracemalloc.start()
    try:
        refused("oversized", message)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MAX_MESSAGE_BYTES
    refused("oversized", signed_by(A, bytes([DEFLATE]) + deflate(bytes(MAX_BODY_BYTES + 1))))  # one byte past
    assert open_(signed_by(A, bytes([DEFLATE]) + deflate(bytes(MAX_BODY_BYTES)))).body == bytes(MAX_BODY_BYTES)


@pytest.mark.parametrize(
    "payload",
    [
        bytes([DEFLATE]) + b"\xff\xff\xff",  # a reserved block type
        bytes([DEFLATE]) + deflate(CHANGE)[:-3],  # cut short
        bytes([DEFLATE]),  # nothing at all
        bytes([DEFLATE]) + deflate(CHANGE) + b"\0",  # trailing bytes after the final block
        bytes([DEFLATE]) + zlib.compress(CHANGE),  # a zlib stream (header, checksum) is not raw DEFLATE
        bytes([2]) + CHANGE,  # an unknown encoding
        bytes([255]) + deflate(CHANGE),
    ],
)
def test_a_signed_body_that_does_not_decode_is_malformed(payload):
    refused("malformed", signed_by(A, payload))


def test_a_version_1_message_is_refused():
    """The format before body encodings: a real one, signed under its own domain, is an unknown version."""
    old = signed_by(A, b"a change", version=1, domain=b"walletsync sync message v1\0")
    refused("malformed", old)


def test_hostile_payloads_are_judged_only_once_the_sender_checks_out():
    payload = bytes([DEFLATE]) + b"\xff\xff\xff"
    refused("unknown_sender", signed_by(X, payload))
    refused("revoked_sender", signed_by(X, payload), revoked={X.id})


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=2048),
        st.text(max_size=2048).map(str.encode),
        st.lists(st.sampled_from([b"session/", b"audit/", b'"hash":"', b"0123abcd", b"\0" * 40]), max_size=200).map(
            b"".join
        ),
    )
)
def test_any_body_opens_back_as_sealed_and_never_grows_more_than_the_encoding_byte(body):
    message = seal(EPOCH_1, B, 3, body, seeded(24))
    assert len(message) <= OVERHEAD + len(body)
    assert open_(message) == Opened(B.id, 3, body)


@FUZZ
@given(st.integers(0, 255), st.binary(max_size=300), st.integers(0, 2000))
def test_open_on_any_signed_payload_only_raises_its_typed_errors(encoding, junk, cut):
    """Member-signed payloads: random bytes, and a real DEFLATE stream cut and spliced with them."""
    real = deflate(CHANGE)
    for payload in (bytes([encoding]) + junk, bytes([DEFLATE]) + real[: cut % len(real)] + junk):
        try:
            assert isinstance(open_(signed_by(A, payload)).body, bytes)
        except EnvelopeError as err:
            assert err.code in ("malformed", "oversized"), err


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
        st.binary(min_size=OVERHEAD, max_size=OVERHEAD + 40).map(lambda b: b"\x02\0\0\0\x01" + b),
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
