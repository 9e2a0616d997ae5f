"""Mailboxes in one SQLite file (WAL): an acknowledged publish survives ``kill -9`` of the relay.

The file is the durable record; the store also keeps, in memory, which message ids
each topic holds (its SQL row number) and which of them are still undelivered, so
that dedup, the mailbox limit, ack lookups and ``contains`` never touch the disk
and the file needs no index keyed by topic or message id. Such an index takes a
random page write per message, which is what made this store slow; with it gone,
writes only append (under 1 KB of WAL per message on a busy relay). The price is
memory: about 200 bytes per delivered and 350 per undelivered stored message
(bodies stay on disk), rebuilt from the file when the store opens (about 1 s per
100,000 messages). The relay owns the file: it is opened in SQLite's EXCLUSIVE
locking mode, so a second relay on the same file fails at start.

Statements run on the event loop thread, where they take a few microseconds, but
are grouped: the first write in a turn of the loop opens a transaction and the
loop's next turn commits it, so a busy relay pays one commit per turn rather than
one per message, and no call waits for the disk. :meth:`SqliteStore.after_commit`
tells the relay when what it stored is durable (``synchronous=NORMAL`` in WAL
mode: a commit survives the process being killed; only a power cut can lose the
last ones); the relay answers a publish only then. Acks are grouped the same way;
a crash before their commit only means those messages are pushed once more. WAL
checkpoints run every :data:`~walletsync.relay.mailboxes.sqlite_file.CHECKPOINT_PAGES`
pages, as part of a commit; a checkpoint first fsyncs the WAL, so a background thread
fsyncs it every :data:`~walletsync.relay.mailboxes.sqlite_file.WAL_SYNC_INTERVAL`
seconds (never holding the loop) and leaves the checkpoint little to wait for.

The file itself (opening it, its schema and migration, that thread) is
:mod:`walletsync.relay.mailboxes.sqlite_file`'s; this module is the store over it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import cast

from walletsync.relay.mailbox import (
    PAGE_OVERHEAD,
    STORED_OVERHEAD,
    MailboxFull,
    MailboxStore,
    StoredMessage,
    stored_size,
)
from walletsync.relay.mailboxes.pending import Pending
from walletsync.relay.mailboxes.sqlite_file import WalSyncer, open_file

log = logging.getLogger("walletsync.relay")

PURGE_CHUNK = 2000
"""expired messages deleted per transaction, so a big purge does not hold the loop"""

INSERT = "INSERT INTO mailbox (topic, id, message, publisher, published_at, expires_at, tag, prompt, attestation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
RECEIPT = "INSERT OR IGNORE INTO receipts VALUES (?, ?)"
SIZE = f"length(message) + coalesce(length(attestation), 0) + {STORED_OVERHEAD}"  # stored_size() in SQL
LOAD = f"""
SELECT seq, topic, id, publisher, expires_at, {SIZE},
       EXISTS (SELECT 1 FROM receipts r WHERE r.seq = m.seq AND r.client_id != m.publisher)
FROM mailbox m ORDER BY expires_at, seq
"""
UNDELIVERED = """
SELECT topic, message, publisher, published_at, expires_at, tag, prompt, attestation FROM mailbox m
WHERE seq IN (SELECT value FROM json_each(?1)) AND expires_at > ?2 AND publisher != ?3
  AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.seq = m.seq AND r.client_id = ?3)
ORDER BY published_at, seq
"""
PAGE_IDS = """
SELECT seq, id FROM mailbox m
WHERE seq IN (SELECT value FROM json_each(?1)) AND expires_at > ?2 AND publisher != ?3
  AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.seq = m.seq AND r.client_id = ?3)
