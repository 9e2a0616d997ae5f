"""The rows the engine's keys live in: sessions, pairings and the proposals sent over them.

Every key is stored sealed with the device storage key (:mod:`walletsync.store.sealing`);
when a session ends its key is erased.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from walletsync.protocol.namespaces import Beyond, beyond_request
from walletsync.protocol.state import Pairing, Proposal, SentProposal, Session
from walletsync.store.columns import as_json, from_json
from walletsync.store.records import ENDED, SessionRecord, SessionSummary, accounts_of
from walletsync.store.sealing import seal, unseal
from walletsync.store.touches import Touches

if TYPE_CHECKING:
    from walletsync.store.db import _Serialized


def _decoder() -> Callable[[str | None], Any]:
    """:func:`from_json` decoding each distinct text once: sessions with one phone, from one proposal, share most of
    their JSON (the namespaces asked for and granted), and decoding is most of reading thousands of sessions.
    Equal texts give the same object: what the store hands out is read, never changed in place."""
    seen: dict[str, Any] = {}

    def decode(text: str | None) -> Any:
        if text is None:
            return None
        if text not in seen:
            seen[text] = from_json(text)
        return seen[text]

    return decode


def _peer_names() -> Callable[[str], Any]:
    """The ``name`` in a phone's metadata (its stored JSON text), decoding each distinct text once."""
    seen: dict[str, Any] = {}

    def peer_name(text: str) -> Any:
        if text not in seen:
            seen[text] = from_json(text).get("name")
        return seen[text]

    return peer_name


Grant = tuple[tuple[str, ...], tuple[str, ...], Beyond]


def _grants() -> Callable[[str, str | None, str | None], Grant]:
    """A session's accounts, chains and what was granted beyond the request, from the JSON texts of what was
    granted, required and optional; worked out once per distinct three (sessions with one phone share them)."""
    seen: dict[tuple[str, str | None, str | None], Grant] = {}

    def grant(namespaces: str, required: str | None, optional: str | None) -> Grant:
        key = (namespaces, required, optional)
        if key not in seen:
            granted, asked, offered = from_json(namespaces), from_json(required), from_json(optional)
            beyond = Beyond() if asked is None and offered is None else beyond_request(asked, offered, granted)
            accounts = tuple(accounts_of(granted))
            seen[key] = (accounts, _chains_of(accounts, granted), beyond)
        return seen[key]

    return grant


def _chains_of(accounts: tuple[str, ...], granted: Any) -> tuple[str, ...]:
    """The chains of the accounts and those the grant lists, sorted (ids the phone chose: shown escaped)."""
    chains = {":".join(a.split(":")[:2]) for a in accounts}
    for namespace in granted.values() if isinstance(granted, dict) else ():
        listed = namespace.get("chains") if isinstance(namespace, dict) else None
        chains.update(c for c in listed or () if isinstance(c, str))
    return tuple(sorted(chains))


def _prefix_range(prefix: str) -> tuple[str, str]:
    """The bounds of the topics starting with ``prefix`` (topics are ASCII; U+10FFFF sorts after every character)."""
    return prefix, prefix + "\U0010ffff"


