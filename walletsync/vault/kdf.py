"""Argon2id (libsodium, through PyNaCl) from a passphrase to a wrapping key, with the costs recorded and bounded.

The vault may sit in a cloud drive and be attacked offline for years, so new backups pay libsodium's MODERATE
cost (3 passes, 256 MiB, ~0.4 s here), as the key file does. Reading refuses costs below INTERACTIVE (2 passes,
64 MiB): the costs are in the header, and although the header is authenticated, that check comes after the key
is derived, so the floor is what keeps a modified header from making a passphrase cheap to guess. Costs above
SENSITIVE are refused too, so a crafted file cannot make us allocate terabytes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from nacl.pwhash import argon2id

from walletsync.vault.errors import WeakKdf

KDF_ID = "argon2id13"
KEY_SIZE = 32
SALT_SIZE = argon2id.SALTBYTES
OPSLIMIT = argon2id.OPSLIMIT_MODERATE
MEMLIMIT = argon2id.MEMLIMIT_MODERATE
OPSLIMIT_FLOOR = argon2id.OPSLIMIT_INTERACTIVE
MEMLIMIT_FLOOR = argon2id.MEMLIMIT_INTERACTIVE
OPSLIMIT_CEILING = argon2id.OPSLIMIT_SENSITIVE
MEMLIMIT_CEILING = argon2id.MEMLIMIT_SENSITIVE


@dataclass(frozen=True)
class KdfParams:
    """Argon2id's costs and salt as the header records them."""

    opslimit: int
    memlimit: int
    salt: bytes

    def check(self) -> None:
        """:class:`WeakKdf` unless the costs lie between the floor and the ceiling and the salt has its size."""
        if not OPSLIMIT_FLOOR <= self.opslimit <= OPSLIMIT_CEILING:
            raise WeakKdf(
                f"the backup asks for Argon2id opslimit {self.opslimit}; walletsync accepts "
                f"{OPSLIMIT_FLOOR} to {OPSLIMIT_CEILING} (the file was made weaker, or is not from walletsync)"
            )
        if not MEMLIMIT_FLOOR <= self.memlimit <= MEMLIMIT_CEILING:
            raise WeakKdf(
                f"the backup asks for Argon2id memlimit {self.memlimit}; walletsync accepts "
                f"{MEMLIMIT_FLOOR} to {MEMLIMIT_CEILING} (the file was made weaker, or is not from walletsync)"
            )
        if len(self.salt) != SALT_SIZE:
            raise WeakKdf(f"the backup's Argon2id salt is {len(self.salt)} bytes, not {SALT_SIZE}")

    def derive(self, passphrase: str) -> bytes:
        """The wrapping key. The passphrase is NFC-normalised so another keyboard's same words still open it."""
        self.check()
        secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
        return bytes(argon2id.kdf(KEY_SIZE, secret, self.salt, opslimit=self.opslimit, memlimit=self.memlimit))
