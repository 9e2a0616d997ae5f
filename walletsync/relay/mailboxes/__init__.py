"""Mailbox backends: ``memory`` (tests), ``sqlite:PATH`` (default, survives kill -9), ``redis://URL`` (several relays)."""

from __future__ import annotations

from walletsync.errors import WalletsyncError
from walletsync.relay.mailbox import MailboxStore


class StoreSpecError(WalletsyncError):
    code = "bad_store"


class StoreUnavailable(WalletsyncError):
    """The store cannot be used: Redis unreachable, the SQLite file taken by another relay or unreadable."""

    code = "store_unavailable"


def open_store(spec: str) -> MailboxStore:
    """``memory`` | ``sqlite:PATH`` | ``redis://HOST:PORT/DB`` to a store instance."""
    if spec == "memory":
        from walletsync.relay.mailboxes.memory import MemoryStore

        return MemoryStore()
    if spec.startswith("sqlite:"):
        from walletsync.relay.mailboxes.sqlite import SqliteStore

        path = spec[len("sqlite:") :]
        if not path:
            raise StoreSpecError("sqlite store needs a path: sqlite:/path/to/relay.db")
        return SqliteStore(path)
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from walletsync.relay.mailboxes.redisdb import RedisStore

        return RedisStore(spec)
    raise StoreSpecError(f"unknown store {spec!r}; use memory, sqlite:PATH or redis://HOST:PORT")
