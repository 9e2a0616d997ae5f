"""The relay's SQLite file: opening it (one relay's alone, in WAL mode), its schema and migration, and the
background fsync of its WAL. What goes in it, and when it commits, is :mod:`walletsync.relay.mailboxes.sqlite`'s.

Schema 2: ``mailbox`` (one row per message, ``seq`` = insertion order) and
``receipts`` (seq, client id). A schema-1 file (``messages`` + ``acks``) is
converted on open.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from walletsync.relay.mailboxes import StoreUnavailable

SCHEMA_VERSION = 2
CHECKPOINT_PAGES = 4000
"""WAL pages (of 4 KiB) between checkpoints: one about every 16 MB of writes."""
WAL_SYNC_INTERVAL = 0.05
OPEN_TIMEOUT_MS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS mailbox (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL, id TEXT NOT NULL, message TEXT NOT NULL, publisher TEXT NOT NULL,
    published_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, tag INTEGER NOT NULL,
    prompt INTEGER NOT NULL, attestation TEXT
);
CREATE INDEX IF NOT EXISTS mailbox_expiry ON mailbox (expires_at);
CREATE TABLE IF NOT EXISTS receipts (
    seq INTEGER NOT NULL, client_id TEXT NOT NULL,
    PRIMARY KEY (seq, client_id)
) WITHOUT ROWID;
"""

MIGRATE_FROM_1 = """
INSERT INTO mailbox (topic, id, message, publisher, published_at, expires_at, tag, prompt, attestation)
    SELECT topic, id, message, publisher, published_at, expires_at, tag, prompt, attestation FROM messages ORDER BY published_at;
CREATE INDEX migrate_key ON mailbox (topic, id);
INSERT OR IGNORE INTO receipts SELECT b.seq, a.client_id FROM acks a JOIN mailbox b ON b.topic = a.topic AND b.id = a.id;
DROP INDEX migrate_key;
DROP TABLE acks;
DROP TABLE messages;
"""


def open_file(path: str) -> sqlite3.Connection:
    """The file at ``path`` (created, with its folders), locked by this process for good, at the current schema.

    Raises :class:`StoreUnavailable` when another process holds it or it cannot be opened.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute(f"PRAGMA busy_timeout={OPEN_TIMEOUT_MS}")
        db.execute("PRAGMA locking_mode=EXCLUSIVE")  # before WAL: the WAL index then lives in this process
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: committed data survives a process crash
        db.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        _migrate(db)  # a write: takes (and from now on keeps) the file's lock
    except sqlite3.OperationalError as exc:
        db.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreUnavailable(
                f"the relay store {path} is in use by another process (another walletsync relay?)"
            ) from None
        raise StoreUnavailable(f"cannot open the relay store {path}: {exc}") from None
    except BaseException:
        db.close()
        raise
    return db


_fdatasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync


class WalSyncer:
    """fsyncs the WAL in the background, so a checkpoint (which fsyncs it first, on the loop) finds it nearly clean.

    Only ever adds durability; reads and writes nothing.
    """

    def __init__(self, wal_path: str) -> None:
        self.written = False
        self._stopping = threading.Event()
        try:
            self._fd: int | None = os.open(wal_path, os.O_RDONLY)
        except OSError:  # no WAL file (should not happen in WAL mode): checkpoints just sync it themselves
            self._fd = None
            return
        self._thread = threading.Thread(target=self._run, name="relay-wal-sync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(WAL_SYNC_INTERVAL):
            if self.written:
                self.written = False
                try:
                    _fdatasync(self._fd)  # type: ignore[arg-type]
                except OSError:
                    pass

    def stop(self) -> None:
        if self._fd is not None and not self._stopping.is_set():
            self._stopping.set()
            self._thread.join()

    def release(self) -> None:
        """Close the file descriptor (after the database itself, so no lock of SQLite's could go with it)."""
        if self._fd is not None:
            self.stop()
            os.close(self._fd)
            self._fd = None


def _migrate(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            for statement in _statements(SCHEMA):
                db.execute(statement)
            if (
                db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'").fetchone()
                is not None
            ):
                for statement in _statements(MIGRATE_FROM_1):
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """A script as single statements (executescript would commit the open transaction)."""
    out, current = [], ""
    for part in script.split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                out.append(current.strip())
            current = ""
    return out
