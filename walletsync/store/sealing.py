"""Seal small secrets (pairing and session keys) with the device's storage key before they touch disk.

``seal`` is XSalsa20-Poly1305 (``nacl.secret.SecretBox``) with a fresh random nonce
carried inside the result, so sealing the same plaintext twice gives different bytes
and callers store the result as one opaque blob. ``unseal`` either returns exactly
what was sealed or raises :class:`SealError`: there is no partial or unauthenticated
output.
"""

from __future__ import annotations

from functools import lru_cache

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from walletsync.errors import WalletsyncError

KEY_SIZE = SecretBox.KEY_SIZE
OVERHEAD = SecretBox.NONCE_SIZE + SecretBox.MACBYTES


class SealError(WalletsyncError):
    """Sealed data could not be opened with the storage key we hold.

    Almost always the data dir was sealed with another device's storage key (the
    keyring entry was replaced or deleted, or another ``--keyring-file`` was used);
    otherwise the stored blob was modified. The message never contains key material.
    """

    code = "seal_error"


_MISMATCH = (
    "sealed data does not open with this data dir's storage key: the keys in the OS keyring "
    "(or --keyring-file) are not the ones this data dir was created with (was the keyring entry "
    "replaced or deleted?), or the stored data was modified"
)


@lru_cache(maxsize=4)
def _boxed(key: bytes) -> SecretBox:
    return SecretBox(key)


def _box(key: bytes) -> SecretBox:
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
        raise SealError(f"the storage key must be {KEY_SIZE} bytes")
    return _boxed(bytes(key))  # one box per key, not one per sealed value (thousands at open with many sessions)


def seal(key: bytes, plaintext: bytes) -> bytes:
    """``nonce ‖ ciphertext ‖ tag`` of ``plaintext`` under ``key`` (32 bytes); store it as is."""
    if not isinstance(plaintext, (bytes, bytearray)):
        raise SealError("only bytes can be sealed")
    return bytes(_box(key).encrypt(bytes(plaintext)))


def unseal(key: bytes, sealed: bytes) -> bytes:
    """The plaintext inside ``sealed``; :class:`SealError` if ``key`` did not seal it or it was changed."""
    box = _box(key)
    if not isinstance(sealed, (bytes, bytearray)) or len(sealed) < OVERHEAD:
        raise SealError(
            f"sealed data is truncated (a sealed value has at least {OVERHEAD} bytes): the stored data was damaged"
        )
    try:
        return box.decrypt(bytes(sealed))
    except CryptoError:
        raise SealError(_MISMATCH) from None
