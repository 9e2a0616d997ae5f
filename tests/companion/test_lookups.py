"""Session references found by index searches give the same sessions and the same errors as reading every session did.

The scan below is the lookup as it was (every session loaded, then filtered): the oracle. The store holds many
sessions whose names and topics collide on purpose: a name shared by ended sessions, one also by an active one,
names that only look alike, topics sharing 3 to 10 hex characters.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletsync.names import skeleton, typed_name
from walletsync.protocol.state import Session
from walletsync.service.naming import MIN_PREFIX, check_free, find_active, find_session, unique_name
from walletsync.service.outcomes import AmbiguousSession, NameTaken, SessionInactive, SessionNotFound
from walletsync.store.db import Database, SessionRecord

STORAGE_KEY = bytes(range(32))
NOW = 1_800_000_000
NAMES = ["laptop", "laptop", "laptop", "phone", "phone", "Phone", "tablet", "rabby", "rabby (2)", "ledger", "old"]
ENDED_AT = {0, 1, 3, 6, 10}  # laptop: two ended + one active; phone: one ended + one active; tablet and old: ended
EXPIRED_AT = {7}  # rabby: active but past its expiry
TOPICS = [
    "abc" + "0" * 61,
    "abc1" + "0" * 60,
    "abc12" + "0" * 59,
    "abc123" + "1" * 58,
    "abc1234567" + "2" * 54,
    "abc1234567" + "3" * 54,
    "0123" + "4" * 60,
    "fedc" + "5" * 60,
    "fedcb" + "6" * 59,
    "9999" + "7" * 60,
    "8888" + "8" * 60,
]


def _session(topic: str, expiry: int) -> Session:
    return Session(
        topic=topic,
        sym_key=os.urandom(32),
        pairing_topic=os.urandom(32).hex(),
        self_public_key="aa" * 32,
        peer_public_key="bb" * 32,
        peer_metadata={"name": "Wallet", "url": "https://wallet.example"},
        controller_public_key="bb" * 32,
        namespaces={"eip155": {"chains": ["eip155:1"], "accounts": [], "methods": [], "events": []}},
        expiry=expiry,
        is_controller=False,
        acknowledged=True,
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    database = Database(tmp_path_factory.mktemp("lookups") / "walletsync.db", STORAGE_KEY)
    with database.transaction():
        for n, (topic, name) in enumerate(zip(TOPICS, NAMES, strict=True)):
            database.save_session(_session(topic, NOW - 60 if n in EXPIRED_AT else NOW + 86400), name=name, now=NOW + n)
            if n in ENDED_AT:
                database.end_session(topic, "revoked" if n % 2 else "deleted")
    return database


# --- the lookups as they were: every session read, then filtered ------------------------------------------------------


def _listed(records: list[SessionRecord]) -> str:
    return ", ".join(f"{s.topic[:8]} {s.status}" for s in records[:5]) + (", …" if len(records) > 5 else "")


def named(records: list[SessionRecord], ref: str) -> list[SessionRecord]:
    """By name as typed, else as names are kept (NFKC, single spaces)."""
    return [s for s in records if s.name == ref] or [s for s in records if s.name == typed_name(ref)]


def scan_find_session(records: list[SessionRecord], ref: str) -> SessionRecord:
    by_name = named(records, ref)
    active = [s for s in by_name if s.status == "active"]
    if len(active) == 1 or len(by_name) == 1:
        return (active or by_name)[0]
    if len(by_name) > 1:
        raise AmbiguousSession(f"several ended sessions are named {ref!r} ({_listed(by_name)}); use a topic prefix")
    prefixed = [s for s in records if s.topic.startswith(ref.lower())]
    if len(ref) < MIN_PREFIX and prefixed:
        raise SessionNotFound(
            f"no session is named {ref!r}, and a topic prefix needs {MIN_PREFIX} or more characters: "
            f"give more of the topic (see 'walletsync sessions')"
        )
    if len(ref) >= MIN_PREFIX and len(prefixed) == 1:
        return prefixed[0]
    if len(ref) >= MIN_PREFIX and len(prefixed) > 1:
        names = ", ".join(f"{s.name} ({s.topic[:8]})" for s in prefixed[:5])
        raise AmbiguousSession(f"{ref!r} matches {len(prefixed)} sessions: {names}; give more of the topic")
    raise SessionNotFound(f"no session named or starting with {ref!r} (see 'walletsync sessions')")


def scan_find_active(records: list[SessionRecord], ref: str, now: float) -> SessionRecord:
    by_name = named(records, ref)
    if len(by_name) > 1 and all(s.status != "active" for s in by_name):
        raise SessionInactive(f"every session named {ref!r} has ended ({_listed(by_name)})")
    record = scan_find_session(records, ref)
    if record.status != "active":
        raise SessionInactive(f"session {record.name!r} is {record.status}")
    if record.expiry <= now:
        raise SessionInactive(
            f"session {record.name!r} expired at {time.strftime('%Y-%m-%d %H:%M', time.localtime(record.expiry))}"
        )
    return record


def scan_check_free(records: list[SessionRecord], name: str, except_topic: str | None) -> None:
    def looking_like(among: list[SessionRecord]) -> SessionRecord | None:
        return next((s for s in among if s.topic != except_topic and skeleton(s.name) == skeleton(name)), None)

    other = looking_like([s for s in records if s.status == "active"])
    if other is not None and other.name == name:
        raise NameTaken(f"another active session is already named '{name}'")
    if other is not None:
        raise NameTaken(f"'{name}' looks the same as the name of another active session, '{other.name}'")
    ended = looking_like(records)
    if ended is not None:
        which = f"an ended session ({ended.status}, topic {ended.topic[:8]})"
        clash = (
            f"{which} is already named '{name}'"
            if ended.name == name
            else f"'{name}' looks the same as the name of {which}, '{ended.name}'"
        )
        raise NameTaken(
            f"{clash}, and a name must mean one session: choose another, "
            f"or first rename that one ('walletsync rename {ended.topic[:8]} NEW-NAME')"
        )


def outcome(lookup, *args) -> tuple[str, str]:
    """What a lookup gave: the topic found, or the error's class and message."""
    try:
        found = lookup(*args)
    except (AmbiguousSession, NameTaken, SessionInactive, SessionNotFound) as exc:
        return type(exc).__name__, str(exc)
    return "found", found.topic if found is not None else ""


