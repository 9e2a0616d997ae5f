"""walletsync's state in one SQLite file: sessions, pairings, proposals, requests and the audit chain.

WAL mode, so the app and CLI commands can have it open at once; every state
change is one transaction (``with db.transaction():``). Pairing and session keys
and X25519 private keys are stored only sealed with the device storage key
(:mod:`walletsync.store.sealing`); when a session ends its key is erased.
The schema is versioned with ``PRAGMA user_version`` and migrated on open.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from walletsync.audit import AuditEntry
from walletsync.errors import WalletsyncError
from walletsync.paths import open_private
from walletsync.protocol.state import Pairing, PendingRequest, Proposal, ReplayMemory, SentProposal, Session
from walletsync.store.records import ENDED as ENDED
from walletsync.store.records import RequestRecord as RequestRecord
from walletsync.store.records import SessionRecord as SessionRecord
from walletsync.store.schema import MIGRATIONS as MIGRATIONS
from walletsync.store.sealing import seal, unseal

REPLAY_PER_TOPIC = 500
"""Envelopes (and request ids) remembered per topic, as many as the engine keeps (``SEEN_PER_TOPIC``)."""
REPLAY_KEEP_ENDED = 7 * 24 * 3600
"""How long the memory of a topic nothing uses any more is kept: the longest a relay holds a message."""
UPDATE_CLOCK = "wc_sessionUpdate"


class DatabaseError(WalletsyncError):
    code = "database"


def _j(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _unj(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class _Rows:
    """A statement's whole result, read while the connection was ours."""

    __slots__ = ("rows", "rowcount", "lastrowid")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.rows, self.rowcount, self.lastrowid = cursor.fetchall(), cursor.rowcount, cursor.lastrowid

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Any]:
        return self.rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


