"""Local session names: unique among active sessions, never one a reader could mistake for another's, and how a
reference the user typed (a name or a topic prefix) finds its session.

A name the user gives (``rename``, ``pair --name``) must also differ from every ended session's: a name then always
means one session, so ``sign laptop`` can never be ambiguous later. Names walletsync derives from the phone's only
avoid the active ones (a phone paired again keeps its name); where ended sessions share such a name, a reference to it
finds the active one, and a command that needs an active session says they all ended.
"""

from __future__ import annotations

import time

from walletsync.names import skeleton, typed_name, with_suffix
from walletsync.service.outcomes import AmbiguousSession, NameTaken, SessionInactive, SessionNotFound
from walletsync.store.db import Database, SessionRecord

MIN_PREFIX = 4
"""Hex characters a topic prefix needs: fewer would match sessions by chance."""


Named = tuple[str, str, str]
"""A session's ``(topic, name, status)``: all that comparing names needs."""


def _looking_like(named: list[Named], name: str, except_topic: str | None) -> Named | None:
    """The first of ``named`` (other than ``except_topic``) whose name a reader could not tell from ``name``."""
    wanted = skeleton(name)
    return next((s for s in named if s[0] != except_topic and skeleton(s[1]) == wanted), None)


def unique_name(db: Database, wanted: str, topic: str) -> str:
    """``wanted``, or ``wanted (2)``, … : the first that looks like no other active session's name."""
    taken = {skeleton(n) for t, n, st in db.session_names() if st == "active" and t != topic}
    name, n = wanted, 2
    while skeleton(name) in taken:
        name, n = with_suffix(wanted, n), n + 1
    return name


def check_free(db: Database, name: str, *, except_topic: str | None = None) -> None:
    """Return if the user may give ``name`` to a session; :class:`NameTaken` (saying which session is in the way, and
    what to do) if another session, active or ended, has a name that looks the same."""
    named = db.session_names()
    other = _looking_like([s for s in named if s[2] == "active"], name, except_topic)
    if other is not None and other[1] == name:
        raise NameTaken(f"another active session is already named '{name}'")
    if other is not None:
        raise NameTaken(f"'{name}' looks the same as the name of another active session, '{other[1]}'")
    ended = _looking_like(named, name, except_topic)
    if ended is not None:
        topic, ended_name, status = ended
        which = f"an ended session ({status}, topic {topic[:8]})"
        clash = (
            f"{which} is already named '{name}'"
            if ended_name == name
            else f"'{name}' looks the same as the name of {which}, '{ended_name}'"
        )
        raise NameTaken(
            f"{clash}, and a name must mean one session: choose another, "
            f"or first rename that one ('walletsync rename {topic[:8]} NEW-NAME')"
        )


def _listed(records: list[SessionRecord]) -> str:
    return ", ".join(f"{s.topic[:8]} {s.status}" for s in records[:5]) + (", …" if len(records) > 5 else "")


def find_session(db: Database, ref: str) -> SessionRecord:
    """The session ``ref`` names: by local name (the active one first), else by unique topic prefix (4+ hex chars).

    Both are index searches: only the sessions that match are read."""
    return _found(db, ref, _named(db, ref))


def _named(db: Database, ref: str) -> list[SessionRecord]:
    """The sessions named ``ref`` as typed, else as names are kept (a decomposed é, a full-width letter, two
    spaces: the stored name is NFKC with single spaces)."""
    return db.sessions_named(ref) or (db.sessions_named(kept) if (kept := typed_name(ref)) != ref else [])


def _found(db: Database, ref: str, by_name: list[SessionRecord]) -> SessionRecord:
    active = [s for s in by_name if s.status == "active"]
    if len(active) == 1 or len(by_name) == 1:
        return (active or by_name)[0]
    if len(by_name) > 1:
        raise AmbiguousSession(f"several ended sessions are named {ref!r} ({_listed(by_name)}); use a topic prefix")
    prefixed = db.topics_starting(ref.lower())
    if len(ref) < MIN_PREFIX and prefixed:
        raise SessionNotFound(
            f"no session is named {ref!r}, and a topic prefix needs {MIN_PREFIX} or more characters: "
            f"give more of the topic (see 'walletsync sessions')"
        )
    if len(ref) >= MIN_PREFIX and len(prefixed) == 1 and (record := db.session(prefixed[0])) is not None:
        return record
    if len(ref) >= MIN_PREFIX and len(prefixed) > 1:
        names = ", ".join(f"{s.name} ({s.topic[:8]})" for s in db.sessions_starting(ref.lower())[:5])
        raise AmbiguousSession(f"{ref!r} matches {len(prefixed)} sessions: {names}; give more of the topic")
    raise SessionNotFound(f"no session named or starting with {ref!r} (see 'walletsync sessions')")


def find_active(db: Database, ref: str, now: float) -> SessionRecord:
    """The session ``ref`` names, if it can carry requests at ``now``; :class:`SessionInactive` if it ended or expired
    (also when several ended sessions share the name: none of them could carry the request)."""
    by_name = _named(db, ref)
    if len(by_name) > 1 and all(s.status != "active" for s in by_name):
        raise SessionInactive(f"every session named {ref!r} has ended ({_listed(by_name)})")
    return check_active(_found(db, ref, by_name), now)


def check_active(record: SessionRecord, now: float) -> SessionRecord:
    """``record``, if its session can carry requests at ``now``; :class:`SessionInactive` if it ended or expired."""
    if record.status != "active":
        raise SessionInactive(f"session {record.name!r} is {record.status}")
    if record.expiry <= now:
        raise SessionInactive(
            f"session {record.name!r} expired at {time.strftime('%Y-%m-%d %H:%M', time.localtime(record.expiry))}"
        )
    return record
