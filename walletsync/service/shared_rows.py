"""The mapping between this device's rows and the device group's shared registers (docs/SYNC.md).

:func:`writes_for` turns what a transaction touched (a session, a request, an audit row) into the
register writes the shared state does not hold yet; :func:`project` writes what members shared into
this device's rows. Both run inside the caller's transaction.

What is shared: a session's keys and scopes (``once``), its local name and namespaces (``set``), its
expiry (``max``) and its end (``end``); a request's body (``once``) and its answer with the verdict
(``set``: a later on-chain check refines it); every audit row of every device (``once``); each watched
address: whether it is watched, its label and chains (``set``: watching again after a removal works, unlike a
tombstone) and when it was first added (``once``). What stays local: pairings still waiting for a phone, last
seen and last ping, the replay memory, the cached balances.
"""

from __future__ import annotations

import json
from typing import Any

from walletsync.audit import AuditEntry
from walletsync.chains.user import chain_id_of
from walletsync.errors import WalletsyncError
from walletsync.eth import ADDRESS, checksum_address
from walletsync.names import derived_name, local_name
from walletsync.protocol.state import PendingRequest, Session
from walletsync.service.naming import unique_name
from walletsync.store.db import Database, Watched
from walletsync.sync.changes import Write, audit_entity, device_entity, request_entity, session_entity, watch_entity
from walletsync.sync.state import GroupState

ANSWERED = ("answered", "late", "rejected", "expired")
SHARED_ANSWERS = ("answered", "late", "rejected")
"""An expiry is not shared: every device reaches it from the request's own expiry, and sharing it could
outlast (last writer wins) an answer another device got just before."""
MAX_WATCHED_CHAINS = 64
"""Chains a shared watched address may name (a member's bound, as ``watch add`` has none lower)."""
_ORDER = {"session": 0, "request": 1, "audit": 2, "watch": 3}
"""Sessions land before their requests (a request needs its session's row)."""


def _session_json(s: Session, created_at: int) -> dict[str, Any]:
    return {
        "sym_key": s.sym_key.hex(),
        "pairing_topic": s.pairing_topic,
        "self_public_key": s.self_public_key,
        "peer_public_key": s.peer_public_key,
        "controller_public_key": s.controller_public_key,
        "peer_metadata": s.peer_metadata,
        "required_namespaces": s.required_namespaces,
        "optional_namespaces": s.optional_namespaces,
        "session_properties": s.session_properties,
        "is_controller": s.is_controller,
        "created_at": created_at,
    }


def _session_of(topic: str, shared: dict[str, Any], namespaces: Any, expiry: int) -> Session:
    return Session(
        topic,
        bytes.fromhex(shared["sym_key"]),
        shared["pairing_topic"],
        shared["self_public_key"],
        shared["peer_public_key"],
        shared["peer_metadata"],
        shared["controller_public_key"],
        namespaces,
        expiry,
        bool(shared["is_controller"]),
        True,
        shared["required_namespaces"],
        shared["optional_namespaces"],
        shared["session_properties"],
    )


# --- rows → writes --------------------------------------------------------------------------------------


def writes_for(db: Database, state: GroupState, touched: set[tuple[str, str]], me: str) -> list[Write]:
    """The writes that bring the shared state up to what ``touched`` rows say now (nothing already shared)."""
    writes: list[Write] = []
    for kind, key in sorted(touched):
        if kind == "session":
            writes += _session_writes(db, state, key)
        elif kind == "request":
            topic, _, request_id = key.partition("/")
            writes += _request_writes(db, state, topic, int(request_id))
        elif kind == "audit":
            writes += _audit_writes(db, state, me, int(key))
        elif kind == "watch":
            writes += _watch_writes(db, state, key)
    return writes