class _Serialized:
    """One SQLite connection shared by the event loop and the app's thread workers, used by one thread at a time.

    Python's sqlite3 objects are not safe to use from two threads at once (interleaved statements
    on one connection can crash the process), so every statement runs, and is read to the end,
    under the database's re-entrant lock; a transaction holds that lock from BEGIN to COMMIT.
    """

    def __init__(self, connection: sqlite3.Connection, lock: threading.RLock) -> None:
        self._connection, self._lock = connection, lock

    def execute(self, sql: str, parameters: Any = ()) -> _Rows:
        with self._lock:
            return _Rows(self._connection.execute(sql, parameters))

    def executescript(self, script: str) -> None:
        with self._lock:
            self._connection.executescript(script)

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class Database:
    """The state file. Needs the storage key to read or write any key material."""

    def __init__(self, path: Path, storage_key: bytes) -> None:
        self.path = path
        self._key = storage_key
        self._lock = threading.RLock()
        try:
            os.close(
                open_private(path, os.O_RDONLY)
            )  # 0600 before SQLite makes its -wal/-shm files, which copy its mode
            self._db = _Serialized(
                sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10), self._lock
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise DatabaseError(f"cannot open {path}: {getattr(exc, 'strerror', None) or exc}") from None

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise DatabaseError(f"{self.path} was written by a newer walletsync (schema {version}); upgrade walletsync")
        for number in range(version, len(MIGRATIONS)):
            try:  # executescript runs its own statements: the whole step is one script, one transaction
                self._db.executescript(
                    f"BEGIN IMMEDIATE;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;"
                )
            except sqlite3.DatabaseError:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[_Serialized]:
        """One atomic state change; BEGIN IMMEDIATE so concurrent writers queue instead of failing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[_Serialized]:
        """Reads that must agree with each other (one WAL snapshot), without taking the write lock."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    # --- sessions ------------------------------------------------------------------------

    def save_session(self, s: Session, *, name: str, now: int) -> None:
        self._db.execute(
            """INSERT INTO sessions (topic, name, sealed_key, pairing_topic, self_public_key, peer_public_key,
                   controller_public_key, peer_metadata, namespaces, required_namespaces, optional_namespaces,
                   session_properties, expiry, is_controller, acknowledged, status, created_at, last_seen)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, 'active', ?, ?)
               ON CONFLICT (topic) DO UPDATE SET namespaces = excluded.namespaces, expiry = excluded.expiry,
                   acknowledged = excluded.acknowledged, last_seen = excluded.last_seen""",
            (
                s.topic,
                name,
                seal(self._key, s.sym_key),
                s.pairing_topic,
                s.self_public_key,
                s.peer_public_key,
                s.controller_public_key,
                _j(s.peer_metadata),
                _j(s.namespaces),
                _j(s.required_namespaces),
                _j(s.optional_namespaces),
                _j(s.session_properties),
                s.expiry,
                int(s.is_controller),
                int(s.acknowledged),
                now,
                now,
            ),
        )

    def update_session(self, topic: str, **fields: Any) -> None:
        allowed = {"name", "namespaces", "expiry", "status", "last_seen", "last_ping", "acknowledged"}
        if not fields.keys() <= allowed:
            raise ValueError(f"cannot update {sorted(fields.keys() - allowed)}")
        values = [_j(v) if k == "namespaces" else v for k, v in fields.items()]
        assignments = ", ".join(f"{k} = ?" for k in fields)
        self._db.execute(f"UPDATE sessions SET {assignments} WHERE topic = ?", (*values, topic))

    def end_session(self, topic: str, status: str) -> bool:
        """Mark a session over and erase its key: nothing can decrypt its topic any more.

        False when it was not active (already ended, maybe by another process): then there is nothing to journal.
        """
        assert status in ENDED
        ended = self._db.execute(
            "UPDATE sessions SET status = ?, sealed_key = NULL WHERE topic = ? AND status = 'active'", (status, topic)
        ).rowcount
        self._db.execute("UPDATE requests SET status = 'cancelled' WHERE topic = ? AND status = 'pending'", (topic,))
        return ended > 0

    def sessions(self, *, include_ended: bool = True) -> list[SessionRecord]:
        query = (
            "SELECT topic, name, peer_metadata, namespaces, expiry, status, created_at, last_seen, last_ping, pairing_topic, is_controller,"
            " required_namespaces, optional_namespaces FROM sessions"
        )
        if not include_ended:
            query += " WHERE status = 'active'"
        rows = self._db.execute(query + " ORDER BY created_at, topic").fetchall()
        return [
            SessionRecord(t, n, _unj(p), _unj(ns), e, st, c, ls, lp, pt, bool(ic), _unj(rn), _unj(on))
            for t, n, p, ns, e, st, c, ls, lp, pt, ic, rn, on in rows
        ]

    def name_taken(self, name: str, *, except_topic: str | None = None) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sessions WHERE name = ? AND status = 'active' AND topic != ?", (name, except_topic or "")
        ).fetchone()
        return row is not None

    def active_sessions(self) -> list[Session]:
        """Sessions with their keys, for the engine."""
        rows = self._db.execute(
            """SELECT topic, sealed_key, pairing_topic, self_public_key, peer_public_key, peer_metadata, controller_public_key,
                      namespaces, expiry, is_controller, acknowledged, required_namespaces, optional_namespaces, session_properties
               FROM sessions WHERE status = 'active' AND sealed_key IS NOT NULL"""
        ).fetchall()
        return [
            Session(
                t,
                unseal(self._key, k),
                pt,
                sp,
                pp,
                _unj(pm),
                cp,
                _unj(ns),
                e,
                bool(ic),
                bool(ack),
                _unj(rn),
                _unj(on),
                _unj(props),
            )
            for t, k, pt, sp, pp, pm, cp, ns, e, ic, ack, rn, on, props in rows
        ]

    # --- pairings and proposals ----------------------------------------------------------

    def save_pairing(self, p: Pairing) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO pairings VALUES (?,?,?,?,?,?)",
            (p.topic, seal(self._key, p.sym_key), p.expiry, int(p.proposer), int(p.active), _j(list(p.methods))),
        )

    def delete_pairing(self, topic: str) -> None:
        self._db.execute("DELETE FROM pairings WHERE topic = ?", (topic,))

    def pairings(self) -> list[Pairing]:
        rows = self._db.execute("SELECT topic, sealed_key, expiry, proposer, active, methods FROM pairings").fetchall()
        return [Pairing(t, unseal(self._key, k), e, bool(pr), bool(a), tuple(_unj(m))) for t, k, e, pr, a, m in rows]

    def save_proposal(self, sent: SentProposal, *, name: str | None) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO proposals VALUES (?,?,?,?,?,?,?)",
            (
                sent.proposal.id,
                _j(sent.proposal.to_params()),
                seal(self._key, sent.private_key),
                sent.session_topic,
                seal(self._key, sent.sym_key) if sent.sym_key else None,
                sent.responder_public_key,
                name,
            ),
        )

    def delete_proposal(self, proposal_id: int) -> bool:
        """False when it was already gone (another process settled, refused or expired it)."""
        return self._db.execute("DELETE FROM proposals WHERE id = ?", (proposal_id,)).rowcount > 0

    def take_proposal_for_session(self, session_topic: str) -> str | None:
        """The settled proposal's wanted name (``pair --name``), removing the proposal."""
        row = self._db.execute("SELECT id, name FROM proposals WHERE session_topic = ?", (session_topic,)).fetchone()
        if row is None:
            return None
        self.delete_proposal(row[0])
        return cast("str | None", row[1])

    def proposal_name(self, proposal_id: int) -> str | None:
        row = self._db.execute("SELECT name FROM proposals WHERE id = ?", (proposal_id,)).fetchone()
        return row[0] if row else None

    def sent_proposals(self) -> list[SentProposal]:
        out = []
        for params, key, session_topic, sym, responder in self._db.execute(
            "SELECT proposal, sealed_private_key, session_topic, sealed_sym_key, responder_public_key FROM proposals"
        ).fetchall():
            p = _unj(params)
            proposal = Proposal(
                id=p["id"],
                pairing_topic=p["pairingTopic"],
                proposer_public_key=p["proposer"]["publicKey"],
                proposer_metadata=p["proposer"]["metadata"],
                required_namespaces=p["requiredNamespaces"],
                optional_namespaces=p["optionalNamespaces"],
                expiry_timestamp=p["expiryTimestamp"],
                relays=tuple(p["relays"]),
                session_properties=p.get("sessionProperties"),
                scoped_properties=p.get("scopedProperties"),
            )
            out.append(
                SentProposal(
                    proposal, unseal(self._key, key), session_topic, unseal(self._key, sym) if sym else None, responder
                )
            )
        return out

    # --- requests --------------------------------------------------------------------------

    def save_request(self, r: PendingRequest, *, now: int) -> None:
        self._db.execute(
            """INSERT OR IGNORE INTO requests (topic, id, wire_method, direction, method, params, chain_id, expiry, status, created_at)
               VALUES (?,?,?,?,?,?,?,?, 'pending', ?)""",
            (r.topic, r.id, r.wire_method, r.direction, r.method, _j(r.params), r.chain_id, r.expiry, now),
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
        self._db.execute(
            "UPDATE requests SET status = ?, result = ?, error = ?, verdict = COALESCE(?, verdict), answered_at = ? WHERE topic = ? AND id = ?",
            (status, _j(result), _j(error), _j(verdict), now, topic, request_id),
        )

    def expire_request(self, topic: str, request_id: int) -> None:
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
            PendingRequest(t, i, w, d, e, m, _unj(p), c, expired=(st == "expired"))
            for t, i, w, d, e, m, p, c, st in rows
        ]

    def has_request(self, topic: str, request_id: int) -> bool:
        row = self._db.execute("SELECT 1 FROM requests WHERE topic = ? AND id = ?", (topic, request_id)).fetchone()
        return row is not None

    def requests(self, topic: str | None = None) -> list[RequestRecord]:
        query = "SELECT topic, id, method, params, chain_id, expiry, status, result, error, verdict, created_at, answered_at FROM requests WHERE wire_method = 'wc_sessionRequest'"
        args: tuple[str, ...] = ()
        if topic:
            query += " AND topic = ?"
            args = (topic,)
        rows = self._db.execute(query + " ORDER BY created_at, id", args).fetchall()
        return [
            RequestRecord(t, i, m, _unj(p), c, e, st, _unj(res), _unj(err), _unj(v), ca, aa)
            for t, i, m, p, c, e, st, res, err, v, ca, aa in rows
        ]

    # --- replay memory and other processes -----------------------------------------------------

    def data_version(self) -> int:
        """Changes when another connection (another process) commits; this connection's own commits leave it."""
        return cast(int, self._db.execute("PRAGMA data_version").fetchone()[0])

    def remember(self, changes: ReplayMemory, *, now: int) -> bool:
        """Record what an engine step added to its replay memory; call it inside that step's transaction.

        Returns False when any envelope or request id was already recorded: the message was
        handled before, by this process before a restart or by another one, and the step must
        not be journaled (nor answered) again. Inside ``BEGIN IMMEDIATE`` the insert is the
        atomic decider between processes.
        """
        fresh = True
        rows = [(t, "envelope", d) for t, ds in changes.seen.items() for d in ds]
        rows += [(t, "request", str(i)) for t, ids in changes.handled_ids.items() for i in ids]
        for topic, kind, key in rows:
            inserted = self._db.execute("INSERT OR IGNORE INTO replay_seen VALUES (?,?,?,?)", (topic, kind, key, now))
            fresh = fresh and inserted.rowcount > 0
        for topic, kind in {(t, k) for t, k, _ in rows}:
            self._db.execute(
                """DELETE FROM replay_seen WHERE topic = ? AND kind = ? AND rowid NOT IN
                   (SELECT rowid FROM replay_seen WHERE topic = ? AND kind = ? ORDER BY rowid DESC LIMIT ?)""",
                (topic, kind, topic, kind, REPLAY_PER_TOPIC),
            )
        clocks = [(t, UPDATE_CLOCK, ms) for t, ms in changes.last_update_ms.items()]
        clocks += [(t, f"event:{name}", ms) for (t, name), ms in changes.last_event_ms.items()]
        for topic, name, ms in clocks:
            self._db.execute(
                """INSERT INTO replay_clock VALUES (?,?,?,?)
                   ON CONFLICT (topic, name) DO UPDATE SET ms = MAX(ms, excluded.ms), at = excluded.at""",
                (topic, name, ms, now),
            )
        return fresh

    def replay_memory(self, topics: set[str]) -> ReplayMemory:
        """The replay memory of ``topics``, oldest first, for :meth:`SignEngine.restore`."""
        seen: dict[str, list[str]] = {}
        ids: dict[str, list[int]] = {}
        for topic, kind, key in self._db.execute("SELECT topic, kind, key FROM replay_seen ORDER BY rowid"):
            if topic in topics:
                if kind == "envelope":
                    seen.setdefault(topic, []).append(key)
                else:
                    ids.setdefault(topic, []).append(int(key))
        updates: dict[str, int] = {}
        events: dict[tuple[str, str], int] = {}
        for topic, name, ms in self._db.execute("SELECT topic, name, ms FROM replay_clock"):
            if topic in topics:
                if name == UPDATE_CLOCK:
                    updates[topic] = ms
                elif name.startswith("event:"):
                    events[(topic, name[6:])] = ms
        return ReplayMemory(
            {t: tuple(d) for t, d in seen.items()}, {t: tuple(i) for t, i in ids.items()}, updates, events
        )

    def purge_replay(self, *, now: int) -> None:
        """Forget the replay memory of topics nothing uses any more, once a relay can no longer hold their messages."""
        for table in ("replay_seen", "replay_clock"):
            self._db.execute(
                f"""DELETE FROM {table} WHERE at < ?
                    AND topic NOT IN (SELECT topic FROM sessions WHERE status = 'active')
                    AND topic NOT IN (SELECT topic FROM pairings)
                    AND topic NOT IN (SELECT session_topic FROM proposals WHERE session_topic IS NOT NULL)""",
                (now - REPLAY_KEEP_ENDED,),
            )

    # --- audit ------------------------------------------------------------------------------

    def last_audit(self) -> AuditEntry | None:
        row = self._db.execute(
            "SELECT seq, ts, kind, session, data, prev_hash, signature FROM audit ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return None if row is None else AuditEntry(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])

    def add_audit(self, entry: AuditEntry, head_signature: str) -> None:
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
        self._db.execute(
            "INSERT OR REPLACE INTO audit_head VALUES (1, ?, ?, ?)", (entry.seq, entry.hash(), head_signature)
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
