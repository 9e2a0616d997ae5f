"""Mailbox rules, independent of sockets and of where messages are kept.

A message lives in its topic's mailbox until its TTL ends. Every client that
subscribes gets each unexpired message it has not acked and did not publish
itself; a message's id is sha256(message), so a republished (retried) message
is stored once. Stores implement :class:`MailboxStore`; :class:`Mailbox` applies
the limits and says why a publish is refused.

The mailbox-size limit is about messages nobody has taken yet: a message counts
against ``Limits.max_messages_per_mailbox`` while it is unexpired and no client
other than its publisher has acked it. An acked message stays stored (and is
still pushed to clients that subscribe later, e.g. a second device) until its
TTL ends, but no longer fills the mailbox, so a topic whose subscriber keeps up
never fills however busy it is; a topic nobody reads fills at the limit.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from walletsync.errors import WalletsyncError
from walletsync.protocol.relay_rpc import HANDLER_ERROR, INVALID_REQUEST, TOO_MANY_REQUESTS, MessageData


class RelayRefusal(WalletsyncError):
    """A request the relay refuses: ``rpc_code`` and ``tag`` go into the JSON-RPC error (reference §7.3)."""

    code = "relay_refused"

    def __init__(self, message: str, rpc_code: int, tag: str) -> None:
        super().__init__(message)
        self.rpc_code = rpc_code
        self.tag = tag


@dataclass(frozen=True)
class Limits:
    """What one client may do. Defaults fit the JS SDK (TTL 30 s … 7 days, batches of 500)."""

    max_frame_bytes: int = 512 * 1024
    max_message_chars: int = 256 * 1024
    min_ttl: int = 10
    max_ttl: int = 30 * 24 * 3600
    max_topics_per_connection: int = 10_000
    max_messages_per_mailbox: int = 1_000
    publish_rate: float = 100.0
    """Sustained publishes per second per client id."""
    publish_burst: int = 500
    ip_publish_rate: float = 200.0
    """Sustained publishes per second per source address (client ids are free; addresses are not)."""
    ip_publish_burst: int = 1_000
    ip_byte_rate: float = 1024 * 1024
    """Sustained published message bytes per second per source address."""
    ip_byte_burst: int = 16 * 1024 * 1024
    max_topic_bytes: int = 16 * 1024 * 1024
    """Message bytes one topic may hold (unexpired, delivered or not)."""
    max_store_bytes: int = 256 * 1024 * 1024
    """Message bytes the whole store may hold (every relay node sharing one Redis counts together)."""
    max_queued_bytes: int = 4 * 1024 * 1024
    """Bytes waiting to be read by one connection; a client that lets more pile up is disconnected."""
    max_reply_bytes: int = 1024 * 1024
    """About the most message bytes one irn_fetchMessages / irn_batchFetchMessages reply carries (then hasMore)."""


class _CachedId:
    """``StoredMessage.id``: computed once, then read from the instance dict (like functools.cached_property, minus its lock)."""

    def __get__(self, obj: StoredMessage | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__["id"] = message_id(obj.message)
        return value


@dataclass(frozen=True)
class StoredMessage:
    topic: str
    message: str
    publisher: str
    published_at: int
    """unix ms"""
    expires_at: int
    """unix ms"""
    tag: int = 0
    prompt: bool = False
    attestation: str | None = None

    id = _CachedId()
    """sha256(message) hex, computed on first use (not a field: not compared, not in to_json)"""

    def to_data(self) -> MessageData:
        return MessageData(self.topic, self.message, self.published_at, self.tag, self.attestation)

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "message": self.message,
            "publisher": self.publisher,
            "published_at": self.published_at,
            "expires_at": self.expires_at,
            "tag": self.tag,
            "prompt": self.prompt,
            "attestation": self.attestation,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> StoredMessage:
        return cls(**obj)


def message_id(message: str) -> str:
    return hashlib.sha256(message.encode("utf-8")).hexdigest()


STORED_OVERHEAD = 200
"""what each message counts against the byte limits beyond its text: about what keeping it costs
(its index entries, ids, fields), so a flood of tiny messages is bounded too"""


def stored_size(message: str, attestation: str | None = None) -> int:
    """What a message counts against the byte limits: its text (and attestation), in characters, plus :data:`STORED_OVERHEAD`."""
    return len(message) + (len(attestation) if attestation else 0) + STORED_OVERHEAD


PAGE_OVERHEAD = 256
"""what a message adds to a reply beyond its text (topic, tag, keys): for sizing pages"""


class MailboxFull(Exception):
    """:meth:`MailboxStore.add` refused a new message: one of its limits is reached (``what``: which)."""

    MESSAGES, TOPIC_BYTES, STORE_BYTES = "messages", "topic bytes", "store bytes"

    def __init__(self, topic: str, what: str = MESSAGES) -> None:
        super().__init__(topic, what)
        self.topic, self.what = topic, what


class MailboxStore(abc.ABC):
    """Where mailboxes live. All times are unix ms; every method is one atomic step.

    A message is *undelivered* while it is unexpired and no client other than its
    publisher has acked it; only undelivered messages count against the mailbox
    limit (:meth:`add`'s ``max_undelivered``). Acks of messages the store does not
    hold are dropped and leave no trace. Every store answers :meth:`add`'s limit
    check and :meth:`count_undelivered` from an index or counter, never by walking
    the topic's messages.

    What a method stored is seen by every later call at once. It may become
    durable (survive a crash of the relay process) a little later, in a commit
    the store groups with others: :meth:`after_commit` says when. A publish is
    answered only then.
    """

    @abc.abstractmethod
    async def add(
        self,
        message: StoredMessage,
        max_undelivered: int | None = None,
        *,
        max_topic_bytes: int | None = None,
        max_store_bytes: int | None = None,
    ) -> bool:
        """Store ``message``; False when the topic already holds a message with the same id (expired or not).

        With ``max_undelivered``, raises :class:`MailboxFull` instead of storing when the topic
        already holds that many undelivered messages at ``message.published_at``; likewise when
        the message's :func:`stored_size` would take the topic's stored bytes past
        ``max_topic_bytes`` or the whole store's past ``max_store_bytes`` (bytes count until the
        message is purged). A duplicate is still just False then (a retry into a full mailbox is
        a harmless no-op).
        """

    @abc.abstractmethod
    async def stored_bytes(self, topic: str | None = None) -> int:
        """The :func:`stored_size` total of what ``topic`` (or, with None, the whole store) holds until purged."""

    def after_commit(self, callback: Callable[[BaseException | None], None]) -> None:
        """Call ``callback(None)`` once everything stored so far is durable, or ``callback(error)``
        if that commit failed (what it held is then forgotten). Stores that are durable (or never
        durable, like memory) as soon as a call returns call it right away, as this default does."""
        callback(None)

    async def committed(self) -> None:
        """Wait until everything stored so far is durable (raises if that commit failed)."""
        future = asyncio.get_running_loop().create_future()

        def done(error: BaseException | None) -> None:
            if future.done():
                return
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

        self.after_commit(done)
        await future

    @abc.abstractmethod
    async def undelivered(self, topic: str, client_id: str, now_ms: int) -> list[StoredMessage]:
        """Unexpired messages on ``topic`` that ``client_id`` neither published nor acked, oldest first."""

    async def undelivered_page(
        self,
        topic: str,
        client_id: str,
        now_ms: int,
        max_bytes: int,
        skip: frozenset[str] | set[str] = frozenset(),
    ) -> tuple[list[StoredMessage], bool]:
        """A page of :meth:`undelivered` (leaving out ids in ``skip``): the oldest messages whose
        sizes (:func:`stored_size` + :data:`PAGE_OVERHEAD` each) fit in ``max_bytes`` — at least one,
        however big — and whether more remain. Stores override it to avoid loading the whole topic."""
        out: list[StoredMessage] = []
        total = 0
        for message in await self.undelivered(topic, client_id, now_ms):
            if message.id in skip:
                continue
            total += stored_size(message.message, message.attestation) + PAGE_OVERHEAD
            if out and total > max_bytes:
                return out, True
            out.append(message)
        return out, False

    @abc.abstractmethod
    async def ack(self, topic: str, message_id: str, client_id: str) -> None:
        """Record that ``client_id`` received the message; it is not redelivered to that client.

        An ack by anyone but the publisher also makes the message stop counting as undelivered.
        """

    @abc.abstractmethod
    async def contains(self, topic: str, message_id: str) -> bool:
        """Does ``topic`` hold the message (expired or not)?"""

    @abc.abstractmethod
    async def count_undelivered(self, topic: str, now_ms: int) -> int:
        """Undelivered messages on ``topic`` at ``now_ms``: unexpired, not acked by anyone but their publisher."""

    @abc.abstractmethod
    async def count(self, topic: str, now_ms: int) -> int:
        """Unexpired messages on ``topic``, delivered or not. For tests and diagnostics: the relay never asks, and it may walk the topic."""

    @abc.abstractmethod
    async def purge(self, now_ms: int) -> int:
        """Drop expired messages (and their acks); returns how many went."""

    async def close(self) -> None:
        """Release connections and files."""


class TokenBucket:
    """Publish rate limit per client id; time comes in, so it is testable without waiting."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client_id: str, now: float, cost: int = 1) -> bool:
        tokens, last = self._buckets.get(client_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < cost:
            self._buckets[client_id] = (tokens, now)
            return False
        self._buckets[client_id] = (tokens - cost, now)
        if len(self._buckets) > 100_000:
            self._buckets.pop(next(iter(self._buckets)))
        return True


class Mailbox:
    """Applies :class:`Limits` around a :class:`MailboxStore`."""

    def __init__(self, store: MailboxStore, limits: Limits | None = None) -> None:
        self.store = store
        self.limits = limits = limits or Limits()
        self._rate = TokenBucket(limits.publish_rate, limits.publish_burst)
        self._ip_rate = TokenBucket(limits.ip_publish_rate, limits.ip_publish_burst)
        self._ip_bytes = TokenBucket(limits.ip_byte_rate, limits.ip_byte_burst)

    def check_rate(
        self, client_id: str, now: float, cost: int = 1, *, address: str | None = None, size: int = 0
    ) -> None:
        """Refuse (TooManyRequests) past the publish rate of the client id, or of its source address
        (publishes and their bytes: a new client id costs nothing, a new address does)."""
        limits = self.limits
        if address is not None:
            if not self._ip_rate.take(address, now, cost):
                raise RelayRefusal(
                    f"more than {limits.ip_publish_rate:g} publishes/s from one address",
                    TOO_MANY_REQUESTS,
                    "TooManyRequests",
                )
            if size and not self._ip_bytes.take(address, now, size):
                raise RelayRefusal(
                    f"more than {limits.ip_byte_rate:g} message bytes/s from one address",
                    TOO_MANY_REQUESTS,
                    "TooManyRequests",
                )
        if not self._rate.take(client_id, now, cost):
            raise RelayRefusal(f"more than {limits.publish_rate:g} publishes/s", TOO_MANY_REQUESTS, "TooManyRequests")

    async def publish(
        self,
        *,
        topic: str,
        message: str,
        ttl: int,
        tag: int,
        prompt: bool,
        attestation: str | None,
        publisher: str,
        now: float,
    ) -> StoredMessage | None:
        """Store a message; returns it when new (to fan out), None for a duplicate. Raises :class:`RelayRefusal`."""
        limits = self.limits
        if ttl < limits.min_ttl:
            raise RelayRefusal(f"ttl {ttl} s is below the minimum {limits.min_ttl} s", INVALID_REQUEST, "TtlTooShort")
        if ttl > limits.max_ttl:
            raise RelayRefusal(f"ttl {ttl} s is above the maximum {limits.max_ttl} s", INVALID_REQUEST, "TtlTooLong")
        if len(message) > limits.max_message_chars:
            raise RelayRefusal(
                f"message is {len(message)} chars; at most {limits.max_message_chars}",
                INVALID_REQUEST,
                "PayloadSizeExceeded",
            )
        for name, text in (("message", message), ("attestation", attestation)):
            if text is not None and not _is_utf8(text):
                raise RelayRefusal(f"{name} is not valid Unicode (a lone surrogate)", INVALID_REQUEST, "InvalidPayload")
        now_ms = int(now * 1000)
        stored = StoredMessage(topic, message, publisher, now_ms, now_ms + ttl * 1000, tag, prompt, attestation)
        try:
            # a retry of a stored message is False (a harmless no-op) even when the mailbox is full
            added = await self.store.add(
                stored,
                limits.max_messages_per_mailbox,
                max_topic_bytes=limits.max_topic_bytes,
                max_store_bytes=limits.max_store_bytes,
            )
        except MailboxFull as full:
            if full.what == MailboxFull.STORE_BYTES:
                why = f"the relay's store is full ({limits.max_store_bytes} bytes)"
            elif full.what == MailboxFull.TOPIC_BYTES:
                why = f"mailbox of {topic[:12]}… is full ({limits.max_topic_bytes} bytes)"
            else:
                why = f"mailbox of {topic[:12]}… is full ({limits.max_messages_per_mailbox} undelivered messages)"
            raise RelayRefusal(why, HANDLER_ERROR, "MailboxLimitExceeded") from None
        return stored if added else None


def _is_utf8(text: str) -> bool:
    """Can ``text`` be encoded (no lone surrogates, which JSON's \\ud800 escapes can produce)?"""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
