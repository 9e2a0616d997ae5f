"""The façade's backup half: making a backup of this data dir, and how old the newest one is.

:class:`~walletsync.service.companion.Companion` inherits these. Reading a backup and restoring one need no
companion (the data dir may not exist yet): they are :mod:`walletsync.service.backup`'s functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from walletsync.store.db import Database
from walletsync.store.keys import DeviceSecrets

if TYPE_CHECKING:  # the backup code, the vault and shamir-mnemonic load when a backup is made, not at every start
    from walletsync.service import backup
    from walletsync.service.journal import Journal
    from walletsync.service.store_sync import StoreSync
    from walletsync.vault import ShareSpec


@dataclass(frozen=True)
class BackupAge:
    """When the newest backup was made (None: never) and whether a change worth keeping came after it."""

    made_at: int | None
    changed_since: bool


class BackupMethods:
    """The façade's backup methods (the attributes below are the Companion's)."""

    home: Path
    db: Database
    secrets: DeviceSecrets
    journal: Journal
    store_sync: StoreSync
    clock: Callable[[], float]

    def create_backup(
        self, output: Path, *, passphrase: str | None, spec: ShareSpec | None, made_by: str | None = None
    ) -> backup.BackupMade:
        """Write a backup of this data dir to ``output`` and audit it; the shares in the result are shown once."""
        from walletsync.service import backup

        made = backup.create(
            self.home, self.db, self.secrets, output, passphrase=passphrase, spec=spec, now=int(self.clock())
        )
        with self.db.transaction():
            self.journal.audit("backup_made", None, holders=backup.holders_of(passphrase, spec))
        return made

    def restore_backup(self, backup: backup.Backup) -> backup.RestoredHere:
        """Bring ``backup`` into this device, which must be fresh (no session, request, watched address, device
        group or audit row: what opening a new data dir leaves): :class:`RestoreRefused` otherwise, nothing changed.
        This device keeps its own identity (it does not impersonate the backup's device); the sessions come back
        usable with the phone, the engine following them at its next look at the store."""
        from walletsync.service.backup_import import restore_here

        restored = restore_here(self.home, self.db, self.journal, backup)
        self.store_sync.adopt_soon()
        return restored

    def backup_age(self) -> BackupAge:
        """Whether the newest backup is older than the newest audit row (every change worth keeping leaves one)."""
        made = self.db.latest_audit("backup_made")
        newest = self.db.last_audit()
        if made is None:
            return BackupAge(None, newest is not None)
        return BackupAge(made.ts // 1000, newest is not None and newest.seq > made.seq)
