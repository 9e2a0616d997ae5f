"""Sealing pairing and session keys with the storage key before they reach SQLite."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletsync.errors import WalletsyncError
from walletsync.store.sealing import OVERHEAD, SealError, seal, unseal

KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))
SYM_KEY = bytes.fromhex("7ff3e362f825ab868e20e767fe580d0311181632707e7c878cbeca0238d45b8b")


@given(st.binary(max_size=512))
def test_round_trip(plaintext):
    """Stored session keys come back exactly as they went in, or sessions stop decrypting after a restart."""
    assert unseal(KEY, seal(KEY, plaintext)) == plaintext


def test_each_seal_uses_a_fresh_nonce():
    """Sealing the same key twice gives different bytes, so the database does not reveal which sessions share a key."""
    first, second = seal(KEY, SYM_KEY), seal(KEY, SYM_KEY)
    assert first != second
    assert len(first) == len(SYM_KEY) + OVERHEAD
    assert SYM_KEY not in first and SYM_KEY.hex().encode() not in first


@pytest.mark.parametrize(
    "position", [0, 23, 24, 40, -1], ids=["nonce-start", "nonce-end", "tag-start", "ciphertext", "last"]
)
def test_tampered_data_is_refused(position):
    """A modified row in the database is refused with a clear error instead of yielding a wrong key."""
    sealed = bytearray(seal(KEY, SYM_KEY))
    sealed[position] ^= 0x01
    with pytest.raises(SealError):
        unseal(KEY, bytes(sealed))


def test_wrong_key_is_a_seal_error_without_key_material():
    """After the keyring entry is replaced, the user is told the storage key does not match, and no key is shown."""
    sealed = seal(KEY, SYM_KEY)
    with pytest.raises(SealError) as caught:
        unseal(OTHER_KEY, sealed)
    error = caught.value
    assert isinstance(error, WalletsyncError) and error.code == "seal_error"
    text = str(error) + repr(error)
    assert "storage key" in text and "keyring" in text
    for secret in (KEY, OTHER_KEY, SYM_KEY):
        assert secret.hex() not in text.lower()
        assert repr(secret) not in text


@pytest.mark.parametrize("sealed", [b"", b"\x00" * (OVERHEAD - 1)], ids=["empty", "short"])
def test_truncated_data_is_a_seal_error(sealed):
    """A truncated blob in the database is a clear SealError, not a pynacl traceback."""
    with pytest.raises(SealError, match="truncated"):
        unseal(KEY, sealed)


@pytest.mark.parametrize("key", [b"", KEY[:31], KEY + b"\x00", "k" * 32], ids=["empty", "31", "33", "str"])
def test_bad_storage_key_is_a_seal_error(key):
    """A malformed storage key is reported as walletsync's error, not a library exception."""
    with pytest.raises(SealError, match="32 bytes"):
        seal(key, SYM_KEY)
    with pytest.raises(SealError, match="32 bytes"):
        unseal(key, seal(KEY, SYM_KEY))


def test_only_bytes_are_sealed():
    """Passing text by mistake fails loudly instead of sealing something unexpected."""
    with pytest.raises(SealError):
        seal(KEY, "not bytes")  # type: ignore[arg-type]


def test_random_keys_round_trip():
    """A freshly generated storage key works for sealing (the normal first-start case)."""
    key = os.urandom(32)
    assert unseal(key, seal(key, SYM_KEY)) == SYM_KEY
