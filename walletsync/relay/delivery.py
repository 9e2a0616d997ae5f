"""Who is subscribed to which topic, and getting each stored message to them.

A published message is stored first (:class:`~walletsync.relay.mailbox.Mailbox`), then pushed to this
process's subscribers and announced to the other relay processes (:class:`Fanout`); a client that
subscribes later gets what the topic holds pushed right after its subscribe is answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from walletsync.protocol.relay_auth import subscription_id
from walletsync.protocol.relay_rpc import HANDLER_ERROR
from walletsync.relay.connection import FLUSH_SHARE, Client
from walletsync.relay.frames import data_json
from walletsync.relay.mailbox import Limits, Mailbox, MailboxStore, RelayRefusal, StoredMessage


class Fanout(Protocol):
    """Cross-process delivery (Redis pub/sub); absent for a single relay process."""

    async def start(self, deliver: Callable[[StoredMessage], Awaitable[None]]) -> None: ...
    async def announce(self, message: StoredMessage) -> None: ...
    async def stop(self) -> None: ...


class Delivery:
    """The topic → subscribed clients index of one relay process, and the pushes to them.

    ``fanout``, when given, must be started with :meth:`deliver_local` as its ``deliver``.
    """

    def __init__(self, mailbox: Mailbox, fanout: Fanout | None, clock: Callable[[], float]) -> None:
        self.mailbox = mailbox
        self.store: MailboxStore = mailbox.store
        self.limits: Limits = mailbox.limits
        self.fanout = fanout
        self.clock = clock
        self.subscribers: dict[str, set[Client]] = {}
        self._last_push = 0

    def subscribe(self, client: Client, topics: tuple[str, ...]) -> list[str]:
        """Subscribe ``client`` to ``topics``; their subscription ids, in the same order."""
        new = [t for t in dict.fromkeys(topics) if t not in client.topics]
        if len(client.topics) + len(new) > self.limits.max_topics_per_connection:
            raise RelayRefusal(
                f"more than {self.limits.max_topics_per_connection} topics on one connection",
                HANDLER_ERROR,
                "SubscriberLimitExceeded",
            )
        for topic in new:
            client.topics[topic] = subscription_id(topic, client.client_id)
            self.subscribers.setdefault(topic, set()).add(client)
        return [client.topics[t] for t in topics]

    def unsubscribe(self, client: Client, topic: str) -> None:
        client.topics.pop(topic, None)
        self._forget(client, topic)

    def disconnected(self, client: Client) -> None:
        """Take a client whose connection ended out of every topic (its own ``topics`` are left as they were)."""
        for topic in client.topics:
            self._forget(client, topic)

    def _forget(self, client: Client, topic: str) -> None:
        subs = self.subscribers.get(topic)
        if subs is not None:
            subs.discard(client)
            if not subs:
                del self.subscribers[topic]

    async def publish(
        self, client: Client, topic: str, message: str, ttl: int, tag: int, prompt: bool, attestation: str | None = None
    ) -> None:
        """Store a message ``client`` published, then deliver it here and on the other relay processes."""
        stored = await self.mailbox.publish(
            topic=topic,
            message=message,
            ttl=ttl,
            tag=tag,
            prompt=prompt,
            attestation=attestation,
            publisher=client.client_id,
            now=self.clock(),
        )
        if stored is None:
            return  # a retry or replay: stored and delivered already
        await self.deliver_local(stored)
        if self.fanout is not None:
            await self.fanout.announce(stored)

    async def deliver_local(self, message: StoredMessage) -> None:
        """Push a stored message to this process's subscribers of its topic, except its publisher."""
        subscribers = self.subscribers.get(message.topic)
        if not subscribers:
            return
        data = None
        for client in list(subscribers):
            if client.client_id != message.publisher:
                if data is None:
                    data = data_json(message)  # encoded once, shared by every push of this message
                client.push(self._next_push_id(), message, data)

    async def flush_mailboxes(self, client: Client, topics: tuple[str, ...]) -> None:
        """Push what each topic holds for this client: how messages reach late subscribers.

        A page at a time, each push once the client has room for it (:meth:`Client.room`): a big
        mailbox goes out as fast as the client reads, never all into memory at once.
        """
        page_bytes = max(1, int(self.limits.max_queued_bytes * FLUSH_SHARE))
        for topic in dict.fromkeys(topics):
            sent: set[str] = set()
            more = True
            while more:
                page, more = await self.store.undelivered_page(
                    topic, client.client_id, int(self.clock() * 1000), page_bytes, sent
                )
                if not page:
                    break
                for message in page:
                    sent.add(message.id)
                    if topic not in client.topics:
                        return  # unsubscribed meanwhile
                    data = data_json(message)
                    if not await client.room(len(data)):
                        return
                    client.push(self._next_push_id(), message, data)

    def _next_push_id(self) -> int:
        """Increasing ids, ``now_ms << 8`` (as ``push_id(now_ms, 0)``) unless that would not increase."""
        pid = int(self.clock() * 1000) << 8
        self._last_push = pid = pid if pid > self._last_push else self._last_push + 1
        return pid
