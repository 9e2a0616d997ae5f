"""The device group's rows: who this device is in the group, the membership entries, the epochs' data
keys (sealed), the merged shared state (sealed entity by entity: it holds session keys) and this device's
own changes.

The rules are :mod:`walletsync.sync`'s; this module only keeps their bytes. Everything that could
open a session or read the group's messages is sealed with the storage key before it touches disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from walletsync.store.sealing import seal, unseal

if TYPE_CHECKING:
    from walletsync.store.db import _Serialized


@dataclass(frozen=True)
class GroupRow:
    """This device's place in its group: the group id, its name there and the next change number."""

    group_id: str
    device_name: str
    joined_at: int
    next_seq: int
    clock: str | None
    """The hybrid clock's last stamp (JSON), so a restarted device never stamps behind itself."""


class GroupQueries:
    """The :class:`~walletsync.store.db.Database` methods on the ``group_*`` tables."""

    _db: _Serialized
    _key: bytes

    def group(self) -> GroupRow | None:
        row = self._db.execute(
            "SELECT group_id, device_name, joined_at, next_seq, clock FROM group_self WHERE id = 1"
        ).fetchone()
        return None if row is None else GroupRow(*row)

    def save_group(self, row: GroupRow) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO group_self VALUES (1, ?, ?, ?, ?, ?)",
            (row.group_id, row.device_name, row.joined_at, row.next_seq, row.clock),
        )

    def leave_group(self) -> None:
        """Forget the group: its keys, state, entries and changes (the sessions it brought stay)."""
        for table in (
            "group_self",
            "group_entries",
            "group_keys",
            "group_state",
            "group_registers",
            "group_outbox",
            "group_seen",
        ):
            self._db.execute(f"DELETE FROM {table}")

    def group_entries(self) -> list[bytes]:
        """The membership entries (signed, public), in the order they were kept."""
        return [row[0] for row in self._db.execute("SELECT body FROM group_entries ORDER BY rowid")]

    def add_group_entry(self, digest: str, body: bytes, now: int) -> bool:
        """Keep one entry; False if it was kept already."""
        cursor = self._db.execute("INSERT OR IGNORE INTO group_entries VALUES (?, ?, ?)", (digest, body, now))
        return cursor.rowcount == 1

    def epoch_keys(self) -> dict[int, bytes]:
        """Every data key this device holds, by epoch number."""
        return {epoch: unseal(self._key, sealed) for epoch, sealed in self._db.execute("SELECT * FROM group_keys")}

    def save_epoch_key(self, epoch: int, key: bytes) -> None:
        self._db.execute("INSERT OR REPLACE INTO group_keys VALUES (?, ?)", (epoch, seal(self._key, key)))

    def group_state(self) -> bytes | None:
        """The shared state's version vector as the sync layer serialised it, or None before the first change."""
        row = self._db.execute("SELECT sealed FROM group_state WHERE id = 1").fetchone()
        return None if row is None else unseal(self._key, row[0])

    def group_state_mark(self) -> bytes | None:
        """Bytes that differ after every save of the shared state, by any process (read without unsealing):
        what a cache of the state is checked against."""
        row = self._db.execute("SELECT sealed FROM group_state WHERE id = 1").fetchone()
        return None if row is None else bytes(row[0])

    def group_registers(self) -> list[bytes]:
        """Every entity of the shared state, each as the sync layer serialised it."""
        return [unseal(self._key, sealed) for (sealed,) in self._db.execute("SELECT sealed FROM group_registers")]

    def save_group_state(self, vector: bytes, entities: Mapping[str, bytes] | None = None) -> None:
        """Keep the shared state's version vector and the ``entities`` that changed (by entity)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO group_registers VALUES (?, ?)",
            [(self._register_id(entity), seal(self._key, data)) for entity, data in (entities or {}).items()],
        )
        self._db.execute("INSERT OR REPLACE INTO group_state VALUES (1, ?)", (seal(self._key, vector),))

    def _register_id(self, entity: str) -> bytes:
        return hashlib.blake2b(
            entity.encode("utf-8"), key=self._key, person=b"ws-group-entity", digest_size=16
        ).digest()

    def add_outbox(self, seq: int, change: bytes) -> None:
        """Keep one of this device's own changes (to send again to a member that missed it)."""
        self._db.execute("INSERT OR REPLACE INTO group_outbox VALUES (?, ?)", (seq, seal(self._key, change)))

    def outbox(self, since: int = 0) -> list[tuple[int, bytes]]:
        """This device's changes numbered above ``since``, in order."""
        rows = self._db.execute("SELECT seq, sealed FROM group_outbox WHERE seq > ? ORDER BY seq", (since,))
        return [(seq, unseal(self._key, sealed)) for seq, sealed in rows]

    def device_seen(self, device: str, at: int, seen: str | None) -> None:
        """A member was heard from at ``at``; ``seen`` is what it said it had applied (JSON)."""
        self._db.execute(
            "INSERT INTO group_seen VALUES (?, ?, ?) ON CONFLICT (device) DO UPDATE SET "
            "last_seen = max(last_seen, excluded.last_seen), applied = coalesce(excluded.applied, applied)",
            (device, at, seen),
        )

    def devices_seen(self) -> dict[str, tuple[int, str | None]]:
        """Per member: when this device last heard from it, and what it said it had applied."""
        return {device: (at, seen) for device, at, seen in self._db.execute("SELECT * FROM group_seen")}
