"""Mailboxes in one SQLite file (WAL): an acknowledged publish survives ``kill -9`` of the relay.

Calls are short single-statement transactions run on the event loop thread;
at relay message rates they take tens of microseconds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from walletsync.relay.mailbox import MailboxStore, StoredMessage

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    topic TEXT NOT NULL, id TEXT NOT NULL, message TEXT NOT NULL, publisher TEXT NOT NULL,
    published_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, tag INTEGER NOT NULL,
    prompt INTEGER NOT NULL, attestation TEXT,
    PRIMARY KEY (topic, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_expiry ON messages (expires_at);
CREATE TABLE IF NOT EXISTS acks (
    topic TEXT NOT NULL, id TEXT NOT NULL, client_id TEXT NOT NULL,
    PRIMARY KEY (topic, id, client_id)
) WITHOUT ROWID;
"""


class SqliteStore(MailboxStore):
    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: committed data survives a process crash
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    async def add(self, m: StoredMessage) -> bool:
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO messages VALUES (?,?,?,?,?,?,?,?,?)",
            (m.topic, m.id, m.message, m.publisher, m.published_at, m.expires_at, m.tag, int(m.prompt), m.attestation),
        )
        return cursor.rowcount == 1

    async def undelivered(self, topic: str, client_id: str, now_ms: int) -> list[StoredMessage]:
        rows = self._db.execute(
            """SELECT topic, message, publisher, published_at, expires_at, tag, prompt, attestation FROM messages m
               WHERE topic = ? AND expires_at > ? AND publisher != ?
                 AND NOT EXISTS (SELECT 1 FROM acks a WHERE a.topic = m.topic AND a.id = m.id AND a.client_id = ?)
               ORDER BY published_at""",
            (topic, now_ms, client_id, client_id),
        ).fetchall()
        return [StoredMessage(t, msg, pub, pa, ea, tag, bool(prompt), att) for t, msg, pub, pa, ea, tag, prompt, att in rows]

    async def ack(self, topic: str, message_id: str, client_id: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO acks SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM messages WHERE topic = ? AND id = ?)",
            (topic, message_id, client_id, topic, message_id),
        )

    async def contains(self, topic: str, message_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM messages WHERE topic = ? AND id = ?", (topic, message_id)).fetchone() is not None

    async def count(self, topic: str, now_ms: int) -> int:
        return self._db.execute("SELECT count(*) FROM messages WHERE topic = ? AND expires_at > ?", (topic, now_ms)).fetchone()[0]

    async def purge(self, now_ms: int) -> int:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "DELETE FROM acks WHERE EXISTS (SELECT 1 FROM messages m WHERE m.topic = acks.topic AND m.id = acks.id AND m.expires_at <= ?)",
                (now_ms,),
            )
            return self._db.execute("DELETE FROM messages WHERE expires_at <= ?", (now_ms,)).rowcount

    async def close(self) -> None:
        self._db.close()
