"""Mailboxes in a dict: for tests and throwaway relays. Lost when the process ends."""

from __future__ import annotations

from walletsync.relay.mailbox import MailboxStore, StoredMessage


class MemoryStore(MailboxStore):
    def __init__(self) -> None:
        self._topics: dict[str, dict[str, StoredMessage]] = {}
        self._acks: dict[tuple[str, str], set[str]] = {}

    async def add(self, message: StoredMessage) -> bool:
        box = self._topics.setdefault(message.topic, {})
        if message.id in box:
            return False
        box[message.id] = message
        return True

    async def undelivered(self, topic: str, client_id: str, now_ms: int) -> list[StoredMessage]:
        pending = [
            m for m in self._topics.get(topic, {}).values()
            if m.expires_at > now_ms and m.publisher != client_id and client_id not in self._acks.get((topic, m.id), ())
        ]
        return sorted(pending, key=lambda m: m.published_at)

    async def ack(self, topic: str, message_id: str, client_id: str) -> None:
        if message_id in self._topics.get(topic, {}):
            self._acks.setdefault((topic, message_id), set()).add(client_id)

    async def contains(self, topic: str, message_id: str) -> bool:
        return message_id in self._topics.get(topic, {})

    async def count(self, topic: str, now_ms: int) -> int:
        return sum(1 for m in self._topics.get(topic, {}).values() if m.expires_at > now_ms)

    async def purge(self, now_ms: int) -> int:
        gone = 0
        for topic, box in list(self._topics.items()):
            for mid, message in list(box.items()):
                if message.expires_at <= now_ms:
                    del box[mid]
                    self._acks.pop((topic, mid), None)
                    gone += 1
            if not box:
                del self._topics[topic]
        return gone
