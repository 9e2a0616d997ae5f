"""Attacks from issue #9 against a real relay process: memory stays bounded and a healthy client is never
dropped and gets every message while they run; no relay-auth token reaches the relay's log.

Sizes are modest (a few seconds each on a loaded 2-core box) and the ceilings generous: the unbounded
relay went past them by far. RSS is the relay process's VmRSS, sampled every few milliseconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.procs import RelayProcess
from tests.relay.attacks import (
    NO_RATE_LIMITS,
    Healthy,
    RelayProc,
    RssSampler,
    batch_amplification,
    open_client,
    slow_readers,
    storage_flood,
)
from walletsync.protocol.relay_auth import RelayIdentity, create_jwt

CEILING_MB = 150


@pytest.fixture
def relay_proc(tmp_path):
    started: list[RelayProc] = []

    def start(*flags: str, store: str = "memory") -> RelayProc:
        relay = RelayProc(tmp_path, *flags, store=store)
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()


async def _under_attack(relay: RelayProc, attack) -> tuple[dict, Healthy, float, float]:
    healthy = Healthy(relay.url)
    await healthy.start()
    baseline = relay.rss_mb()
    sampler = RssSampler(relay)
    try:
        result = await attack
    finally:
        peak = await sampler.stop()
        await healthy.stop()
    return result, healthy, baseline, peak


def _healthy_ok(healthy: Healthy, relay: RelayProc) -> None:
    assert healthy.dropped is None, healthy.dropped
    assert healthy.sent > 0 and healthy.refused == 0
    assert healthy.missing == 0, f"{healthy.missing} of {healthy.sent} healthy messages never arrived"
    assert relay.alive(), relay.log()[-2000:]


async def test_slow_readers_do_not_grow_memory_and_are_cut_off(relay_proc):
    """10 subscribers stop reading while 150 × 200 KB go to their topic: each is disconnected (1008) at the
    unread-bytes bound instead of the relay buffering 30 MB for each; a healthy pair notices nothing."""
    relay = relay_proc(*NO_RATE_LIMITS, "--max-topic-bytes", "1G", "--max-store-bytes", "2G")
    result, healthy, baseline, peak = await _under_attack(
        relay, slow_readers(relay.url, readers=10, messages=150, size=200_000)
    )
    assert result["accepted"] == 150
    assert peak - baseline < CEILING_MB, f"RSS {baseline:.0f} → {peak:.0f} MB (healthy p99 {healthy.p99_ms():.1f} ms)"
    assert result["cut_off"] == 10, result
    assert relay.log().count("reads too slowly") == 10
    _healthy_ok(healthy, relay)
    # what a cut-off reader missed stayed in the mailbox: a new subscriber of the topic gets it from the first message
    late = await open_client(relay.url)
    try:
        await late.send(
            f'{{"id":"1","jsonrpc":"2.0","method":"irn_subscribe","params":{{"topic":"{result["topic"]}"}}}}'
        )
        assert '"result"' in await late.recv()
        assert '"message":"00000' in await late.recv()
    finally:
        await late.close()


async def test_batch_calls_with_a_repeated_topic_do_not_amplify(relay_proc):
    """irn_batchFetchMessages / irn_batchSubscribe naming a 4 MB topic 40 times: each message once, replies of about
    ``--max-reply-bytes``, memory bounded, and the healthy pair keeps going."""
    relay = relay_proc(*NO_RATE_LIMITS)
    result, healthy, baseline, peak = await _under_attack(
        relay, batch_amplification(relay.url, repeats=40, messages=20, size=200_000)
    )
    assert result["accepted"] == 20
    assert peak - baseline < CEILING_MB, f"RSS {baseline:.0f} → {peak:.0f} MB (healthy p99 {healthy.p99_ms():.1f} ms)"
    assert result["fetched"] == 20 and result["biggest_reply"] < 1.5 * 1024 * 1024, result
    assert result["pushes"] == 20, result
    _healthy_ok(healthy, relay)


async def test_a_storage_flood_from_free_client_ids_is_bounded_by_address_and_store(relay_proc):
    """300 × 250 KB with 30-day TTLs, each from a new client id, all from 127.0.0.2: the address's byte budget stops
    it (default limits), and where rates are lifted the store's byte limit does; the relay stays up and a
    healthy client on 127.0.0.1 keeps publishing and receiving."""
    relay = relay_proc()
    result, healthy, baseline, peak = await _under_attack(relay, storage_flood(relay.url, messages=300, size=250_000))
    assert result["accepted"] * 250_000 <= 16 * 1024 * 1024 + 2 * 1024 * 1024 * 30, (
        result
    )  # burst + 1 MB/s (with slack)
    assert "TooManyRequests" in result["reasons"], result
    assert peak - baseline < CEILING_MB, f"RSS {baseline:.0f} → {peak:.0f} MB"
    _healthy_ok(healthy, relay)

    capped = relay_proc(*NO_RATE_LIMITS, "--max-store-bytes", "8M")
    result, healthy, baseline, peak = await _under_attack(capped, storage_flood(capped.url, messages=60, size=250_000))
    assert result["accepted"] <= 8 * 1024 * 1024 // 250_000 and result["reasons"] == ["MailboxLimitExceeded"], result
    assert capped.alive()


async def test_no_relay_auth_token_reaches_the_log_at_debug_level(tmp_path):
    """``--log-level debug`` logs requests (websockets logs the path, ``/?auth=<JWT>``) and bad tokens: the token
    itself never appears, whether sent as a query parameter or a Bearer header, valid or not."""
    relay = RelayProcess("memory", tmp_path).start()
    try:
        identity = RelayIdentity(os.urandom(32))
        good = create_jwt(identity, sub=os.urandom(32).hex(), aud=relay.url, iat=int(time.time()))
        foreign = create_jwt(
            identity, sub=os.urandom(32).hex(), aud="wss://relay.walletconnect.org", iat=int(time.time())
        )
        forged = good[: good.rindex(".") + 1] + base64.urlsafe_b64encode(os.urandom(64)).decode().rstrip("=")
        async with connect(f"{relay.url}/?auth={good}&projectId=x") as ws:
            await ws.send('{"id":1,"jsonrpc":"2.0","method":"irn_subscribe","params":{"topic":"' + "a" * 64 + '"}}')
            await ws.recv()
        async with connect(relay.url, additional_headers={"Authorization": f"Bearer {good}"}) as ws:
            await ws.send('{"id":2,"jsonrpc":"2.0","method":"irn_batchFetchMessages","params":{"topics":[]}}')
            await ws.recv()
        for bad in (foreign, forged, "not.a.jwt"):
            async with connect(f"{relay.url}/?auth={bad}") as ws:
                with contextlib.suppress(ConnectionClosed, TimeoutError):
                    await asyncio.wait_for(ws.recv(), 2)  # closed at once by a relay that checks the audience
        with pytest.raises(InvalidStatus):  # an HTTP request that is not a websocket upgrade, with the token in it
            async with connect(f"{relay.url}/?auth={good}", additional_headers={"Sec-WebSocket-Version": "99"}):
                pass
    finally:
        relay.stop()
    log = relay.log_path.read_text()
    assert "irn_subscribe" in log and "GET /" in log, "the relay logged at debug level"
    for secret in (good, foreign, forged, good.split(".")[2], foreign.split(".")[1]):
        assert secret not in log
    assert "<redacted>" in log