# --- the same answers ---------------------------------------------------------------------------------------------------

REFS = st.one_of(
    st.sampled_from(NAMES + ["PHONE", "laptoP", "nobody", "", "ABC1", "Fedc"]),
    st.builds(lambda t, n: t[:n], st.sampled_from(TOPICS + ["abcd" + "0" * 60]), st.integers(0, 12)),
    st.text("0123456789abcdefABC", max_size=6),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ref=REFS)
def test_a_reference_finds_what_the_scan_found(db, ref):
    """Names first (the active one of several), then a unique topic prefix of 4+ characters; the same errors."""
    records = db.sessions()
    assert outcome(find_session, db, ref) == outcome(scan_find_session, records, ref)
    assert outcome(find_active, db, ref, NOW) == outcome(scan_find_active, records, ref, NOW)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(NAMES + ["PHONE", "1aptop", "rabby (3)", "new"]), except_topic=st.sampled_from([None, *TOPICS])
)
def test_a_free_name_is_judged_as_before(db, name, except_topic):
    records = db.sessions()
    free = outcome(lambda: check_free(db, name, except_topic=except_topic))
    before = outcome(lambda: scan_check_free(records, name, except_topic))
    assert free == before


def test_the_messages_a_user_reads(db):
    """The cases a user meets, spelled out: a short prefix, ended names, an expired session, an ambiguous prefix."""
    assert outcome(find_session, db, "abc") == (
        "SessionNotFound",
        "no session is named 'abc', and a topic prefix needs 4 or more characters: give more of the topic "
        "(see 'walletsync sessions')",
    )
    assert outcome(find_session, db, "laptop") == ("found", TOPICS[2])
    assert outcome(find_active, db, "tablet", NOW)[1] == "session 'tablet' is deleted"
    assert outcome(find_active, db, "rabby", NOW)[1].startswith("session 'rabby' expired at")
    kind, message = outcome(find_session, db, "abc1")
    assert kind == "AmbiguousSession" and message.startswith(
        "'abc1' matches 5 sessions: laptop (abc10000), laptop (abc12000), phone"
    )
    assert outcome(find_session, db, "abc1234567" + "3") == ("found", TOPICS[5])
    assert outcome(find_session, db, "zzzz") == (
        "SessionNotFound",
        "no session named or starting with 'zzzz' (see 'walletsync sessions')",
    )


def test_a_derived_name_avoids_only_active_names(db):
    assert unique_name(db, "laptop", "f" * 64) == "laptop (2)"
    assert unique_name(db, "tablet", "f" * 64) == "tablet"  # only an ended session has it
    assert unique_name(db, "ledger", TOPICS[9]) == "ledger"  # its own name
    assert unique_name(db, "phone", TOPICS[4]) == "phone (2)"  # "Phone" looks the same


def test_a_name_typed_in_another_unicode_form_finds_its_session(db):
    """Names are kept NFKC with single spaces; a terminal may send a decomposed letter, a full-width one or two spaces."""
    with db.transaction():
        db.save_session(_session("c0ffee" + "9" * 58, NOW + 86400), name="Café desk", now=NOW)
    for typed in ("Cafe\u0301 desk", "Café  desk", "Ｃafé desk"):
        assert find_session(db, typed).topic.startswith("c0ffee"), typed
