"""The last figure read per (account, chain, asset), so balances show at once, with their age, while fresh ones load.

Only rows with a figure are kept: a read that gave none leaves the last figure in place (shown with its age, and
stale once old), never replaced by nothing. At most :data:`MAX_CACHED` rows: the least recently read go first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from walletsync.balances.model import Row
    from walletsync.store.db import _Serialized

MAX_CACHED = 20_000
"""Rows kept: 100 accounts on 5 chains with 40 tokens each."""


class BalanceCacheQueries:
    """The :class:`~walletsync.store.db.Database` methods on the ``balance_cache`` table."""

    _db: _Serialized

    def cache_figures(self, rows: Iterable[Row], read_at: int) -> None:
        """Keep the rows that have a figure as the last ones read (inside a transaction), then trim to the bound."""
        kept = [
            (*row.key, json.dumps({**row.to_json(), "block_time": row.block_time}, separators=(",", ":")), read_at)
            for row in rows
            if row.amount is not None
        ]
        self._db.executemany(
            "INSERT OR REPLACE INTO balance_cache (account, chain, asset, figure, read_at) VALUES (?, ?, ?, ?, ?)",
            kept,
        )
        self._db.execute(
            "DELETE FROM balance_cache WHERE rowid IN (SELECT rowid FROM balance_cache ORDER BY read_at DESC, rowid"
            " DESC LIMIT -1 OFFSET ?)",
            (MAX_CACHED,),
        )

    def cached_figures(self, accounts: Iterable[str]) -> dict[tuple[str, str, str], tuple[Row, int]]:
        """The cached row and when it was read, by :attr:`Row.key`, for these accounts (any case)."""
        from walletsync.balances.model import row_from_json

        wanted = sorted({a.lower() for a in accounts})
        out: dict[tuple[str, str, str], tuple[Row, int]] = {}
        for start in range(0, len(wanted), 500):  # SQLite's bound on parameters per statement
            part = wanted[start : start + 500]
            rows = self._db.execute(
                f"SELECT account, chain, asset, figure, read_at FROM balance_cache WHERE account IN"
                f" ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            for account, chain, asset, figure, read_at in rows:
                try:
                    document = json.loads(figure)
                    out[(account, chain, asset)] = (row_from_json(document, document.get("block_time")), read_at)
                except ValueError:
                    continue  # a row this version cannot read is read again, not shown
        return out
