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
        """When the newest backup was made, and whether a change worth keeping came after it.

        The newest backup is the one made here (``backup_made``) or the one this data dir was restored from,
        whichever came last: either holds everything before its row. What counts as a change is
        :mod:`walletsync.service.worth_keeping`'s list (reads, pings and refusals do not)."""
        from walletsync.service.worth_keeping import BACKUP_KINDS, WORTH_KEEPING

        marks = [row for row in map(self.db.latest_audit, BACKUP_KINDS) if row is not None]
        newest = max((row.seq for row in map(self.db.latest_audit, WORTH_KEEPING) if row is not None), default=None)
        if not marks:
            return BackupAge(None, newest is not None)
        mark = max(marks, key=lambda row: row.seq)
        made_at = mark.ts // 1000 if mark.kind == "backup_made" else int(mark.data.get("made_at", mark.ts // 1000))
        return BackupAge(made_at, newest is not None and newest > mark.seq)
