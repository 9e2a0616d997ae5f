"""Mailboxes in Redis, shared by several relay processes.

Each message is a key with Redis' own expiry; a sorted set per topic indexes
them by expiry; acks are a set per message with the same expiry. A second
sorted set per topic holds the undelivered messages (not yet acked by anyone
but their publisher), so the mailbox limit is one ZCOUNT. ``add`` and ``ack``
are Lua scripts: one round trip each, atomic across relay nodes. Cross-node
delivery goes through the pub/sub channel :data:`FANOUT_CHANNEL` (see
:class:`RedisFanout`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from walletsync.relay.mailbox import PAGE_OVERHEAD, MailboxFull, MailboxStore, StoredMessage, stored_size
from walletsync.relay.mailboxes import StoreUnavailable

__all__ = ["FANOUT_CHANNEL", "RedisFanout", "RedisStore", "StoreUnavailable"]

PREFIX = "walletsync:relay"
FANOUT_CHANNEL = f"{PREFIX}:fanout"


def _msg_key(topic: str, mid: str) -> str:
    return f"{PREFIX}:m:{topic}:{mid}"


def _ack_key(topic: str, mid: str) -> str:
    return f"{PREFIX}:a:{topic}:{mid}"


def _index_key(topic: str) -> str:
    return f"{PREFIX}:t:{topic}"


def _undelivered_key(topic: str) -> str:
    return f"{PREFIX}:u:{topic}"


def _topic_bytes_key(topic: str) -> str:
    return f"{PREFIX}:tb:{topic}"


TOTAL_BYTES_KEY = f"{PREFIX}:bytes"
LEDGER_KEY = f"{PREFIX}:ledger"
"""sorted set of ``topic/id`` by expiry: what the byte counters hold, so purge can take it off them"""
SIZES_KEY = f"{PREFIX}:sizes"
PAGE_CHUNK = 16
"""messages read per round trip while filling a page"""


# KEYS: message, index, undelivered, topic bytes, total bytes, ledger, sizes.
# ARGV: json, ttl ms, expires_at, id, now ms, limit, size, max topic bytes, max total bytes, ledger member ("" = no limit).
# Returns 1 stored, 0 duplicate, -1 too many undelivered, -2 topic bytes full, -3 store bytes full.
ADD_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[6] ~= '' and redis.call('ZCOUNT', KEYS[3], '(' .. ARGV[5], '+inf') >= tonumber(ARGV[6]) then return -1 end
local size = tonumber(ARGV[7])
local grow = size - tonumber(redis.call('HGET', KEYS[7], ARGV[10]) or '0')
if ARGV[8] ~= '' and tonumber(redis.call('GET', KEYS[4]) or '0') + grow > tonumber(ARGV[8]) then return -2 end
if ARGV[9] ~= '' and tonumber(redis.call('GET', KEYS[5]) or '0') + grow > tonumber(ARGV[9]) then return -3 end
redis.call('INCRBY', KEYS[4], grow)
redis.call('INCRBY', KEYS[5], grow)
redis.call('ZADD', KEYS[6], ARGV[3], ARGV[10])
redis.call('HSET', KEYS[7], ARGV[10], size)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 2, 3 do
    redis.call('ZADD', KEYS[i], ARGV[3], ARGV[4])
    redis.call('PEXPIREAT', KEYS[i], ARGV[3], 'GT')
    redis.call('PEXPIREAT', KEYS[i], ARGV[3], 'NX')
end
return 1
"""

# KEYS: index, acks, undelivered, message. ARGV: id, client id.
ACK_SCRIPT = """
local expires = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expires then return 0 end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIREAT', KEYS[2], expires)
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then
    local raw = redis.call('GET', KEYS[4])
    if not raw or cjson.decode(raw)['publisher'] ~= ARGV[2] then redis.call('ZREM', KEYS[3], ARGV[1]) end
end
return 1
"""


# KEYS: ledger, sizes, total bytes. ARGV: now ms, how many, topic-bytes key prefix.
# Takes expired messages off the byte counters (atomically: nodes purging together count each once).
UNCOUNT_SCRIPT = """
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(members) do
    local size = tonumber(redis.call('HGET', KEYS[2], member) or '0')
    redis.call('DECRBY', KEYS[3], size)
    local key = ARGV[3] .. string.match(member, '^(.*)/')
    if redis.call('DECRBY', key, size) <= 0 then redis.call('DEL', key) end
    redis.call('HDEL', KEYS[2], member)
    redis.call('ZREM', KEYS[1], member)
end
return #members
"""
UNCOUNT_CHUNK = 1000