def _session_writes(db: Database, state: GroupState, topic: str) -> list[Write]:
    record = db.session(topic)
    if record is None:
        return []
    entity, out = session_entity(topic), []
    if state.get(entity, "session") is None:
        session = next((s for s in db.active_sessions() if s.topic == topic), None)
        if session is None:
            return []  # ended before it was ever shared: nothing a member could use
        out.append(Write(entity, "session", "once", _session_json(session, record.created_at)))
    if state.get(entity, "name") != record.name:
        out.append(Write(entity, "name", "set", record.name))
    if state.get(entity, "namespaces") != record.namespaces:
        out.append(Write(entity, "namespaces", "set", record.namespaces))
    if (state.get(entity, "expiry") or 0) < record.expiry:
        out.append(Write(entity, "expiry", "max", record.expiry))
    if record.status != "active" and not state.is_ended(entity):
        out.append(Write(entity, "ended", "end", {"status": record.status}))
    return out


def _request_writes(db: Database, state: GroupState, topic: str, request_id: int) -> list[Write]:
    record = db.request(topic, request_id)
    if record is None:
        return []
    entity, out = request_entity(topic, request_id), []
    if state.get(entity, "request") is None:
        body = {
            "method": record.method,
            "params": record.params,
            "chain_id": record.chain_id,
            "expiry": record.expiry,
            "created_at": record.created_at,
        }
        out.append(Write(entity, "request", "once", body))
    if record.status in SHARED_ANSWERS:
        answer = {
            "status": record.status,
            "result": record.result,
            "error": record.error,
            "verdict": record.verdict,
            "answered_at": record.answered_at,
        }
        if state.get(entity, "answer") != answer:
            out.append(Write(entity, "answer", "set", answer))
    return out


def _audit_writes(db: Database, state: GroupState, me: str, seq: int) -> list[Write]:
    entity = audit_entity(me, seq)
    if state.get(entity, "entry") is not None:
        return []
    entry = db.audit_entry(seq)
    return [] if entry is None else [Write(entity, "entry", "once", entry.to_json())]


def _watch_writes(db: Database, state: GroupState, address: str) -> list[Write]:
    entity = watch_entity(address)
    found = next((w for w in db.watched() if w.address.lower() == address.lower()), None)
    if found is None:
        return [Write(entity, "watching", "set", False)] if state.get(entity, "watching") else []
    out = []
    if state.get(entity, "watching") is not True:
        out.append(Write(entity, "watching", "set", True))
    if state.get(entity, "label") != found.label:
        out.append(Write(entity, "label", "set", found.label))
    if state.get(entity, "chains") != list(found.chains):
        out.append(Write(entity, "chains", "set", list(found.chains)))
    if state.get(entity, "added_at") is None:
        out.append(Write(entity, "added_at", "once", found.added_at))
    return out


def device_name_write(device: str, name: str) -> Write:
    """A device's name in the group (any member may rename any device; the last rename wins)."""
    return Write(device_entity(device), "name", "set", name)


# --- state → rows ----------------------------------------------------------------------------------------


def project(db: Database, state: GroupState, entities: set[str], me: str) -> tuple[bool, list[Exception]]:
    """Write the shared state of ``entities`` into this device's rows (quietly).

    Returns whether any row changed, and why entities that could not be written were skipped (a member
    shared something malformed: it is audited by the caller, and the rest still lands)."""
    changed, refusals = False, list[Exception]()
    with db.quietly():
        for entity in sorted(entities, key=lambda e: (_ORDER.get(e.partition("/")[0], 9), e)):
            kind, _, rest = entity.partition("/")
            try:
                with db.savepoint():
                    if kind == "session":
                        changed |= _project_session(db, state, entity, rest)
                    elif kind == "request":
                        topic, _, request_id = rest.partition("/")
                        changed |= _project_request(db, state, entity, topic, int(request_id))
                    elif kind == "audit":
                        device, _, seq = rest.partition("/")
                        if device != me:
                            changed |= _project_audit(db, state, entity, device)
                    elif kind == "watch":
                        changed |= _project_watch(db, state, entity, rest)
            except (ValueError, KeyError, TypeError, AttributeError, WalletsyncError) as exc:
                refusals.append(ProjectionRefused(f"{entity[:80]}: {type(exc).__name__}"))
    return changed, refusals


