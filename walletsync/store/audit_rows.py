"""The audit log's rows and its signed head (the chain's rules are :mod:`walletsync.audit`'s)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from walletsync.audit import AuditEntry
from walletsync.store.touches import Touches

if TYPE_CHECKING:
    from walletsync.store.db import _Serialized


class AuditQueries(Touches):
    """The :class:`~walletsync.store.db.Database` methods on the ``audit`` and ``audit_head`` tables."""

    _db: _Serialized

    def last_audit(self) -> AuditEntry | None:
        row = self._db.execute(
            "SELECT seq, ts, kind, session, data, prev_hash, signature FROM audit ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return None if row is None else AuditEntry(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])

    def newest_audit_seal(self) -> tuple[int, str] | None:
        """The newest row's ``(seq, signature)``: enough to tell whether it is still the row one last appended."""
        row = self._db.execute("SELECT seq, signature FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else (row[0], row[1])

    def add_audit(self, entries: Sequence[AuditEntry], head_signature: str) -> None:
        """Append ``entries`` (in order, each linked to the one before) and the signed head naming the last of them."""
        for entry in entries:
            self.touch("audit", str(entry.seq))
            self._db.execute(
                "INSERT INTO audit VALUES (?,?,?,?,?,?,?)",
                (
                    entry.seq,
                    entry.ts,
                    entry.kind,
                    entry.session,
                    json.dumps(entry.data, sort_keys=True, separators=(",", ":")),
                    entry.prev_hash,
                    entry.signature,
                ),
            )
        last = entries[-1]
        self._db.execute(
            "INSERT OR REPLACE INTO audit_head VALUES (1, ?, ?, ?)", (last.seq, last.hash(), head_signature)
        )

    def audit_entries(self, session: str | None = None) -> list[AuditEntry]:
        query = "SELECT seq, ts, kind, session, data, prev_hash, signature FROM audit"
        args: tuple[str, ...] = ()
        if session:
            query += " WHERE session = ?"
            args = (session,)
        rows = self._db.execute(query + " ORDER BY rowid", args).fetchall()
        return [AuditEntry(s, ts, k, se, json.loads(d), p, sig) for s, ts, k, se, d, p, sig in rows]

    def audit_head(self) -> tuple[int, str, str] | None:
        row = self._db.execute("SELECT seq, hash, signature FROM audit_head WHERE id = 1").fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def audit_entry(self, seq: int) -> AuditEntry | None:
        row = self._db.execute(
            "SELECT seq, ts, kind, session, data, prev_hash, signature FROM audit WHERE seq = ?", (seq,)
        ).fetchone()
        return None if row is None else AuditEntry(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])

    def latest_audit(self, kind: str) -> AuditEntry | None:
        """The newest row of ``kind`` (an index search, however long the log)."""
        row = self._db.execute(
            "SELECT seq, ts, kind, session, data, prev_hash, signature FROM audit WHERE kind = ? ORDER BY seq DESC LIMIT 1",
            (kind,),
        ).fetchone()
        return None if row is None else AuditEntry(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])

    def audit_of_kind(self, kind: str) -> list[AuditEntry]:
        """The rows of ``kind``, oldest first (an index search, however long the log)."""
        rows = self._db.execute(
            "SELECT seq, ts, kind, session, data, prev_hash, signature FROM audit WHERE kind = ? ORDER BY seq", (kind,)
        ).fetchall()
        return [AuditEntry(s, ts, k, se, json.loads(d), p, sig) for s, ts, k, se, d, p, sig in rows]

    def add_remote_audit(self, device: str, entry: AuditEntry, text: str) -> bool:
        """Keep another member's audit row (as it signed it); False if it was kept already."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO remote_audit VALUES (?, ?, ?, ?, ?)",
            (device, entry.seq, entry.ts, entry.session, text),
        )
        return cursor.rowcount == 1

    def remote_audit_entries(self, session: str | None = None) -> list[tuple[str, AuditEntry]]:
        """Other members' audit rows (of one session, or all), by device then in their order."""
        query, args = "SELECT device, entry FROM remote_audit", tuple[str, ...]()
        if session:
            query, args = query + " WHERE session = ?", (session,)
        rows = self._db.execute(query + " ORDER BY device, seq", args).fetchall()
        return [(device, AuditEntry.from_json(json.loads(text))) for device, text in rows]
