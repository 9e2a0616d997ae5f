"""The backup vault: one file that brings a data dir back, sealed under a passphrase and/or SLIP-39 shares.

Sans-IO like ``protocol/``: bytes in, bytes out, randomness passed in by the caller (``service/backup.py``
reads and writes the files and gathers what goes in). ``format.py`` says how the file is laid out and why.
"""

from walletsync.vault.errors import (
    DamagedVault,
    NotAVault,
    ShareError,
    SharesDoNotOpen,
    TooFewShares,
    VaultError,
    WeakKdf,
    WrongPassphrase,
)
from walletsync.vault.format import Header, PassphraseHolder, ShareHolder, read_header
from walletsync.vault.kdf import KdfParams
from walletsync.vault.sealing import Sealed, open_with_passphrase, open_with_shares, seal
from walletsync.vault.shares import ShareInfo, ShareSpec, check_share

__all__ = [
    "DamagedVault",
    "Header",
    "KdfParams",
    "NotAVault",
    "PassphraseHolder",
    "Sealed",
    "ShareError",
    "ShareHolder",
    "ShareInfo",
    "ShareSpec",
    "SharesDoNotOpen",
    "TooFewShares",
    "VaultError",
    "WeakKdf",
    "WrongPassphrase",
    "check_share",
    "open_with_passphrase",
    "open_with_shares",
    "read_header",
    "seal",
]
