"""Mailboxes in Redis, shared by several relay processes.

Each message is a key with Redis' own expiry; a sorted set per topic indexes
them by expiry; acks are a set per message with the same expiry. Cross-node
delivery goes through the pub/sub channel :data:`FANOUT_CHANNEL` (see
:class:`RedisFanout`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from walletsync.errors import WalletsyncError

from walletsync.relay.mailbox import MailboxStore, StoredMessage

class StoreUnavailable(WalletsyncError):
    code = "store_unavailable"


PREFIX = "walletsync:relay"
FANOUT_CHANNEL = f"{PREFIX}:fanout"


def _msg_key(topic: str, mid: str) -> str:
    return f"{PREFIX}:m:{topic}:{mid}"


def _ack_key(topic: str, mid: str) -> str:
    return f"{PREFIX}:a:{topic}:{mid}"


def _index_key(topic: str) -> str:
    return f"{PREFIX}:t:{topic}"


class RedisStore(MailboxStore):
    def __init__(self, url: str) -> None:
        self.url = url
        self.redis = aioredis.from_url(url, decode_responses=True)

    async def check(self) -> None:
        """Reach Redis now, so a wrong URL is one clear error at startup rather than failures later."""
        try:
            await self.redis.ping()
        except RedisError as exc:
            await self.close()
            raise StoreUnavailable(f"cannot reach Redis at {self.url}: {exc}") from None

    async def add(self, m: StoredMessage) -> bool:
        ttl_ms = max(1, m.expires_at - m.published_at)
        created = await self.redis.set(_msg_key(m.topic, m.id), json.dumps(m.to_json()), nx=True, px=ttl_ms)
        if not created:
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(_index_key(m.topic), {m.id: m.expires_at})
            pipe.pexpireat(_index_key(m.topic), m.expires_at, gt=True)
            pipe.pexpireat(_index_key(m.topic), m.expires_at, nx=True)
            await pipe.execute()
        return True

    async def undelivered(self, topic: str, client_id: str, now_ms: int) -> list[StoredMessage]:
        ids = await self.redis.zrangebyscore(_index_key(topic), f"({now_ms}", "+inf")
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
        expires = await self.redis.zscore(_index_key(topic), message_id)
        if expires is None:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(_ack_key(topic, message_id), client_id)
            pipe.pexpireat(_ack_key(topic, message_id), int(expires))
            await pipe.execute()

    async def contains(self, topic: str, message_id: str) -> bool:
        return bool(await self.redis.exists(_msg_key(topic, message_id)))

    async def count(self, topic: str, now_ms: int) -> int:
        return await self.redis.zcount(_index_key(topic), f"({now_ms}", "+inf")

    async def purge(self, now_ms: int) -> int:
        gone = 0
        async for key in self.redis.scan_iter(match=f"{PREFIX}:t:*", count=500):
            gone += await self.redis.zremrangebyscore(key, "-inf", now_ms)
        return gone

    async def close(self) -> None:
        await self.redis.aclose()


class RedisFanout:
    """Tells every relay node about each new message so the node holding the subscriber pushes it."""

    def __init__(self, store: RedisStore, node_id: str) -> None:
        self.store = store
        self.node_id = node_id
        self._task: asyncio.Task | None = None

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