ORDER BY seq
"""
ONE = "SELECT topic, message, publisher, published_at, expires_at, tag, prompt, attestation FROM mailbox WHERE seq = ?"
COUNT = "SELECT count(*) FROM mailbox WHERE seq IN (SELECT value FROM json_each(?)) AND expires_at > ?"
PURGE = (
    "DELETE FROM mailbox WHERE seq IN (SELECT seq FROM mailbox WHERE expires_at <= ? ORDER BY expires_at LIMIT ?) RETURNING seq, topic, id, "
    + SIZE
)
PURGE_RECEIPTS = "DELETE FROM receipts WHERE seq IN (SELECT value FROM json_each(?))"


class _Topic:
    """What the store remembers about one topic (the rows themselves are in the file)."""

    __slots__ = ("seqs", "undelivered", "pending", "bytes")

    def __init__(self) -> None:
        self.seqs: dict[str, int] = {}
        """message id → row (seq), for every stored message, expired or not, until purged"""
        self.undelivered: dict[str, tuple[int, str]] = {}
        """message id → (expires_at, publisher) while no one but the publisher has acked it"""
        self.pending = Pending()
        self.bytes = 0
        """stored_size of every message held"""


class SqliteStore(MailboxStore):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db = open_file(self.path)
        self._topics: dict[str, _Topic] = {}
        self._bytes = 0
        self._txn: list[Callable[[BaseException | None], None]] | None = None
        """who waits for the commit of the open transaction (None: none open)"""
        self._txn_loop: asyncio.AbstractEventLoop | None = None
        self._load()
        self._syncer = WalSyncer(self.path + "-wal")

    def _load(self) -> None:
        """(Re)build the in-memory index from the file."""
        topics: dict[str, _Topic] = {}
        names: dict[str, str] = {}  # one string object per topic / publisher
        total = 0
        for seq, name, mid, publisher, expires_at, size, delivered in self._db.execute(LOAD):
            topic = topics.get(name)
            if topic is None:
                topic = topics[name] = _Topic()
            topic.seqs[mid] = seq
            topic.bytes += size
            total += size
            if not delivered:
                topic.undelivered[mid] = (expires_at, names.setdefault(publisher, publisher))
                topic.pending.add(expires_at, mid)
        self._topics = topics
        self._bytes = total

    # --- transactions -------------------------------------------------------------------------

    def _write(self) -> None:
        """Open a transaction unless one is; it commits at the loop's next turn."""
        txn = self._txn
        loop = asyncio.get_running_loop()
        if txn is not None:
            if self._txn_loop is loop:
                return
            self._commit(txn)  # left open by a loop that has stopped
        self._db.execute("BEGIN IMMEDIATE")
        txn = self._txn = []
        self._txn_loop = loop
        loop.call_soon(self._commit, txn)

    def _commit(self, txn: list[Callable[[BaseException | None], None]]) -> None:
        if self._txn is not txn:
            return  # already committed
        self._txn = None
        error: BaseException | None = None
        try:
            self._db.execute("COMMIT")
            self._syncer.written = True
        except Exception as exc:
            log.error("mailbox store: commit failed; what it held is lost: %s", exc)
            error = exc
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._load()  # forget what the rolled-back transaction added or delivered
        for callback in txn:
            try:
                callback(error)
            except Exception:
                log.exception("mailbox store: after-commit callback failed")

    def after_commit(self, callback: Callable[[BaseException | None], None]) -> None:
        if self._txn is None:
            callback(None)  # nothing waits to be committed
        else:
            self._txn.append(callback)

    # --- MailboxStore ---------------------------------------------------------------------------

    async def add(
        self,
        message: StoredMessage,
        max_undelivered: int | None = None,
        *,
        max_topic_bytes: int | None = None,
        max_store_bytes: int | None = None,
    ) -> bool:
        name, mid = message.topic, message.id
        topic = self._topics.get(name)
        if topic is not None:
            if mid in topic.seqs:
                return False
            if max_undelivered is not None and topic.pending.count(message.published_at) >= max_undelivered:
                raise MailboxFull(name)
        elif max_undelivered is not None and max_undelivered <= 0:
            raise MailboxFull(name)
        size = stored_size(message.message, message.attestation)
        if max_topic_bytes is not None and (topic.bytes if topic is not None else 0) + size > max_topic_bytes:
            raise MailboxFull(name, MailboxFull.TOPIC_BYTES)
        if max_store_bytes is not None and self._bytes + size > max_store_bytes:
            raise MailboxFull(name, MailboxFull.STORE_BYTES)
        self._write()
        m = message
        cursor = self._db.execute(
            INSERT,
            (name, mid, m.message, m.publisher, m.published_at, m.expires_at, m.tag, int(m.prompt), m.attestation),
        )
        seq = cast(int, cursor.lastrowid)  # an INSERT sets it
        if topic is None:
            topic = self._topics[name] = _Topic()
        topic.seqs[mid] = seq
        topic.undelivered[mid] = (m.expires_at, m.publisher)
        topic.pending.add(m.expires_at, mid)
        topic.bytes += size
        self._bytes += size
        return True

    async def stored_bytes(self, topic: str | None = None) -> int:
        if topic is None:
            return self._bytes
        known = self._topics.get(topic)
        return 0 if known is None else known.bytes

    async def undelivered_page(
        self,
        topic: str,
        client_id: str,
        now_ms: int,
        max_bytes: int,
        skip: frozenset[str] | set[str] = frozenset(),
    ) -> tuple[list[StoredMessage], bool]:
        """Ids first (no bodies), then bodies one by one until the page is full: never the whole topic in memory."""
        known = self._topics.get(topic)
        if known is None:
            return [], False
        ids = self._db.execute(PAGE_IDS, (json.dumps(list(known.seqs.values())), now_ms, client_id)).fetchall()
        out: list[StoredMessage] = []
        total = 0
        for seq, mid in ids:
            if mid in skip:
                continue
            row = self._db.execute(ONE, (seq,)).fetchone()
            if row is None:
                continue
            t, msg, pub, pa, ea, tag, prompt, att = row
            total += stored_size(msg, att) + PAGE_OVERHEAD
            if out and total > max_bytes:
                return out, True
            out.append(StoredMessage(t, msg, pub, pa, ea, tag, bool(prompt), att))
        return out, False

    async def undelivered(self, topic: str, client_id: str, now_ms: int) -> list[StoredMessage]:
        known = self._topics.get(topic)
        if known is None:
            return []
        rows = self._db.execute(UNDELIVERED, (json.dumps(list(known.seqs.values())), now_ms, client_id)).fetchall()
        return [
            StoredMessage(t, msg, pub, pa, ea, tag, bool(prompt), att) for t, msg, pub, pa, ea, tag, prompt, att in rows
        ]

    async def ack(self, topic: str, message_id: str, client_id: str) -> None:
        known = self._topics.get(topic)
        seq = known.seqs.get(message_id) if known is not None else None
        if seq is None:
            return  # an ack for a message we do not hold leaves no trace
        self._write()
        self._db.execute(RECEIPT, (seq, client_id))
        info = known.undelivered.get(message_id)  # type: ignore[union-attr]
        if info is not None and info[1] != client_id:
            del known.undelivered[message_id]  # type: ignore[union-attr]
            known.pending.remove(info[0], message_id)  # type: ignore[union-attr]

    async def contains(self, topic: str, message_id: str) -> bool:
        known = self._topics.get(topic)
        return known is not None and message_id in known.seqs

    async def count_undelivered(self, topic: str, now_ms: int) -> int:
        known = self._topics.get(topic)
        return 0 if known is None else known.pending.count(now_ms)

    async def count(self, topic: str, now_ms: int) -> int:
        known = self._topics.get(topic)
        if known is None:
            return 0
        count: int = self._db.execute(COUNT, (json.dumps(list(known.seqs.values())), now_ms)).fetchone()[0]
        return count

    async def purge(self, now_ms: int) -> int:
        gone = 0
        while True:
            self._write()
            rows = self._db.execute(PURGE, (now_ms, PURGE_CHUNK)).fetchall()
            if rows:
                self._db.execute(PURGE_RECEIPTS, (json.dumps([row[0] for row in rows]),))
            for _, name, mid, size in rows:
                topic = self._topics.get(name)
                if topic is None:
                    continue
                if topic.seqs.pop(mid, None) is not None:
                    topic.bytes -= size
                    self._bytes -= size
                info = topic.undelivered.pop(mid, None)
                if info is not None:
                    topic.pending.remove(info[0], mid)
                if not topic.seqs:
                    del self._topics[name]
            gone += len(rows)
            await self.committed()  # and lets the relay go on between chunks
            if len(rows) < PURGE_CHUNK:
                return gone

    async def close(self) -> None:
        if self._txn is not None:
            self._commit(self._txn)
        self._syncer.stop()
        self._db.close()
        self._syncer.release()
