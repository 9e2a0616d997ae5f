"""The watch list: addresses the user watches besides the sessions' accounts, each with a local label and chains.

Kept in the database (not config.json) because it is the user's state like the sessions, which is what the device
group shares (DESIGN.md: the store holds the watch list): one transaction per change, found by address or label.
Addresses are kept in their EIP-55 form and found in any case (one row per account).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from walletsync.store.db import _Serialized

MAX_WATCHED = 1000
"""Addresses watched at most: each costs a read per chain at every refresh."""


@dataclass(frozen=True)
class Watched:
    """One watched address: EIP-55 ``address``, its local ``label`` (None: none given), and its chains (CAIP-2)."""

    address: str
    label: str | None
    chains: tuple[str, ...]
    added_at: int

    def to_json(self) -> dict[str, Any]:
        """The object of ``walletsync watch --json``."""
        return {"address": self.address, "label": self.label, "chains": list(self.chains), "added_at": self.added_at}


class WatchQueries:
    """The :class:`~walletsync.store.db.Database` methods on the ``watched`` table."""

    _db: _Serialized

    def watched(self) -> list[Watched]:
        """Every watched address, in the order they were added."""
        rows = self._db.execute("SELECT address, label, chains, added_at FROM watched ORDER BY added_at, rowid")
        return [Watched(a, label, tuple(json.loads(c)), at) for a, label, c, at in rows.fetchall()]

    def put_watched(self, watched: Watched) -> None:
        """Add ``watched``, or replace the row of the same address (inside a transaction)."""
        self._db.execute("DELETE FROM watched WHERE lower(address) = ?", (watched.address.lower(),))
        self._db.execute(
            "INSERT INTO watched (address, label, chains, added_at) VALUES (?, ?, ?, ?)",
            (watched.address, watched.label, json.dumps(list(watched.chains)), watched.added_at),
        )

    def drop_watched(self, address: str) -> bool:
        """Stop watching ``address`` (any case); False if it was not watched."""
        cursor = self._db.execute("DELETE FROM watched WHERE lower(address) = ?", (address.lower(),))
        return bool(cursor.rowcount > 0)
