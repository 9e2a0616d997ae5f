"""The relay client: status, reconnect with resubscribe, dedup, retries until acked, clear failures."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import pytest
from websockets.protocol import State

from tests.procs import free_port
from walletsync.protocol.relay_auth import RelayIdentity
from walletsync.protocol.relay_rpc import Publish, Subscribe
from walletsync.relay.mailboxes.memory import MemoryStore
from walletsync.relay.server import RelayServer
from walletsync.transport.client import RelayClient, RelayRejected, Status, TransportError

TOPIC = "ab" * 32


def client_for(url: str, **kwargs) -> RelayClient:
    return RelayClient(
        url, RelayIdentity(os.urandom(32)), backoff_base=0.05, backoff_cap=0.3, request_timeout=2.0, **kwargs
    )


async def relay_on(port: int, store: MemoryStore | None = None) -> RelayServer:
    server = RelayServer(store or MemoryStore(), port=port)
    await server.start()
    return server


async def next_status(statuses, state: str, timeout: float = 10.0) -> Status:
    async def wait() -> Status:
        async for status in statuses:
            if status.state == state:
                return status
        raise AssertionError("status stream ended")

    return await asyncio.wait_for(wait(), timeout)


async def test_status_goes_online_offline_online_and_topics_come_back():
    port = free_port()
    store = MemoryStore()
    server = await relay_on(port, store)
    subscriber, publisher = client_for(server.url), client_for(server.url)
    statuses = subscriber.statuses()
    await subscriber.start(), await publisher.start()
    try:
        assert (await next_status(statuses, "online")).reason is None
        await subscriber.subscribe(TOPIC)
        await server.stop()
        offline = await next_status(statuses, "offline")
        assert offline.reason, "offline must say why"
        server = await relay_on(port, store)
        await next_status(statuses, "online")
        await publisher.wait_online(10)
        await publisher.publish(Publish(TOPIC, "AAAAaGVsbG8=", ttl=300, tag=1108))
        delivered = await asyncio.wait_for(subscriber.inbox.get(), 10)
        assert (delivered.topic, delivered.message, delivered.tag) == (TOPIC, "AAAAaGVsbG8=", 1108)
    finally:
        await subscriber.close(), await publisher.close()
        await server.stop()


async def test_resubscribes_in_batches_of_500(caplog):
    server = await relay_on(0)
    client = client_for(server.url)
    client.topics = {f"{i:064x}" for i in range(1200)}
    caplog.set_level(logging.DEBUG, logger="walletsync.relay")
    try:
        await client.start()
        await client.wait_online(10)
        batches = [r.getMessage() for r in caplog.records if "irn_batchSubscribe" in r.getMessage()]
        assert sorted(len(b.split(" ")[-1].split(",")) for b in batches) == [200, 500, 500]  # pipelined, in a window
        assert sum(len(v) for v in server.subscribers.values()) == 1200
    finally:
        await client.close()
        await server.stop()


async def test_pushes_are_acked_and_deduplicated():
    server = await relay_on(0)
    publisher, subscriber = client_for(server.url), client_for(server.url)
    await publisher.start(), await subscriber.start()
    try:
        await publisher.wait_online(10)
        await publisher.publish(Publish(TOPIC, "AAAAc2FtZQ==", ttl=300))
        await subscriber.wait_online(10)
        await subscriber.subscribe(TOPIC)
        await subscriber.call(Subscribe(TOPIC))  # the relay pushes the mailbox again
        await publisher.publish(Publish(TOPIC, "AAAAbmV4dA==", ttl=300))  # on the same socket, after that push
        async with asyncio.timeout(10):
            first, second = await subscriber.inbox.get(), await subscriber.inbox.get()
        assert (first.message, second.message) == ("AAAAc2FtZQ==", "AAAAbmV4dA=="), "the repeat reached the engine"
        assert subscriber.inbox.empty()
        (client,) = [c for subs in server.subscribers.values() for c in subs]
        async with asyncio.timeout(10):  # every push, the repeat included, is acked
            while client.pushes:
                await asyncio.sleep(0.01)
        assert await server.store.undelivered(TOPIC, subscriber.identity.client_id, int(time.time() * 1000)) == []
    finally:
        await publisher.close(), await subscriber.close()
        await server.stop()


async def test_publish_waits_for_the_relay_and_is_retried_until_acked():
    port = free_port()
    client = client_for(f"ws://127.0.0.1:{port}")
    await client.start()
    publishing = asyncio.create_task(client.publish(Publish(TOPIC, "AAAAbGF0ZQ==", ttl=300), deadline=15))
    await asyncio.sleep(0.8)
    assert not publishing.done(), "no relay yet: the publish waits"
    server = await relay_on(port)
    try:
        await asyncio.wait_for(publishing, 15)
        assert await server.store.count(TOPIC, int(time.time() * 1000)) == 1
    finally:
        await client.close()
        await server.stop()


async def test_publish_on_a_connection_that_just_died_waits_for_the_reconnect():
    """A publish issued after the socket died but before the client noticed must not spin on the dead
    socket (starving the loop until its deadline): it waits for the reconnect and is delivered."""
    server = await relay_on(0)
    client = client_for(server.url)
    await client.start()
    try:
        await client.wait_online(10)
        ws = client._ws
        ws.transport.abort()
        while ws.state is not State.CLOSED:  # the socket is closed; the client's reader has not run yet
            await asyncio.sleep(0)
        await client.publish(Publish(TOPIC, "AAAAZGllZA==", ttl=300), deadline=10)
        assert client.status.state == "online" and client._ws is not ws
        assert await server.store.count(TOPIC, int(time.time() * 1000)) == 1
    finally:
        await client.close()
        await server.stop()


async def test_publish_gives_up_at_its_deadline_with_a_clear_error():
    client = client_for(f"ws://127.0.0.1:{free_port()}")
    await client.start()
    try:
        with pytest.raises(TransportError) as error:
            await client.publish(Publish(TOPIC, "AAAA", ttl=300), deadline=0.5)
        assert "irn_publish not acknowledged" in str(error.value) and "0.5 s" in str(error.value)
    finally:
        await client.close()


async def test_relay_refusal_is_final_and_named():
    server = await relay_on(0)
    client = client_for(server.url)
    await client.start()
    try:
        with pytest.raises(RelayRejected) as error:
            await client.publish(Publish(TOPIC, "AAAA", ttl=1))
        assert "TtlTooShort" in str(error.value)
    finally:
        await client.close()
        await server.stop()


async def test_rejected_auth_is_reported_and_backoff_is_capped():
    server = await relay_on(0)
    client = client_for(server.url, clock=lambda: time.time() - 10 * 86400)  # a badly skewed clock: expired JWT
    statuses = client.statuses()
    await client.start()
    try:
        offline = await next_status(statuses, "offline")
        assert "relay refused the connection: invalid JWT" in offline.reason
        attempts = []
        start = time.monotonic()
        while time.monotonic() - start < 2.0:
            status = await asyncio.wait_for(statuses.__anext__(), 3)
            if status.state == "connecting":
                attempts.append(status.attempt)
        assert attempts == sorted(attempts) and len(attempts) <= 2.0 / 0.05, attempts
        assert len(attempts) >= 3, "it keeps trying, with backoff capped at 0.3 s"
    finally:
        await client.close()
        await server.stop()
