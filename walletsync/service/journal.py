"""The journal: each engine event becomes its database change and its audit row.

:data:`HANDLERS` is the table from an event's type to what it writes; an event
with no entry writes nothing. The companion calls :meth:`Journal.record` inside
the step's transaction, so a change and its audit row land together or not at all.
Handlers return the service events the change gives rise to (a verdict, a widened
scope) for the companion to stream.

The two ``*_elsewhere`` functions read the journal back: what another process
sharing the data dir recorded, turned into the events a local waiter needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from walletsync import audit
from walletsync.names import derived_name
from walletsync.protocol import events as ev
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.jsonrpc import RpcError, sdk_error
from walletsync.protocol.namespaces import beyond_request, request_beyond
from walletsync.protocol.state import PendingRequest
from walletsync.service.accounts import account_for
from walletsync.service.clients import client_fields
from walletsync.service.events import RequestVerified, ScopeWidened
from walletsync.service.naming import unique_name
from walletsync.store.db import Database
from walletsync.store.keys import DeviceSecrets


class Journal:
    """Writes what the engine reports to ``db``, each change with its signed audit row.

    ``proposal_names`` holds the names the user gave pairings still waiting for a phone.
    """

    def __init__(self, db: Database, engine: SignEngine, secrets: DeviceSecrets, clock: Callable[[], float]) -> None:
        self.db, self.engine, self.secrets, self.clock = db, engine, secrets, clock
        self.proposal_names: dict[int, str] = {}
        self.request_via: dict[tuple[str, int], dict[str, Any]] = {}
        """Who asked for each request about to be pushed (the signer bridge's client), by ``(topic, id)``: its
        audit row carries it."""
        self._appended: tuple[int, str, str] | None = None
        """The ``(seq, signature, hash)`` of the row this journal appended last (it may since have been rolled back,
        or followed by another process's rows: :meth:`_newest` checks)."""

    def record(self, event: ev.Event, now: int) -> list[ev.Event]:
        """Journal one event (the caller holds the transaction); returns the service events it gave rise to."""
        handler = HANDLERS.get(type(event))
        return handler(self, event, now) if handler is not None else []

    def audit(self, kind: str, session: str | None, **data: Any) -> None:
        """Append one signed row to the audit log (the caller holds the transaction)."""
        self.audit_rows([(kind, session, data)])

    def audit_rows(self, rows: list[tuple[str, str | None, dict[str, Any]]]) -> None:
        """Append ``(kind, session, data)`` rows in order, each signed, and sign the head once for the last of them
        (the caller holds the transaction)."""
        key, ts = self.secrets.identity, int(self.clock() * 1000)
        previous: audit.AuditEntry | tuple[int, str] | None = self._newest()
        entries = []
        for kind, session, data in rows:
            previous = audit.append(previous, kind=kind, session=session, data=data, ts=ts, key=key)
            entries.append(previous)
        last = entries[-1]
        self.db.add_audit(entries, audit.sign_head(last, key))
        self._appended = (last.seq, last.signature, last.hash())

    def _newest(self) -> tuple[int, str] | None:
        """The newest row's ``(seq, hash)``: remembered when it is the row this journal appended last (same seq and
        signature), else read back and hashed."""
        seal = self.db.newest_audit_seal()
        if seal is None:
            return None
        if self._appended is not None and self._appended[:2] == seal:
            return self._appended[0], self._appended[2]
        newest = self.db.last_audit()
        return newest.tip() if newest is not None else None

    # --- pairings and proposals ------------------------------------------------------------

    def _pairing_created(self, event: ev.PairingCreated, now: int) -> list[ev.Event]:
        self.db.save_pairing(self.engine.pairings[event.uri.topic])
        self.audit("pairing_offered", None, pairing_topic=event.uri.topic, expires_at=event.uri.expiry_timestamp)
        return []

    def _proposal_sent(self, event: ev.ProposalSent, now: int) -> list[ev.Event]:
        self.db.save_proposal(
            self.engine.sent_proposals[event.proposal.id], name=self.proposal_names.get(event.proposal.id)
        )
        self.audit(
            "proposal_sent", None, proposal_id=event.proposal.id, optional_namespaces=event.proposal.optional_namespaces
        )
        return []

    def _proposal_approved(self, event: ev.ProposalApproved, now: int) -> list[ev.Event]:
        db, engine = self.db, self.engine
        db.save_proposal(engine.sent_proposals[event.proposal_id], name=db.proposal_name(event.proposal_id))
        pairing = engine.pairings.get(engine.sent_proposals[event.proposal_id].proposal.pairing_topic)
        if pairing:
            db.save_pairing(pairing)
        self.audit("proposal_approved", event.session_topic, proposal_id=event.proposal_id)
        return []

    def _proposal_rejected(self, event: ev.ProposalRejected, now: int) -> list[ev.Event]:
        if self.db.delete_proposal(event.proposal_id):
            code, message = event.error.code, event.error.message
            self.audit("proposal_rejected", None, proposal_id=event.proposal_id, code=code, message=message)
        return []

    def _proposal_expired(self, event: ev.ProposalExpired, now: int) -> list[ev.Event]:
        if self.db.delete_proposal(event.proposal_id):  # else another process saw it end first (and journaled it)
            self.audit("proposal_expired", None, proposal_id=event.proposal_id)
        return []

    def _pairing_ended(self, event: ev.PairingExpired | ev.PairingDeleted, now: int) -> list[ev.Event]:
        self.db.delete_pairing(event.topic)
        return []

    # --- sessions ------------------------------------------------------------------------------

    def _session_settled(self, event: ev.SessionSettled, now: int) -> list[ev.Event]:
        db, session = self.db, event.session
        wanted = db.take_proposal_for_session(session.topic)
        name = unique_name(db, wanted or derived_name(session.peer_metadata.get("name")), session.topic)
        db.save_session(session, name=name, now=now)
        beyond = beyond_request(session.required_namespaces, session.optional_namespaces, session.namespaces)
        extra = {"beyond_request": beyond.to_json()} if beyond else {}
        self.audit(
            "session_settled",
            session.topic,
            name=name,
            peer={k: session.peer_metadata.get(k) for k in ("name", "url")},
            accounts=session.accounts,
            namespaces=session.namespaces,
            **extra,
        )
        return [ScopeWidened(session.topic, name, beyond, update=False)] if beyond else []

    def _session_updated(self, event: ev.SessionUpdated, now: int) -> list[ev.Event]:
        """Apply the phone's update (the SDK already checked it); audit and announce what it added beyond the request."""
        before = self.db.session(event.topic)
        self.db.update_session(event.topic, namespaces=event.namespaces, last_seen=now)
        self.audit("session_updated", event.topic, namespaces=event.namespaces)
        after = self.db.session(event.topic)
        if before is None or after is None:
            return []
        added = after.beyond_request.minus(before.beyond_request)
        if not added:
            return []
        beyond = after.beyond_request.to_json()
        self.audit("session_scope_widened", event.topic, added=added.to_json(), beyond_request=beyond)
        return [ScopeWidened(event.topic, after.name, added, update=True)]

    def _session_extended(self, event: ev.SessionExtended, now: int) -> list[ev.Event]:
        self.db.update_session(event.topic, expiry=event.expiry)
        self.audit("session_extended", event.topic, expiry=event.expiry)
        return []

    def _session_deleted(self, event: ev.SessionDeleted, now: int) -> list[ev.Event]:
        by_us = event.by == "self"
        if self.db.end_session(event.topic, "revoked" if by_us else "deleted"):  # else ended (and journaled) elsewhere
            kind = "session_revoked" if by_us else "session_deleted_by_peer"
            self.audit(kind, event.topic, code=event.code, message=event.message)
        return []

    def _session_expired(self, event: ev.SessionExpired, now: int) -> list[ev.Event]:
        if self.db.end_session(event.topic, "expired"):  # else another process ended it first (and journaled it)
            self.audit("session_expired", event.topic)
        return []

    def _acknowledged(self, event: ev.Acknowledged, now: int) -> list[ev.Event]:
        if event.topic in self.engine.sessions:
            self.db.update_session(
                event.topic, last_seen=now, **({"last_ping": now} if event.method == "wc_sessionPing" else {})
            )
        if event.method == "wc_sessionPing":
            self.audit("ping_answered", event.topic)
        return []

    def _session_pinged(self, event: ev.SessionPinged, now: int) -> list[ev.Event]:
        self.db.update_session(event.topic, last_seen=now)
        return []

    def _session_event_received(self, event: ev.SessionEventReceived, now: int) -> list[ev.Event]:
        self.db.update_session(event.topic, last_seen=now)
        self.audit("event_received", event.topic, name=event.name, data=event.data, chain_id=event.chain_id)
        return []

    # --- requests ------------------------------------------------------------------------------

    def _request_sent(self, event: ev.RequestSent, now: int) -> list[ev.Event]:
        self.db.save_request(self.engine.requests[(event.topic, event.id)], now=now)
        self.audit(
            "request_pushed",
            event.topic,
            id=event.id,
            method=event.method,
            chain_id=event.chain_id,
            params=event.params,
            expiry=event.expiry,
            **self._request_beyond(event),
            **self._request_via(event),
        )
        return []

    def _request_via(self, event: ev.RequestSent) -> dict[str, Any]:
        via = self.request_via.pop((event.topic, event.id), None)
        return {"via": client_fields(via)} if via else {}

    def _request_beyond(self, event: ev.RequestSent) -> dict[str, Any]:
        """For the request's audit row: ``beyond_request`` when the user named a chain or method nobody asked for."""
        session = self.engine.sessions.get(event.topic)
        if session is None:
            return {}
        beyond = request_beyond(session.required_namespaces, session.optional_namespaces, event.chain_id, event.method)
        return {"beyond_request": beyond} if beyond else {}

    def _request_answered(self, event: ev.RequestAnswered, now: int) -> list[ev.Event]:
        from walletsync.signatures import verify_response

        record = self.db.request(event.topic, event.id)
        session = self.db.session(event.topic)
        account = account_for(session, record.chain_id if record else None)
        verdict = verify_response(
            record.method if record else event.method, record.params if record else [], event.result, account
        ).to_json()
        self.db.finish_request(
            event.topic,
            event.id,
            status="late" if event.late else "answered",
            now=now,
            result=event.result,
            verdict=verdict,
        )
        self.db.update_session(event.topic, last_seen=now)
        answered = {"id": event.id, "method": event.method, "result": event.result}
        self.audit_rows(
            [
                ("response_late" if event.late else "request_answered", event.topic, answered),
                (
                    "signature_verified" if verdict["verified"] else "signature_mismatch",
                    event.topic,
                    {"id": event.id, **verdict},
                ),
            ]
        )
        return [RequestVerified(event.topic, event.id, verdict)]

    def _request_failed(self, event: ev.RequestFailed, now: int) -> list[ev.Event]:
        error = {"code": event.error.code, "message": event.error.message}
        self.db.finish_request(event.topic, event.id, status="rejected", now=now, error=error)
        self.db.update_session(event.topic, last_seen=now)
        self.audit(
            "request_rejected",
            event.topic,
            id=event.id,
            code=event.error.code,
            message=event.error.message,
            late=event.late,
        )
        return []

    def _request_expired(self, event: ev.RequestExpired, now: int) -> list[ev.Event]:
        if event.direction == "outgoing":
            self.db.expire_request(event.topic, event.id)
            self.audit("request_expired", event.topic, id=event.id, method=event.method)
        return []

    def lookup_checked(self, topic: str, request_id: int, result: Any, rpc_url: str, verdict: dict[str, Any]) -> None:
        """Journal a chain node's verdict on a transaction the phone says it sent (the caller holds the transaction)."""
        self.db.finish_request(
            topic, request_id, status="answered", now=int(self.clock()), result=result, verdict=verdict
        )
        self.audit(
            "signature_verified" if verdict["verified"] else "signature_mismatch",
            topic,
            id=request_id,
            lookup=rpc_url,
            **verdict,
        )


Handler = Callable[[Journal, Any, int], list[ev.Event]]

HANDLERS: dict[type[ev.Event], Handler] = {
    ev.PairingCreated: Journal._pairing_created,
    ev.ProposalSent: Journal._proposal_sent,
    ev.ProposalApproved: Journal._proposal_approved,
    ev.ProposalRejected: Journal._proposal_rejected,
    ev.ProposalExpired: Journal._proposal_expired,
    ev.SessionSettled: Journal._session_settled,
    ev.SessionUpdated: Journal._session_updated,
    ev.SessionExtended: Journal._session_extended,
    ev.SessionDeleted: Journal._session_deleted,
    ev.SessionExpired: Journal._session_expired,
    ev.PairingExpired: Journal._pairing_ended,
    ev.PairingDeleted: Journal._pairing_ended,
    ev.RequestSent: Journal._request_sent,
    ev.RequestAnswered: Journal._request_answered,
    ev.RequestFailed: Journal._request_failed,
    ev.RequestExpired: Journal._request_expired,
    ev.Acknowledged: Journal._acknowledged,
    ev.SessionPinged: Journal._session_pinged,
    ev.SessionEventReceived: Journal._session_event_received,
}
"""What each engine event writes; an event type missing here writes nothing."""


def answered_elsewhere(db: Database, finished: list[PendingRequest]) -> list[ev.Event]:
    """Requests of ours another process saw end (an answer the relay gave it alone, a session it ended):
    the events a local waiter (:meth:`Companion.request`) needs, from what that process stored."""
    events: list[ev.Event] = []
    records = {(r.topic, r.id): r for r in db.requests()} if finished else {}
    for pending in finished:
        record = records.get((pending.topic, pending.id))
        topic, request_id, method = pending.topic, pending.id, pending.method or ""
        if record is None:
            continue
        if record.status in ("answered", "late"):
            events.append(ev.RequestAnswered(topic, request_id, method, record.result, late=record.status == "late"))
            if record.verdict is not None:
                events.append(RequestVerified(topic, request_id, record.verdict))
        elif record.status == "rejected" and record.error:
            error = RpcError(record.error["code"], record.error["message"])
            events.append(ev.RequestFailed(topic, request_id, method, error))
        elif record.status == "cancelled":
            events.append(ev.RequestFailed(topic, request_id, method, sdk_error("USER_DISCONNECTED")))
    return events


def handled_elsewhere(db: Database, events: list[ev.Event]) -> list[ev.Event]:
    """Another process journaled this step: hand local waiters what it recorded (an answer's verdict)."""
    extra: list[ev.Event] = []
    for event in events:
        if isinstance(event, ev.RequestAnswered):
            record = db.request(event.topic, event.id)
            if record is not None and record.verdict is not None:
                extra.append(RequestVerified(event.topic, event.id, record.verdict))
    return extra
