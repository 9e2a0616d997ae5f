"""What can go wrong opening a vault, each with a message a user can act on.

None of them carries a passphrase, a share's words or anything from inside the vault.
"""

from __future__ import annotations

from walletsync.errors import WalletsyncError


class VaultError(WalletsyncError):
    """Base of the vault's errors."""

    code = "backup_error"


class NotAVault(VaultError):
    """The file does not start like a walletsync backup (or is of a version this walletsync does not read)."""

    code = "not_a_backup"


class DamagedVault(VaultError):
    """The file is a backup but its header or content does not check out: damaged or modified."""

    code = "backup_damaged"


class WeakKdf(VaultError):
    """The header asks for Argon2id costs outside what walletsync accepts (below the floor, or absurdly high).

    A modified header could otherwise make a passphrase cheap to guess or exhaust memory.
    """

    code = "backup_weak_kdf"


class WrongPassphrase(VaultError):
    """The passphrase does not open the backup."""

    code = "wrong_passphrase"


class ShareError(VaultError):
    """A share is not a valid SLIP-39 share (a mistyped or missing word: its checksum tells), or belongs elsewhere."""

    code = "bad_share"


class TooFewShares(ShareError):
    """Valid shares, but fewer than the threshold."""

    code = "too_few_shares"


class SharesDoNotOpen(ShareError):
    """Enough valid shares, but they do not open this backup: another backup's set, or the wrong share passphrase."""

    code = "shares_do_not_open"