class RedisStore(MailboxStore):
    def __init__(self, url: str) -> None:
        self.url = url
        self.redis = aioredis.from_url(url, decode_responses=True)
        self._add = self.redis.register_script(ADD_SCRIPT)
        self._ack = self.redis.register_script(ACK_SCRIPT)
        self._uncount = self.redis.register_script(UNCOUNT_SCRIPT)

    async def check(self) -> None:
        """Reach Redis now, so a wrong URL is one clear error at startup rather than failures later."""
        try:
            await self.redis.ping()
        except RedisError as exc:
            await self.close()
            raise StoreUnavailable(f"cannot reach Redis at {self.url}: {exc}") from None

    async def add(
        self,
        m: StoredMessage,
        max_undelivered: int | None = None,
        *,
        max_topic_bytes: int | None = None,
        max_store_bytes: int | None = None,
    ) -> bool:
        ttl_ms = max(1, m.expires_at - m.published_at)
        keys = [
            _msg_key(m.topic, m.id),
            _index_key(m.topic),
            _undelivered_key(m.topic),
            _topic_bytes_key(m.topic),
            TOTAL_BYTES_KEY,
            LEDGER_KEY,
            SIZES_KEY,
        ]

        def opt(value: int | None) -> int | str:
            return "" if value is None else value

        args = [
            json.dumps(m.to_json()),
            ttl_ms,
            m.expires_at,
            m.id,
            m.published_at,
            opt(max_undelivered),
            stored_size(m.message, m.attestation),
            opt(max_topic_bytes),
            opt(max_store_bytes),
            f"{m.topic}/{m.id}",
        ]
        result: int = await self._add(keys=keys, args=args)
        if result < 0:
            raise MailboxFull(
                m.topic, {-1: MailboxFull.MESSAGES, -2: MailboxFull.TOPIC_BYTES}.get(result, MailboxFull.STORE_BYTES)
            )
        return result == 1

    async def _ids(self, key: str, low: str | int, high: str | int) -> list[str]:
        """``ZRANGEBYSCORE key low high``: message ids (the connection decodes replies to str)."""
        return cast(list[str], await self.redis.zrangebyscore(key, low, high))

    async def stored_bytes(self, topic: str | None = None) -> int:
        return int(await self.redis.get(TOTAL_BYTES_KEY if topic is None else _topic_bytes_key(topic)) or 0)

    async def undelivered_page(
        self,
        topic: str,
        client_id: str,
        now_ms: int,
        max_bytes: int,
        skip: frozenset[str] | set[str] = frozenset(),
    ) -> tuple[list[StoredMessage], bool]:
        """In expiry order (publish order for messages of one TTL), a few messages per round trip."""
        ids = [mid for mid in await self._ids(_index_key(topic), f"({now_ms}", "+inf") if mid not in skip]
        out: list[StoredMessage] = []
        total = 0
        for start in range(0, len(ids), PAGE_CHUNK):
            async with self.redis.pipeline(transaction=False) as pipe:
                for mid in ids[start : start + PAGE_CHUNK]:
                    pipe.get(_msg_key(topic, mid))
                    pipe.sismember(_ack_key(topic, mid), client_id)
                replies = await pipe.execute()
            for raw, acked in zip(replies[::2], replies[1::2]):
                if not raw or acked:
                    continue
                message = StoredMessage.from_json(json.loads(raw))
                if message.publisher == client_id or message.expires_at <= now_ms:
                    continue
                total += stored_size(message.message, message.attestation) + PAGE_OVERHEAD
                if out and total > max_bytes:
                    return out, True
                out.append(message)
        return out, False

    async def undelivered(self, topic: str, client_id: str, now_ms: int) -> list[StoredMessage]:
        ids = await self._ids(_index_key(topic), f"({now_ms}", "+inf")
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for mid in ids:
                pipe.get(_msg_key(topic, mid))
                pipe.sismember(_ack_key(topic, mid), client_id)
            replies = await pipe.execute()
        out = []
        for raw, acked in zip(replies[::2], replies[1::2]):
            if raw and not acked:
                message = StoredMessage.from_json(json.loads(raw))
                if message.publisher != client_id and message.expires_at > now_ms:
                    out.append(message)
        return sorted(out, key=lambda m: m.published_at)

    async def ack(self, topic: str, message_id: str, client_id: str) -> None:
        keys = [_index_key(topic), _ack_key(topic, message_id), _undelivered_key(topic), _msg_key(topic, message_id)]
        await self._ack(keys=keys, args=[message_id, client_id])

    async def contains(self, topic: str, message_id: str) -> bool:
        return bool(await self.redis.exists(_msg_key(topic, message_id)))

    async def count_undelivered(self, topic: str, now_ms: int) -> int:
        return await self.redis.zcount(_undelivered_key(topic), f"({now_ms}", "+inf")

    async def count(self, topic: str, now_ms: int) -> int:
        return await self.redis.zcount(_index_key(topic), f"({now_ms}", "+inf")

    async def purge(self, now_ms: int) -> int:
        """Drop the index entries (and any keys Redis has not expired yet) of messages expired at ``now_ms``."""
        gone = 0
        prefix = _index_key("")
        async for key in self.redis.scan_iter(match=f"{prefix}*", count=500):
            topic = key[len(prefix) :]
            ids = await self._ids(key, "-inf", now_ms)
            if not ids:
                continue
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(*(_msg_key(topic, mid) for mid in ids), *(_ack_key(topic, mid) for mid in ids))
                pipe.zrem(key, *ids)
                pipe.zrem(_undelivered_key(topic), *ids)
                await pipe.execute()
            gone += len(ids)
        while (
            await self._uncount(
                keys=[LEDGER_KEY, SIZES_KEY, TOTAL_BYTES_KEY], args=[now_ms, UNCOUNT_CHUNK, _topic_bytes_key("")]
            )
            == UNCOUNT_CHUNK
        ):
            pass
        return gone

    async def close(self) -> None:
        await self.redis.aclose()


class RedisFanout:
    """Tells every relay node about each new message so the node holding the subscriber pushes it."""

    def __init__(self, store: RedisStore, node_id: str) -> None:
        self.store = store
        self.node_id = node_id
        self._task: asyncio.Task[None] | None = None

    async def start(self, deliver: Callable[[StoredMessage], Awaitable[None]]) -> None:
        pubsub = self.store.redis.pubsub()
        await pubsub.subscribe(FANOUT_CHANNEL)

        async def pump() -> None:
            async for item in pubsub.listen():
                if item.get("type") != "message":
                    continue
                payload = json.loads(item["data"])
                if payload.get("node") != self.node_id:
                    await deliver(StoredMessage.from_json(payload["message"]))

        self._task = asyncio.create_task(pump(), name="redis-fanout")

    async def announce(self, message: StoredMessage) -> None:
        await self.store.redis.publish(FANOUT_CHANNEL, json.dumps({"node": self.node_id, "message": message.to_json()}))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
