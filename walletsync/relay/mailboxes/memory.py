"""Mailboxes in a dict: for tests and throwaway relays. Lost when the process ends.

Messages are kept as plain tuples (and acks as tuples of client ids): once Python's
garbage collector has seen them it stops tracking them, so a relay holding many
messages does not pay for them in every full collection.
"""

from __future__ import annotations

from typing import Any

from walletsync.relay.mailbox import MailboxFull, MailboxStore, StoredMessage, stored_size
from walletsync.relay.mailboxes.pending import Pending

_Row = tuple[Any, ...]  # StoredMessage's fields, in order
_MESSAGE, _PUBLISHER, _EXPIRES_AT, _ATTESTATION = 1, 2, 4, 7


class _Box:
    __slots__ = ("messages", "acks", "pending", "bytes")

    def __init__(self) -> None:
        self.messages: dict[str, _Row] = {}
        """id → the message's fields, in the order they came"""
        self.acks: dict[str, tuple[str, ...]] = {}
        """id → the clients that acked it"""
        self.pending = Pending()
        """the messages no one but their publisher has acked"""
        self.bytes = 0
        """stored_size of every message held"""


class MemoryStore(MailboxStore):
    def __init__(self) -> None:
        self._topics: dict[str, _Box] = {}
        self._bytes = 0

    async def add(
        self,
        message: StoredMessage,
        max_undelivered: int | None = None,
        *,
        max_topic_bytes: int | None = None,
        max_store_bytes: int | None = None,
    ) -> bool:
        box = self._topics.get(message.topic)
        if box is None:
            box = self._topics[message.topic] = _Box()
        mid = message.id
        if mid in box.messages:
            return False
        if max_undelivered is not None and box.pending.count(message.published_at) >= max_undelivered:
            raise MailboxFull(message.topic)
        m = message
        size = stored_size(m.message, m.attestation)
        if max_topic_bytes is not None and box.bytes + size > max_topic_bytes:
            raise MailboxFull(m.topic, MailboxFull.TOPIC_BYTES)
        if max_store_bytes is not None and self._bytes + size > max_store_bytes:
            raise MailboxFull(m.topic, MailboxFull.STORE_BYTES)
        box.messages[mid] = (
            m.topic,
            m.message,
            m.publisher,
            m.published_at,
            m.expires_at,
            m.tag,
            m.prompt,
            m.attestation,
        )
        box.pending.add(m.expires_at, mid)
        box.bytes += size
        self._bytes += size
        return True

    async def stored_bytes(self, topic: str | None = None) -> int:
        if topic is None:
            return self._bytes
        box = self._topics.get(topic)
        return 0 if box is None else box.bytes

    async def undelivered(self, topic: str, client_id: str, now_ms: int) -> list[StoredMessage]:
        box = self._topics.get(topic)
        if box is None:
            return []
        acks = box.acks
        pending = [
            StoredMessage(*row)
            for mid, row in box.messages.items()
            if row[_EXPIRES_AT] > now_ms and row[_PUBLISHER] != client_id and client_id not in acks.get(mid, ())
        ]
        return sorted(pending, key=lambda m: m.published_at)

    async def ack(self, topic: str, message_id: str, client_id: str) -> None:
        box = self._topics.get(topic)
        row = box.messages.get(message_id) if box is not None else None
        if row is None:
            return  # an ack for a message we do not hold leaves no trace
        clients = box.acks.get(message_id, ())  # type: ignore[union-attr]
        if client_id in clients:
            return
        box.acks[message_id] = (*clients, client_id)  # type: ignore[union-attr]
        if client_id != row[_PUBLISHER]:
            box.pending.remove(row[_EXPIRES_AT], message_id)  # type: ignore[union-attr]

    async def contains(self, topic: str, message_id: str) -> bool:
        box = self._topics.get(topic)
        return box is not None and message_id in box.messages

    async def count_undelivered(self, topic: str, now_ms: int) -> int:
        box = self._topics.get(topic)
        return 0 if box is None else box.pending.count(now_ms)

    async def count(self, topic: str, now_ms: int) -> int:
        box = self._topics.get(topic)
        return 0 if box is None else sum(1 for row in box.messages.values() if row[_EXPIRES_AT] > now_ms)

    async def purge(self, now_ms: int) -> int:
        gone = 0
        for topic, box in list(self._topics.items()):
            expired = [mid for mid, row in box.messages.items() if row[_EXPIRES_AT] <= now_ms]
            for mid in expired:
                row = box.messages.pop(mid)
                size = stored_size(row[_MESSAGE], row[_ATTESTATION])
                box.bytes -= size
                self._bytes -= size
                box.acks.pop(mid, None)
            gone += len(expired)
            box.pending.drop_expired(now_ms)
            if not box.messages:
                del self._topics[topic]
        return gone
