"""Who signed an Ethereum message: keccak, EIP-55 addresses, the EIP-191 hash, and recovering the signer.

Checking a phone's answer needs only these, and eth-account would load about a second of
modules (its keystores pull in BLS12-381 pairing code) to give them. So the primitives come
straight from their libraries: keccak-256 from safe-pysha3 (eth-hash's C backend), secp256k1
recovery from coincurve (libsecp256k1, the backend eth-keys itself picks when it is installed). What is
written here is formats only, each checked against eth-account's results in
tests/test_eth.py. Nothing here raises anything but :class:`BadSignature` on peer input.
"""

from __future__ import annotations

import functools
import re

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""The order of secp256k1's group: r and s of a signature are below it."""
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class BadSignature(ValueError):
    """The bytes are not a recoverable secp256k1 signature; the text says why, for people."""


def keccak256(data: bytes) -> bytes:
    """Ethereum's keccak-256 (not NIST SHA3-256: the padding differs)."""
    from sha3 import keccak_256

    return keccak_256(data).digest()


@functools.lru_cache(maxsize=256)
def checksum_address(address: str) -> str:
    """The EIP-55 mixed-case form of a ``0x`` + 40 hex digits address (any case in).

    Remembered for the last few addresses: every answer checks the session's account and its signer."""
    if not ADDRESS.fullmatch(address):
        raise ValueError(f"not a 0x address: {address[:48]!r}")
    hex_digits = address[2:].lower()
    hashed = keccak256(hex_digits.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(hex_digits, hashed))


def is_checksum_address(address: str) -> bool:
    """Whether ``address`` is already in its EIP-55 form."""
    return bool(ADDRESS.fullmatch(address)) and checksum_address(address) == address


def personal_message_hash(message: bytes) -> bytes:
    """The EIP-191 version 0x45 hash ``personal_sign`` signs: prefix, decimal length, message."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode("ascii") + message)


def signable_hash(version: bytes, header: bytes, body: bytes) -> bytes:
    """The EIP-191 hash of eth-account's ``SignableMessage`` fields (EIP-712 typed data is version 0x01)."""
    return keccak256(b"\x19" + version + header + body)


def _recovery_id(v: int) -> int:
    """``v`` as wallets write it (27/28, 0/1, or EIP-155's 35+) → 0 or 1, as eth-account reads it."""
    if v in (0, 1):
        return v
    if v in (27, 28):
        return v - 27
    if v >= 35:
        return (v - 35) % 2
    raise BadSignature(f"v {v} is invalid, must be one of: 0, 1, 27, 28, 35+")


def recover_address(message_hash: bytes, signature: bytes) -> str:
    """The checksummed address whose key made the 65-byte ``r || s || v`` ``signature`` over ``message_hash``."""
    from coincurve import PublicKey

    if len(message_hash) != 32:
        raise ValueError("the message hash must be 32 bytes")
    if len(signature) != 65:
        raise BadSignature(f"a signature is 65 bytes, not {len(signature)}")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise BadSignature("r and s must be between 1 and the curve order")
    standard = signature[:64] + bytes([_recovery_id(signature[64])])
    try:
        public_key = PublicKey.from_signature_and_message(standard, message_hash, hasher=None)
    except Exception as exc:  # coincurve raises plain Exception/ValueError when no key recovers
        raise BadSignature(f"no public key recovers from it ({exc})") from None
    return checksum_address("0x" + keccak256(public_key.format(compressed=False)[1:])[-20:].hex())
