"""walletsync's state in one SQLite file: the connection, its schema migrations and its transactions.

WAL mode, so the app and CLI commands can have it open at once; every state
change is one transaction (``with db.transaction():``). The schema is versioned
with ``PRAGMA user_version`` and migrated on open (:mod:`walletsync.store.schema`).
The queries are grouped by table, one module each, and :class:`Database` has them
all: sessions, pairings and proposals (:mod:`~walletsync.store.sessions`, their keys
stored only sealed with the device storage key), requests (:mod:`~walletsync.store.requests`),
the replay memory (:mod:`~walletsync.store.replay_memory`), the audit chain
(:mod:`~walletsync.store.audit_rows`) and the policy budgets (:mod:`~walletsync.store.budgets`).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from walletsync.errors import WalletsyncError
from walletsync.paths import open_private
from walletsync.store.audit_rows import AuditQueries
from walletsync.store.balance_cache import BalanceCacheQueries
from walletsync.store.budgets import BudgetQueries
from walletsync.store.copied_rows import CopiedRows
from walletsync.store.group_rows import GroupQueries
from walletsync.store.records import ENDED as ENDED
from walletsync.store.records import RequestRecord as RequestRecord
from walletsync.store.records import SessionRecord as SessionRecord
from walletsync.store.records import SessionSummary as SessionSummary
from walletsync.store.replay_memory import REPLAY_KEEP_ENDED as REPLAY_KEEP_ENDED
from walletsync.store.replay_memory import REPLAY_PER_TOPIC as REPLAY_PER_TOPIC
from walletsync.store.replay_memory import REPLAY_TRIM_EVERY as REPLAY_TRIM_EVERY
from walletsync.store.replay_memory import ReplayQueries
from walletsync.store.requests import RequestQueries
from walletsync.store.schema import MIGRATIONS as MIGRATIONS
from walletsync.store.sessions import SessionQueries
from walletsync.store.touches import Touches
from walletsync.store.watch_rows import Watched as Watched
from walletsync.store.watch_rows import WatchQueries


class DatabaseError(WalletsyncError):
    code = "database"


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

    def executemany(self, sql: str, rows: list[Any]) -> None:
        with self._lock:
            self._connection.executemany(sql, rows)

    def executescript(self, script: str) -> None:
        with self._lock:
            self._connection.executescript(script)

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction

    def backup(self, target: sqlite3.Connection) -> None:
        """SQLite's online backup of this database into ``target``, with no statement of this process between."""
        with self._lock:
            self._connection.backup(target)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class Database(
    SessionQueries,
    RequestQueries,
    ReplayQueries,
    AuditQueries,
    GroupQueries,
    BudgetQueries,
    WatchQueries,
    BalanceCacheQueries,
    CopiedRows,
    Touches,
):
    """The state file. Needs the storage key to read or write any key material."""

    def __init__(self, path: Path, storage_key: bytes) -> None:
        self.path = path
        self._key = storage_key
        self._lock = threading.RLock()
        self.touched = set()
        self._untrimmed = {}
        self.before_commit: Callable[[set[tuple[str, str]]], None] | None = None
        """Called inside each write transaction that touched something shared, just before COMMIT
        (the device group records its change there, so the two land together or not at all)."""
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

    def copy_into(self, target: sqlite3.Connection) -> None:
        """Every committed row into ``target`` (an empty connection) in one consistent step: the backup's copy."""
        self._db.backup(target)

    @contextmanager
    def transaction(self) -> Iterator[_Serialized]:
        """One atomic state change; BEGIN IMMEDIATE so concurrent writers queue instead of failing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self.touched = set()
            try:
                yield self._db
                if self.touched and self.before_commit is not None:
                    self.before_commit(self.touched)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self.touched = set()
            self._db.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: a part that is undone alone if it fails (the rest of the transaction stays)."""
        self._db.execute("SAVEPOINT part")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK TO part")
            self._db.execute("RELEASE part")
            raise
        self._db.execute("RELEASE part")

    @contextmanager
    def snapshot(self) -> Iterator[_Serialized]:
        """Reads that must agree with each other (one WAL snapshot), without taking the write lock."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    def data_version(self) -> int:
        """Changes when another connection (another process) commits; this connection's own commits leave it."""
        return cast(int, self._db.execute("PRAGMA data_version").fetchone()[0])
