"""Local session names: unique among active sessions, never one a reader could mistake for another's, and how a
reference the user typed (a name or a topic prefix) finds its session."""

from __future__ import annotations

import time

from walletsync.names import looks_the_same, with_suffix
from walletsync.service.outcomes import AmbiguousSession, NameTaken, SessionInactive, SessionNotFound
from walletsync.store.db import Database, SessionRecord


def lookalike(db: Database, name: str, *, except_topic: str | None = None) -> str | None:
    """The name of another active session that a reader could not tell from ``name``, if any."""
    live = (s.name for s in db.sessions(include_ended=False) if s.topic != except_topic)
    return next((other for other in live if looks_the_same(other, name)), None)


def unique_name(db: Database, wanted: str, topic: str) -> str:
    """``wanted``, or ``wanted (2)``, … : the first that looks like no other active session's name."""
    name, n = wanted, 2
    while lookalike(db, name, except_topic=topic) is not None:
        name, n = with_suffix(wanted, n), n + 1
    return name


def check_free(db: Database, name: str, *, except_topic: str | None = None) -> None:
    """Return if ``name`` can be given to a session; :class:`NameTaken` (saying which name is in the way) if not."""
    other = lookalike(db, name, except_topic=except_topic)
    if other == name:
        raise NameTaken(f"another active session is already named '{name}'")
    if other is not None:
        raise NameTaken(f"'{name}' looks the same as the name of another active session, '{other}'")


def find_session(records: list[SessionRecord], ref: str) -> SessionRecord:
    """The session ``ref`` names: by local name (the active one first), else by unique topic prefix (4+ hex chars)."""
    by_name = [s for s in records if s.name == ref]
    active = [s for s in by_name if s.status == "active"]
    if len(active) == 1 or len(by_name) == 1:
        return (active or by_name)[0]
    if len(by_name) > 1:
        raise AmbiguousSession(f"several ended sessions are named {ref!r}; use a topic prefix")
    if len(ref) >= 4:
        prefixed = [s for s in records if s.topic.startswith(ref.lower())]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            names = ", ".join(f"{s.name} ({s.topic[:8]})" for s in prefixed[:5])
            raise AmbiguousSession(f"{ref!r} matches {len(prefixed)} sessions: {names}; give more of the topic")
    raise SessionNotFound(f"no session named or starting with {ref!r} (see 'walletsync sessions')")


def find_active(records: list[SessionRecord], ref: str, now: float) -> SessionRecord:
    """The session ``ref`` names, if it can carry requests at ``now``; :class:`SessionInactive` if it ended or expired."""
    record = find_session(records, ref)
    if record.status != "active":
        raise SessionInactive(f"session {record.name!r} is {record.status}")
    if record.expiry <= now:
        raise SessionInactive(
            f"session {record.name!r} expired at {time.strftime('%Y-%m-%d %H:%M', time.localtime(record.expiry))}"
        )
    return record
