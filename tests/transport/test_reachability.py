"""A relay that cannot be reached is said at once; what the relay kept is fetched until it says there is no more."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket

import pytest

from tests.transport.test_client import client_for, next_status, relay_on
from walletsync.protocol.relay_rpc import BatchFetchMessages, Publish
from walletsync.relay.mailbox import Limits
from walletsync.relay.mailboxes.memory import MemoryStore
from walletsync.relay.methods import HANDLERS
from walletsync.relay.server import RelayServer
from walletsync.transport.client import RelayUnreachable, Status

TOPICS = ("ab" * 32, "cd" * 32)


@pytest.fixture
def closed_port():
    """A port bound on 127.0.0.1 but not listening: every connection to it is refused, and no one else takes it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_a_refused_first_attempt_is_reported_without_a_retry(closed_port):
    """The first attempt is refused: waiting fails with that reason while the client has made one attempt, no more;
    the link status says the same."""
    client = client_for(f"ws://127.0.0.1:{closed_port}")
    await client.start()
    try:
        with pytest.raises(RelayUnreachable) as caught:
            await client.wait_online(60, fail_fast=True)
        assert str(caught.value) == f"cannot reach the relay at ws://127.0.0.1:{closed_port}: connection refused"
        assert caught.value.code == "relay_unreachable"
        assert client.status == Status("offline", "connection refused", attempt=0, unreachable=True)
    finally:
        await client.close()


async def test_a_name_that_does_not_resolve_is_reported_at_once():
    client = client_for("ws://nonexistent.invalid:8787")
    await client.start()
    try:
        with pytest.raises(RelayUnreachable) as caught:
            await client.wait_online(60, fail_fast=True)
        assert str(caught.value).startswith("cannot reach the relay at ws://nonexistent.invalid:8787: ")
        assert "nonexistent.invalid" in caught.value.why and client.status.attempt == 0
    finally:
        await client.close()


async def test_a_link_known_to_be_down_says_so_while_it_keeps_reconnecting():
    """The relay stops after the link was up: once an attempt is refused, a fail-fast wait says so at once, a patient
    one waits; when the relay is back the client reconnects by itself and both kinds of wait return."""
    server = await relay_on(0)
    port = server.port
    client = client_for(server.url)
    statuses = client.statuses()
    await client.start()
    try:
        await client.wait_online(10)
        await server.stop()
        async with asyncio.timeout(10):
            async for status in statuses:
                if status.unreachable:
                    break
        with pytest.raises(RelayUnreachable, match="connection refused"):
            await client.wait_online(60, fail_fast=True)
        patient = asyncio.ensure_future(client.wait_online(60))
        await asyncio.sleep(0)
        assert not patient.done()
        server = await relay_on(port)
        await next_status(statuses, "online")
        await asyncio.wait_for(patient, 10)
        await client.wait_online(10, fail_fast=True)
    finally:
        await client.close()
        await server.stop()


async def test_fetching_what_the_relay_kept_goes_until_it_has_no_more(caplog):
    """Messages stored on two topics, more than one fetch reply holds: after ``fetch_stored`` every one of them is in
    the inbox, once. (The topics are not subscribed at the relay, so no push brings them: only the fetch does.)"""
    server = RelayServer(MemoryStore(), port=0, limits=Limits(max_reply_bytes=2_000))
    await server.start()
    publisher, reader = client_for(server.url), client_for(server.url)
    sent = {base64.b64encode(bytes([0, n]) + b"x" * 450).decode() for n in range(8)}
    try:
        await publisher.start(), await reader.start()
        await publisher.wait_online(10)
        for n, message in enumerate(sorted(sent)):
            await publisher.publish(Publish(TOPICS[n % 2], message, ttl=300))
        await reader.wait_online(10)
        reader.topics = set(TOPICS)
        caplog.set_level(logging.DEBUG, logger="walletsync.relay")
        assert await reader.fetch_stored(TOPICS) is True
        fetches = [r for r in caplog.records if "irn_batchFetchMessages" in r.getMessage()]
        assert len(fetches) >= 3, "one reply cannot hold them all: the client asked again while hasMore was true"
        received = [reader.inbox.get_nowait().message for _ in range(reader.inbox.qsize())]
        assert sorted(received) == sorted(sent)
        assert await reader.fetch_stored(TOPICS) is True and reader.inbox.empty(), "fetched twice, handled once"
    finally:
        await publisher.close(), await reader.close()
        await server.stop()


async def test_a_fetch_over_thousands_of_topics_brings_every_batchs_messages():
    """1,200 topics are fetched in three batches, several in flight at once: a message on a topic of the first batch
    and one on a topic of the last both arrive, and the fetch says the relay has no more."""
    server = await relay_on(0)
    publisher, reader = client_for(server.url), client_for(server.url)
    topics = [f"{i:064x}" for i in range(1200)]
    try:
        await publisher.start(), await reader.start()
        await publisher.wait_online(10)
        await publisher.publish(Publish(topics[3], "AAAAZmlyc3Q=", ttl=300))
        await publisher.publish(Publish(topics[1150], "AAAAbGFzdA==", ttl=300))
        await reader.wait_online(10)
        reader.topics = set(topics)
        assert await reader.fetch_stored(topics) is True
        received = {reader.inbox.get_nowait().topic for _ in range(reader.inbox.qsize())}
        assert received == {topics[3], topics[1150]}
    finally:
        await publisher.close(), await reader.close()
        await server.stop()


async def test_a_relay_that_will_not_fetch_is_told_apart(monkeypatch):
    """A relay without irn_batchFetchMessages (it answers "not a client method"): fetch_stored says so (False), so
    the caller falls back to waiting for quiet instead of taking the relay's silence for "nothing kept"."""
    monkeypatch.delitem(HANDLERS, BatchFetchMessages)
    server = await relay_on(0)
    client = client_for(server.url)
    client.topics = set(TOPICS)
    await client.start()
    try:
        await client.wait_online(10)
        assert await client.fetch_stored(TOPICS) is False
    finally:
        await client.close()
        await server.stop()
