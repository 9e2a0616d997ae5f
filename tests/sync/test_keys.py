"""A device's keys and card, and the epochs' data keys: derived as docs/SYNC.md says, never printed."""

from __future__ import annotations

import hashlib
import random

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey
from nacl.signing import VerifyKey

from walletsync.protocol.relay_auth import RelayIdentity
from walletsync.sync.ids import device_id
from walletsync.sync.keys import (
    WRAPPED_KEY_BYTES,
    DeviceCard,
    DeviceKeys,
    EpochKey,
    KeysError,
)

FUZZ = settings(
    max_examples=200, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
SEED = bytes(range(32))


def seeded(seed: int):
    return random.Random(seed).randbytes


def _hkdf(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def test_device_keys_are_the_identity_seed_s_keys():
    keys = DeviceKeys(SEED)
    assert keys.signing_public == RelayIdentity(SEED).public_key  # the same key as the relay id and the audit
    assert keys.id == device_id(keys.signing_public)
    assert keys.exchange_public == bytes(PrivateKey(_hkdf(SEED, b"walletsync device exchange v1")).public_key)
    VerifyKey(keys.signing_public).verify(b"hello", keys.sign(b"hello"))
    assert DeviceKeys(SEED) == keys and DeviceKeys(bytes(32)) != keys


def test_secrets_never_print():
    keys = DeviceKeys(SEED)
    epoch = EpochKey(3, bytes(range(100, 132)))
    for text in (repr(keys), str(keys), repr(epoch), str(epoch)):
        assert SEED.hex() not in text and bytes(range(100, 132)).hex() not in text
        assert "seed" not in text and "key=" not in text
    assert keys.id in repr(keys) and "epoch=3" in repr(epoch)


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33), "00" * 32, None])
def test_a_seed_is_32_bytes(seed):
    with pytest.raises(KeysError) as err:
        DeviceKeys(seed)
    assert err.value.code == "invalid_key"


def test_a_card_round_trips_through_json():
    card = DeviceKeys(SEED).card("laptop")
    assert card.to_json() == {
        "id": card.id,
        "signing": card.signing_public.hex(),
        "exchange": card.exchange_public.hex(),
        "name": "laptop",
    }
    assert DeviceCard.from_json(card.to_json()) == card


def _card_json(**changes):
    value = DeviceKeys(SEED).card("laptop").to_json()
    value.update(changes)
    return value


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        "card",
        {},
        _card_json(id=DeviceKeys(bytes(32)).id),  # the id of another key
        _card_json(id="Z" * 32),
        _card_json(signing="00" * 31),
        _card_json(signing=_card_json()["signing"].upper()),
        _card_json(exchange="zz" * 32),
        _card_json(exchange="00" * 32),  # a low-order point: a key sealed to it is readable by anyone
        _card_json(exchange="01" + "00" * 31),
        _card_json(name=""),
        _card_json(name="x" * 129),
        _card_json(name="evil\x1b[2Jname"),
        _card_json(name="bidi\u202ename"),
        _card_json(name=7),
        {**_card_json(), "extra": 1},
        {k: v for k, v in _card_json().items() if k != "name"},
    ],
)
def test_a_bad_card_is_refused(value):
    with pytest.raises(KeysError) as err:
        DeviceCard.from_json(value)
    assert err.value.code == "invalid_card"


def test_a_wrapped_key_opens_only_for_its_device():
    alice, bob = DeviceKeys(SEED), DeviceKeys(bytes(32))
    data_key = seeded(1)(32)
    sealed = alice.card("a").wrap(data_key)
    assert len(sealed) == WRAPPED_KEY_BYTES
    assert alice.unwrap(sealed) == data_key
    for bad in (sealed[:-1], sealed[:10], bytes([sealed[0] ^ 1]) + sealed[1:], b""):
        with pytest.raises(KeysError) as err:
            alice.unwrap(bad)
        assert err.value.code == "undecryptable"
    with pytest.raises(KeysError) as err:
        bob.unwrap(sealed)
    assert err.value.code == "undecryptable"


def test_an_epoch_key_derives_its_topic_and_mark_key_apart():
    key = seeded(2)(32)
    epoch = EpochKey(1, key)
    assert epoch.topic == hashlib.sha256(_hkdf(key, b"walletsync sync topic v1")).hexdigest()
    assert epoch.mark_key == _hkdf(key, b"walletsync sibling mark v1")
    assert len({epoch.topic, epoch.mark_key.hex(), key.hex(), hashlib.sha256(key).hexdigest()}) == 4
    assert EpochKey(1, seeded(3)(32)).topic != epoch.topic
    assert EpochKey.generate(4, seeded(2)) == EpochKey(4, key)


@pytest.mark.parametrize(
    "epoch, key", [(0, bytes(32)), (-1, bytes(32)), (2**32, bytes(32)), (True, bytes(32)), (1, b"")]
)
def test_an_epoch_key_is_numbered_from_1_and_32_bytes(epoch, key):
    with pytest.raises(KeysError):
        EpochKey(epoch, key)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=12,
)


@FUZZ
@given(st.one_of(_json, st.fixed_dictionaries({k: _json for k in ("id", "signing", "exchange", "name")})))
def test_a_card_from_anything_is_a_card_or_a_keys_error(value):
    try:
        DeviceCard.from_json(value)
    except KeysError as err:
        assert err.code == "invalid_card"
