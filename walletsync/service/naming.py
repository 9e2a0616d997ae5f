"""Local session names: unique among active sessions, and never one a reader could mistake for another's."""

from __future__ import annotations

from walletsync.names import looks_the_same, with_suffix
from walletsync.service.outcomes import NameTaken
from walletsync.store.db import Database


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