class ProjectionRefused(WalletsyncError):
    """Something a member shared that cannot become a row here (malformed); skipped, audited."""

    code = "shared_row_malformed"


def _project_session(db: Database, state: GroupState, entity: str, topic: str) -> bool:
    shared = state.get(entity, "session")
    if shared is None:
        return False
    record = db.session(topic)
    name, expiry = state.get(entity, "name"), state.get(entity, "expiry") or 0
    namespaces = state.get(entity, "namespaces") or {}
    ended = state.get(entity, "ended") if state.is_ended(entity) else None
    if record is None:
        if ended is not None:
            return False
        wanted = derived_name(name if isinstance(name, str) else shared["peer_metadata"].get("name"))
        session = _session_of(topic, shared, namespaces, expiry)
        db.save_session(session, name=unique_name(db, wanted, topic), now=int(shared["created_at"]))
        return True
    changed = False
    if record.status == "active":
        if isinstance(name, str) and name != record.name and not db.name_taken(name, except_topic=topic):
            db.update_session(topic, name=name)
            changed = True
        if namespaces and namespaces != record.namespaces:
            db.update_session(topic, namespaces=namespaces)
            changed = True
        if expiry > record.expiry:
            db.update_session(topic, expiry=expiry)
            changed = True
        if ended is not None:
            status = ended.get("status") if isinstance(ended, dict) else None
            changed |= db.end_session(topic, status if status in ("revoked", "deleted", "expired") else "revoked")
    return changed


def _project_request(db: Database, state: GroupState, entity: str, topic: str, request_id: int) -> bool:
    body, answer = state.get(entity, "request"), state.get(entity, "answer")
    if not isinstance(body, dict) or db.session(topic) is None:
        return False
    record = db.request(topic, request_id)
    changed = False
    if record is None:
        pending = PendingRequest(
            topic,
            request_id,
            "wc_sessionRequest",
            "outgoing",
            int(body["expiry"]),
            body["method"],
            body["params"],
            body["chain_id"],
        )
        db.save_request(pending, now=int(body["created_at"]))
        changed = True
    if isinstance(answer, dict) and (
        record is None or record.status != answer.get("status") or record.verdict != answer.get("verdict")
    ):
        status = answer.get("status")
        if status == "expired":
            db.expire_request(topic, request_id)
        elif status in ANSWERED:
            db.finish_request(
                topic,
                request_id,
                status=status,
                now=int(answer.get("answered_at") or 0),
                result=answer.get("result"),
                error=answer.get("error"),
                verdict=answer.get("verdict"),
            )
        changed = True
    return changed


def _project_audit(db: Database, state: GroupState, entity: str, device: str) -> bool:
    entry = state.get(entity, "entry")
    if not isinstance(entry, dict):
        return False
    return db.add_remote_audit(device, AuditEntry.from_json(entry), json.dumps(entry, sort_keys=True))


def _project_watch(db: Database, state: GroupState, entity: str, address: str) -> bool:
    """A watched address as members last left it: watched (with its label and chains, checked as ``watch add``
    checks them) or not."""
    if not ADDRESS.fullmatch(address):
        raise ValueError("not an address")
    current = next((w for w in db.watched() if w.address.lower() == address), None)
    watching = state.get(entity, "watching")
    if watching is not True:
        return watching is False and current is not None and db.drop_watched(address)
    label, chains, added_at = state.get(entity, "label"), state.get(entity, "chains"), state.get(entity, "added_at")
    if not isinstance(chains, list) or not 0 < len(chains) <= MAX_WATCHED_CHAINS:
        raise ValueError("chains")
    checked = tuple(dict.fromkeys(chain_id_of(c) for c in chains))
    if any(not c.startswith("eip155:") for c in checked):
        raise ValueError("chains")
    watched = Watched(
        checksum_address(address),
        None if label is None else local_name(label, "label"),
        checked,
        added_at if type(added_at) is int else 0,
    )
    if watched == current:
        return False
    db.put_watched(watched)
    return True
