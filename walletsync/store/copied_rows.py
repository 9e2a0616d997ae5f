"""Rows copied from another device's database into this one (a backup restored as a new device).

The keys in them are opened with the other database's storage key and sealed again with this one's, in memory:
no key is on disk in clear on the way. The two databases have the same schema (both are migrated on open).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from walletsync.store.sealing import seal, unseal

if TYPE_CHECKING:
    from walletsync.store.db import _Serialized

SEALED: dict[str, tuple[str, ...]] = {"sessions": ("sealed_key",), "pairings": ("sealed_key",)}
"""The copied tables' columns holding a key sealed with the storage key."""

CACHES = ("balance_cache",)
"""Tables that only remember what can be read again (a fresh device may have filled them already)."""


class CopiedRows:
    """The :class:`~walletsync.store.db.Database` methods that copy whole tables between two devices' databases."""

    _db: _Serialized
    _key: bytes

    def tables_holding_rows(self) -> list[str]:
        """The tables (caches aside) that hold at least one row: none, for a database only opened so far."""
        names = [
            name
            for (name,) in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return [n for n in names if n not in CACHES and self._db.execute(f'SELECT 1 FROM "{n}" LIMIT 1').fetchone()]

    def rows_to_copy(self, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """A table's columns and rows, its sealed keys opened (hold them in memory only; give them to
        :meth:`insert_copied`)."""
        columns = [row[1] for row in self._db.execute(f'PRAGMA table_info("{table}")')]
        sealed = [columns.index(c) for c in SEALED.get(table, ())]
        rows = []
        for row in self._db.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            values = list(row)
            for i in sealed:
                if values[i] is not None:
                    values[i] = unseal(self._key, values[i])
            rows.append(tuple(values))
        return columns, rows

    def insert_copied(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Insert rows :meth:`rows_to_copy` gave, their keys sealed with this database's storage key (the caller holds
        the transaction). Not marked as touched: the device group gets them when this device joins one."""
        if not rows:
            return
        mine = [row[1] for row in self._db.execute(f'PRAGMA table_info("{table}")')]
        if mine != columns:
            raise ValueError(f"the table {table} differs between the two databases")
        sealed = [columns.index(c) for c in SEALED.get(table, ())]
        resealed = []
        for row in rows:
            values = list(row)
            for i in sealed:
                if values[i] is not None:
                    values[i] = seal(self._key, values[i])
            resealed.append(tuple(values))
        marks = ", ".join("?" for _ in columns)
        self._db.executemany(f'INSERT INTO "{table}" VALUES ({marks})', resealed)
