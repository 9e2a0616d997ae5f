"""The rows of the requests this device sent (and the pings and extends the engine keeps), with their answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from walletsync.protocol.state import PendingRequest
from walletsync.store.columns import as_json, from_json
from walletsync.store.records import RequestRecord
from walletsync.store.touches import Touches

if TYPE_CHECKING:
    from walletsync.store.db import _Serialized


class RequestQueries(Touches):
    """The :class:`~walletsync.store.db.Database` methods on the ``requests`` table."""

    _db: _Serialized

    def save_request(self, r: PendingRequest, *, now: int) -> None:
        if r.wire_method == "wc_sessionRequest":
            self.touch("request", f"{r.topic}/{r.id}")
        self._db.execute(
            """INSERT OR IGNORE INTO requests (topic, id, wire_method, direction, method, params, chain_id, expiry, status, created_at)
               VALUES (?,?,?,?,?,?,?,?, 'pending', ?)""",
            (r.topic, r.id, r.wire_method, r.direction, r.method, as_json(r.params), r.chain_id, r.expiry, now),
        )

    def finish_request(
        self,
        topic: str,
        request_id: int,
        *,
        status: str,
        now: int,
        result: Any = None,
        error: dict[str, Any] | None = None,
        verdict: dict[str, Any] | None = None,
    ) -> None:
        self.touch("request", f"{topic}/{request_id}")
        self._db.execute(
            "UPDATE requests SET status = ?, result = ?, error = ?, verdict = COALESCE(?, verdict), answered_at = ? WHERE topic = ? AND id = ?",
            (status, as_json(result), as_json(error), as_json(verdict), now, topic, request_id),
        )

    def expire_request(self, topic: str, request_id: int) -> None:
        self.touch("request", f"{topic}/{request_id}")
        self._db.execute(
            "UPDATE requests SET status = 'expired' WHERE topic = ? AND id = ? AND status = 'pending'",
            (topic, request_id),
        )

    def pending_requests(self) -> list[PendingRequest]:
        """Outgoing requests still waiting (or expired but unanswered: a late answer is still recorded)."""
        rows = self._db.execute(
            """SELECT r.topic, r.id, r.wire_method, r.direction, r.expiry, r.method, r.params, r.chain_id, r.status FROM requests r
               JOIN sessions s ON s.topic = r.topic AND s.status = 'active'
               WHERE r.status IN ('pending', 'expired') AND r.direction = 'outgoing'"""
        ).fetchall()
        return [
            PendingRequest(t, i, w, d, e, m, from_json(p), c, expired=(st == "expired"))
            for t, i, w, d, e, m, p, c, st in rows
        ]

    def has_request(self, topic: str, request_id: int) -> bool:
        row = self._db.execute("SELECT 1 FROM requests WHERE topic = ? AND id = ?", (topic, request_id)).fetchone()
        return row is not None

    def requests(self, topic: str | None = None) -> list[RequestRecord]:
        query = _SELECT_REQUESTS
        args: tuple[str, ...] = ()
        if topic:
            query += " AND topic = ?"
            args = (topic,)
        return [_record(row) for row in self._db.execute(query + " ORDER BY created_at, id", args).fetchall()]

    def request(self, topic: str, request_id: int) -> RequestRecord | None:
        """One signing request by its key: handling an answer must not read the session's whole history."""
        row = self._db.execute(_SELECT_REQUESTS + " AND topic = ? AND id = ?", (topic, request_id)).fetchone()
        return None if row is None else _record(row)


_SELECT_REQUESTS = (
    "SELECT topic, id, method, params, chain_id, expiry, status, result, error, verdict, created_at, answered_at"
    " FROM requests WHERE wire_method = 'wc_sessionRequest'"
)


def _record(row: Any) -> RequestRecord:
    t, i, m, p, c, e, st, res, err, v, ca, aa = row
    return RequestRecord(t, i, m, from_json(p), c, e, st, from_json(res), from_json(err), from_json(v), ca, aa)
