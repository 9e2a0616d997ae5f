"""What a member shared becomes this device's rows; a malformed part is refused alone, the rest lands."""

from __future__ import annotations

from walletsync.service.shared_rows import project
from walletsync.store.db import Database
from walletsync.sync.changes import Change, Write, audit_entity, request_entity, session_entity
from walletsync.sync.clock import Stamp
from walletsync.sync.state import GroupState

ME, PEER = "a" * 32, "b" * 32
TOPIC = "c" * 64


def shared_session(name: str) -> list[Write]:
    entity = session_entity(TOPIC)
    session = {
        "sym_key": "11" * 32,
        "pairing_topic": "d" * 64,
        "self_public_key": "e" * 64,
        "peer_public_key": "f" * 64,
        "controller_public_key": "f" * 64,
        "peer_metadata": {"name": "Phone\x1b[31m", "url": "https://phone.example"},
        "required_namespaces": {},
        "optional_namespaces": {},
        "session_properties": None,
        "is_controller": False,
        "created_at": 1_800_000_000,
    }
    namespaces = {
        "eip155": {"chains": ["eip155:1"], "accounts": ["eip155:1:0x" + "ab" * 20], "methods": [], "events": []}
    }
    return [
        Write(entity, "session", "once", session),
        Write(entity, "name", "set", name),
        Write(entity, "namespaces", "set", namespaces),
        Write(entity, "expiry", "max", 1_900_000_000),
    ]


def state_of(*writes: Write) -> GroupState:
    state = GroupState()
    state.apply(Change(PEER, 1, Stamp(1_800_000_000_000, 0, PEER), tuple(writes)))
    return state


def test_a_malformed_shared_row_is_refused_alone(tmp_path):
    db = Database(tmp_path / "walletsync.db", bytes(32))
    bad_audit = Write(audit_entity(PEER, 1), "entry", "once", {"not": "an audit row"})
    bad_request = Write(request_entity(TOPIC, 5), "request", "once", {"method": "personal_sign"})  # no expiry
    state = state_of(*shared_session("desk"), bad_audit, bad_request)
    with db.transaction():
        changed, refusals = project(db, state, set(state.entities()), ME)
    assert changed
    assert [s.name for s in db.sessions()] == ["desk"]
    assert len(refusals) == 2 and all(r.code == "shared_row_malformed" for r in refusals)
    assert db.requests() == [] and db.remote_audit_entries() == []


def test_projection_is_not_shared_back(tmp_path):
    db = Database(tmp_path / "walletsync.db", bytes(32))
    seen: list[set] = []
    db.before_commit = lambda touched: seen.append(set(touched))
    state = state_of(*shared_session("desk"))
    with db.transaction():
        project(db, state, set(state.entities()), ME)
    assert seen == []  # nothing touched: a member's change is not echoed as this device's


def test_a_shared_name_with_control_characters_becomes_a_safe_local_name(tmp_path):
    db = Database(tmp_path / "walletsync.db", bytes(32))
    state = state_of(*shared_session("desk\x1b[2J\u202e"))
    with db.transaction():
        project(db, state, set(state.entities()), ME)
    (record,) = db.sessions()
    assert "\x1b" not in record.name and "\u202e" not in record.name
