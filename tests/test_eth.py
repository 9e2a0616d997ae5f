"""Keccak, EIP-55, the EIP-191 hash and signer recovery, against published vectors and eth-account's own results.

If these fail, `walletsync sign` calls a genuine signature forged (or a forged one genuine), or shows
addresses in a case other wallets reject.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct, encode_typed_data
from eth_keys import KeyAPI
from eth_keys.backends import CoinCurveECCBackend, NativeECCBackend
from eth_keys.datatypes import Signature
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_signatures import COW, COW_SIGNATURE, MAIL
from walletsync import eth

# EIP-55's own examples (eips.ethereum.org/EIPS/eip-55): all caps, all lower, and mixed case.
EIP55 = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]

# eth-account's documented recover_message example: "I♥SF" signed by 0x5ce9…B12E.
I_LOVE_SF = (
    "0xe6ca9bba58c88611fad66a6ce8f996908195593807c4b38bd528d2cff09d4eb3"
    "3e5bfbbf4d3e39b1a2fd816a7680c19ebebaf3a141b239934ad43cb33fcec8ce" + "1c"
)
I_LOVE_SF_SIGNER = "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E"
NATIVE = NativeECCBackend()


def test_keccak_is_ethereums_not_nist_sha3():
    assert eth.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@pytest.mark.parametrize("address", EIP55)
def test_eip55_examples(address):
    assert eth.checksum_address(address.lower()) == address
    assert eth.checksum_address(address.upper().replace("0X", "0x")) == address
    assert eth.is_checksum_address(address)


def test_a_changed_case_is_not_a_checksum_address():
    assert not eth.is_checksum_address("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    assert not eth.is_checksum_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe")


def test_eth_accounts_published_personal_sign_example():
    digest = eth.personal_message_hash("I♥SF".encode())
    assert digest == _hash_eip191_message(encode_defunct(text="I♥SF"))
    assert eth.recover_address(digest, bytes.fromhex(I_LOVE_SF[2:])) == I_LOVE_SF_SIGNER


def test_eip712_specification_example():
    signable = encode_typed_data(full_message=MAIL)
    digest = eth.signable_hash(signable.version, signable.header, signable.body)
    assert digest.hex() == "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"  # in EIP-712's text
    assert eth.recover_address(digest, bytes.fromhex(COW_SIGNATURE[2:])) == COW


def test_eth_keys_uses_libsecp256k1_too():
    """The reference phone signs through eth-account; with coincurve installed eth-keys picks it."""
    assert isinstance(KeyAPI().backend, CoinCurveECCBackend)


def _theirs(message: bytes, signature: bytes) -> str | None:
    try:
        return Account.recover_message(encode_defunct(primitive=message), signature=signature)
    except Exception:
        return None


def _native(message: bytes, signature: bytes) -> str | None:
    """Pure-Python secp256k1 (eth-keys' own code), for the raw r || s || {0,1} form."""
    if signature[64] not in (0, 1):
        return None
    try:
        digest = _hash_eip191_message(encode_defunct(primitive=message))
        return Signature(signature, backend=NATIVE).recover_public_key_from_msg_hash(digest).to_checksum_address()
    except Exception:
        return None


def _ours(message: bytes, signature: bytes) -> str | None:
    try:
        return eth.recover_address(eth.personal_message_hash(message), signature)
    except eth.BadSignature:
        return None


keys = st.binary(min_size=32, max_size=32).filter(lambda k: 0 < int.from_bytes(k, "big") < eth.SECP256K1_N)


@settings(max_examples=150, deadline=None)
@given(keys, st.binary(max_size=200), st.sampled_from(["27/28", "0/1", "35+", "high s"]))
def test_recovery_matches_eth_account_and_pure_python(key, message, form):
    """Every way wallets write a good signature recovers to the signer, exactly as eth-account and eth-keys' pure
    Python backend say."""
    account = Account.from_key(key)
    signature = bytearray(account.sign_message(encode_defunct(primitive=message)).signature)
    if form == "0/1":
        signature[64] -= 27
    elif form == "35+":
        signature[64] += 8 + 2 * 100  # as if EIP-155 on chain 100 had been applied
    elif form == "high s":
        s = int.from_bytes(signature[32:64], "big")
        signature[32:64] = (eth.SECP256K1_N - s).to_bytes(32, "big")
        signature[64] = 55 - signature[64]
    assert _ours(message, bytes(signature)) == _theirs(message, bytes(signature)) == account.address
    raw = bytes(signature[:64]) + bytes([(signature[64] - 27) % 2 if signature[64] >= 27 else signature[64]])
    assert _native(message, raw) == account.address


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.binary(min_size=65, max_size=65))
def test_any_65_bytes_recover_as_eth_account_says(message, signature):
    """Garbage is refused, and whatever does recover recovers to the same address eth-account gives."""
    assert _ours(message, signature) == _theirs(message, signature)


@pytest.mark.parametrize("length", [0, 64, 66])
def test_wrong_length_is_a_bad_signature(length):
    with pytest.raises(eth.BadSignature):
        eth.recover_address(b"\x00" * 32, b"\x01" * length)
