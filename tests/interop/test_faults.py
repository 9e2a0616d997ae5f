"""Faults: a relay killed or restarted mid-session, and clients sending junk."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.interop.test_js_through_relay import js_session
from tests.pypeer import py_peer
from walletsync.protocol import events as ev
from walletsync.protocol.relay_auth import RelayIdentity, create_jwt
from walletsync.protocol.relay_rpc import Publish, Subscribe, encode_request
from walletsync.transport.client import RelayClient

ACCOUNT = "eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"
NAMESPACES = {"eip155": {"chains": ["eip155:1"], "methods": ["personal_sign"], "events": []}}
GRANTED = {"eip155": {"chains": ["eip155:1"], "accounts": [ACCOUNT], "methods": ["personal_sign"], "events": []}}


async def py_session(url: str):
    dapp, wallet = await py_peer(url, "py-dapp"), await py_peer(url, "py-wallet")
    events = await dapp.run(dapp.engine.connect(dapp.now(), optional_namespaces=NAMESPACES))
    await wallet.run(wallet.engine.pair(next(e for e in events if isinstance(e, ev.PairingCreated)).uri, wallet.now()))
    proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
    await wallet.run(wallet.engine.approve(proposal.id, GRANTED, wallet.now()))
    topic = (await dapp.next_event(ev.SessionSettled)).session.topic
    await wallet.next_event(ev.Acknowledged)
    return dapp, wallet, topic


async def test_request_survives_sigkill_of_the_relay(start_relay):
    """SQLite store: a request the relay acked is delivered after kill -9 and restart, to a wallet that was offline."""
    relay = start_relay("sqlite")
    dapp, wallet, topic = await py_session(relay.url)
    identity, engine = wallet.client.identity, wallet.engine
    await wallet.close()  # the phone goes offline
    await dapp.run(dapp.engine.request(topic, "eip155:1", "personal_sign", ["0x00", ACCOUNT.split(":")[2]], dapp.now()))
    request_id = (await dapp.next_event(ev.RequestSent)).id
    assert relay.kill(signal.SIGKILL) == -signal.SIGKILL
    relay.start()  # same port, same SQLite file
    wallet = await py_peer(relay.url, "py-wallet", identity=identity, engine=engine)
    try:
        received = await wallet.next_event(ev.SessionRequestReceived, timeout=20)
        assert (received.topic, received.id) == (topic, request_id)
        await wallet.run(wallet.engine.respond(topic, request_id, wallet.now(), result="0x01"))
        answered = await dapp.next_event(ev.RequestAnswered, timeout=20)
        assert answered.id == request_id and answered.result == "0x01"
    finally:
        await dapp.close()
        await wallet.close()


async def test_js_clients_reconnect_after_relay_restart(start_relay, log_dir):
    """The relay goes away mid-session; a request made during the outage arrives once it is back."""
    relay = start_relay("sqlite")
    dapp, wallet, topic = await js_session(relay.url, log_dir)
    try:
        relay.kill(signal.SIGTERM)
        address = wallet.events[0]["address"]
        await dapp.send("request", topic=topic, chainId="eip155:1", method="personal_sign", params=["0x6869", address])
        await asyncio.sleep(1.5)
        relay.start()
        response = await dapp.expect("response", timeout=45)
        assert response.get("result", "").startswith("0x") and len(response["result"]) == 132, response
    finally:
        await dapp.close()
        await wallet.close()


async def test_junk_from_one_client_does_not_disturb_others(start_relay):
    """Bad frames get errors (or a close for oversize and bad auth) and a live session keeps working."""
    relay = start_relay("memory")
    dapp, wallet, topic = await py_session(relay.url)
    identity = RelayIdentity(os.urandom(32))
    token = create_jwt(identity, sub="ab" * 32, aud=relay.url, iat=int(time.time()))
    try:
        async with connect(f"{relay.url}/?auth={token}", max_size=None) as ws:

            async def answer(frame: str) -> dict:
                await ws.send(frame)
                return json.loads(await asyncio.wait_for(ws.recv(), 5))

            assert (await answer("not json"))["error"]["code"] == -32700
            assert (
                await answer('{"id":"1000000000000000001","jsonrpc":"2.0","method":"irn_publish","params":{"topic":5}}')
            )["error"]["code"] == -32602
            unknown = await answer('{"id":"1000000000000000002","jsonrpc":"2.0","method":"irn_teleport","params":{}}')
            assert unknown["error"]["code"] == -32601 and unknown["id"] == "1000000000000000002"
            bad_topic = await answer(encode_request(1_000_000_003, Subscribe("ab" * 32)).replace("ab" * 32, "xyz"))
            assert "error" in bad_topic and bad_topic["id"] == 1_000_000_003
            short_ttl = await answer(encode_request(1_000_000_004, Publish("cd" * 32, "AAAA", ttl=1)))
            assert short_ttl["error"]["data"] == "TtlTooShort"
        oversize = await connect(f"{relay.url}/?auth={token}", max_size=None)
        await oversize.send("x" * 10_000_000)
        try:
            await asyncio.wait_for(oversize.recv(), 5)
            raise AssertionError("a 10 MB frame must close the connection")
        except ConnectionClosed:
            assert oversize.close_code == 1009  # "message too big"; the relay already dropped the socket
        async with connect(f"{relay.url}/?auth=not.a.jwt") as ws:
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except ConnectionClosed:
                pass
            assert ws.close_code == 3000 and "JWT" in ws.close_reason
        await dapp.run(dapp.engine.ping(topic, dapp.now()))
        assert (await dapp.next_event(ev.Acknowledged, timeout=10)).method == "wc_sessionPing"
    finally:
        await dapp.close()
        await wallet.close()


async def test_redis_mailbox_survives_a_node_restart(start_relay):
    """Two relays on one Redis: what node A stored reaches clients on node B while A is down, and on A after it restarts."""
    node_a, node_b = start_relay("redis"), start_relay("redis")
    dapp, wallet, topic = await py_session(node_a.url)
    identity, engine = wallet.client.identity, wallet.engine
    await wallet.close()
    await dapp.run(dapp.engine.request(topic, "eip155:1", "personal_sign", ["0x00", ACCOUNT.split(":")[2]], dapp.now()))
    request_id = (await dapp.next_event(ev.RequestSent)).id
    await dapp.close()
    node_a.kill(signal.SIGKILL)

    other_device = RelayClient(node_b.url, RelayIdentity(os.urandom(32)))
    other_device.topics.add(topic)
    await other_device.start()
    try:
        tags = set()
        while 1108 not in tags:  # the mailbox also still holds the settle (1102) and its ack (1103)
            pushed = await asyncio.wait_for(other_device.inbox.get(), 20)
            assert pushed.topic == topic
            tags.add(pushed.tag)
    finally:
        await other_device.close()

    node_a.start()
    wallet = await py_peer(node_a.url, "py-wallet", identity=identity, engine=engine)
    try:
        assert (await wallet.next_event(ev.SessionRequestReceived, timeout=20)).id == request_id
    finally:
        await wallet.close()
