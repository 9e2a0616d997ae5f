"""The sibling mark: how a member tells another member's session message from the phone's.

Every member holds the session's keys, so a message on a session topic may come from the phone or
from a sibling device. Members seal their session messages with a nonce derived from the plaintext
under a group key (keyed BLAKE2b, 12 bytes: the WalletConnect envelope's IV); after decrypting, a
member recomputes it. The phone, without the key, sees an IV like any other. The same plaintext
sealed twice gets the same IV, and so the same ciphertext: an observer learns only that a message
was repeated. The mark key is per epoch (:attr:`walletsync.sync.keys.EpochKey.mark_key`), so a
check takes the keys of the epochs a sibling may still be using.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

NONCE_BYTES = 12


def nonce_for(mark_key: bytes, plaintext: bytes) -> bytes:
    """The 12-byte IV a member seals ``plaintext`` with on a session topic."""
    return hashlib.blake2b(plaintext, key=mark_key, digest_size=NONCE_BYTES).digest()


def is_sibling(mark_keys: Iterable[bytes], nonce: bytes, plaintext: bytes) -> bool:
    """Whether ``nonce`` is the mark of ``plaintext`` under one of ``mark_keys`` (each compared in constant time)."""
    found = False
    for key in mark_keys:
        found |= hmac.compare_digest(nonce_for(key, plaintext), nonce)
    return found