class SessionQueries(Touches):
    """The :class:`~walletsync.store.db.Database` methods on the ``sessions``, ``pairings`` and ``proposals`` tables."""

    _db: _Serialized
    _key: bytes

    # --- sessions ------------------------------------------------------------------------

    def save_session(self, s: Session, *, name: str, now: int) -> None:
        self.touch("session", s.topic)
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
                as_json(s.peer_metadata),
                as_json(s.namespaces),
                as_json(s.required_namespaces),
                as_json(s.optional_namespaces),
                as_json(s.session_properties),
                s.expiry,
                int(s.is_controller),
                int(s.acknowledged),
                now,
                now,
            ),
        )

    def update_session(self, topic: str, **fields: Any) -> None:
        self.touch("session", topic)
        allowed = {"name", "namespaces", "expiry", "status", "last_seen", "last_ping", "acknowledged"}
        if not fields.keys() <= allowed:
            raise ValueError(f"cannot update {sorted(fields.keys() - allowed)}")
        values = [as_json(v) if k == "namespaces" else v for k, v in fields.items()]
        assignments = ", ".join(f"{k} = ?" for k in fields)
        self._db.execute(f"UPDATE sessions SET {assignments} WHERE topic = ?", (*values, topic))

    def end_session(self, topic: str, status: str) -> bool:
        """Mark a session over and erase its key: nothing can decrypt its topic any more.

        False when it was not active (already ended, maybe by another process): then there is nothing to journal.
        """
        self.touch("session", topic)
        assert status in ENDED
        ended = self._db.execute(
            "UPDATE sessions SET status = ?, sealed_key = NULL WHERE topic = ? AND status = 'active'", (status, topic)
        ).rowcount
        self._db.execute("UPDATE requests SET status = 'cancelled' WHERE topic = ? AND status = 'pending'", (topic,))
        return ended > 0

    _RECORD = (
        "SELECT topic, name, peer_metadata, namespaces, expiry, status, created_at, last_seen, last_ping, pairing_topic,"
        " is_controller, required_namespaces, optional_namespaces FROM sessions"
    )

    def _records(
        self, where: str = "", parameters: tuple[Any, ...] = (), limit: int | None = None
    ) -> list[SessionRecord]:
        query = f"{self._RECORD} {where} ORDER BY created_at, topic" + ("" if limit is None else f" LIMIT {int(limit)}")
        rows = self._db.execute(query, parameters).fetchall()
        j = _decoder()
        return [
            SessionRecord(t, n, j(p), j(ns), e, st, c, ls, lp, pt, bool(ic), j(rn), j(on))
            for t, n, p, ns, e, st, c, ls, lp, pt, ic, rn, on in rows
        ]

    def sessions(self, *, include_ended: bool = True, limit: int | None = None) -> list[SessionRecord]:
        """Sessions oldest first (the first ``limit`` of them if given: a screenful, or whether there are any)."""
        return self._records("" if include_ended else "WHERE status = 'active'", limit=limit)

    def session_summaries(self) -> list[SessionSummary]:
        """Every session as the session list shows it, oldest first: :meth:`sessions` in brief, for thousands."""
        rows = self._db.execute(
            "SELECT created_at, topic, name, peer_metadata, expiry, status, namespaces, required_namespaces,"
            " optional_namespaces FROM sessions"
        ).fetchall()
        rows.sort()  # created_at, then topic (unique: no later column is compared); SQL's ORDER BY copies every
        # selected JSON text through its sorter, which costs more than reading them
        peer_name, grant = _peer_names(), _grants()
        return [SessionSummary(t, n, peer_name(p), e, st, *grant(ns, rn, on)) for _, t, n, p, e, st, ns, rn, on in rows]

    def session(self, topic: str) -> SessionRecord | None:
        """One session by its whole topic: one row read, not every session."""
        found = self._records("WHERE topic = ?", (topic,))
        return found[0] if found else None

    def sessions_named(self, name: str) -> list[SessionRecord]:
        """The sessions with this exact local name, oldest first (one active at most, any number ended)."""
        return self._records("WHERE name = ?", (name,))

    def topics_starting(self, prefix: str) -> list[str]:
        """The topics that start with ``prefix``: a search of the topic index, no row decoded."""
        rows = self._db.execute(
            "SELECT topic FROM sessions WHERE topic >= ? AND topic < ? ORDER BY topic", _prefix_range(prefix)
        ).fetchall()
        return [t for (t,) in rows]

    def sessions_starting(self, prefix: str) -> list[SessionRecord]:
        """The sessions whose topic starts with ``prefix``, oldest first."""
        return self._records("WHERE topic >= ? AND topic < ?", _prefix_range(prefix))

    def session_names(self) -> list[tuple[str, str, str]]:
        """Every session's ``(topic, name, status)``, oldest first: what comparing names needs, without decoding rows."""
        rows = self._db.execute("SELECT topic, name, status FROM sessions ORDER BY created_at, topic").fetchall()
        return [(t, n, st) for t, n, st in rows]

    def name_taken(self, name: str, *, except_topic: str | None = None) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sessions WHERE name = ? AND status = 'active' AND topic != ?", (name, except_topic or "")
        ).fetchone()
        return row is not None

    def active_sessions(self, *, due_by: int | None = None) -> list[Session]:
        """Sessions with their keys, for the engine (if ``due_by`` is given, only those with something to expire then:
        the session itself or a pending request)."""
        rows = self._db.execute(
            """SELECT topic, sealed_key, pairing_topic, self_public_key, peer_public_key, peer_metadata, controller_public_key,
                      namespaces, expiry, is_controller, acknowledged, required_namespaces, optional_namespaces, session_properties
               FROM sessions WHERE status = 'active' AND sealed_key IS NOT NULL"""
            + (
                ""
                if due_by is None
                else " AND (expiry <= ? OR topic IN (SELECT topic FROM requests WHERE status = 'pending' AND expiry <= ?))"
            ),
            () if due_by is None else (due_by, due_by),
        ).fetchall()
        j = _decoder()
        return [
            Session(
                t,
                unseal(self._key, k),
                pt,
                sp,
                pp,
                j(pm),
                cp,
                j(ns),
                e,
                bool(ic),
                bool(ack),
                j(rn),
                j(on),
                j(props),
            )
            for t, k, pt, sp, pp, pm, cp, ns, e, ic, ack, rn, on, props in rows
        ]

    # --- pairings and proposals ----------------------------------------------------------

    def save_pairing(self, p: Pairing) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO pairings VALUES (?,?,?,?,?,?)",
            (p.topic, seal(self._key, p.sym_key), p.expiry, int(p.proposer), int(p.active), as_json(list(p.methods))),
        )

    def delete_pairing(self, topic: str) -> None:
        self._db.execute("DELETE FROM pairings WHERE topic = ?", (topic,))

    def pairings(self) -> list[Pairing]:
        rows = self._db.execute("SELECT topic, sealed_key, expiry, proposer, active, methods FROM pairings").fetchall()
        return [
            Pairing(t, unseal(self._key, k), e, bool(pr), bool(a), tuple(from_json(m))) for t, k, e, pr, a, m in rows
        ]

    def save_proposal(self, sent: SentProposal, *, name: str | None) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO proposals VALUES (?,?,?,?,?,?,?)",
            (
                sent.proposal.id,
                as_json(sent.proposal.to_params()),
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
            p = from_json(params)
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
