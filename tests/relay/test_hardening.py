"""The relay against hostile clients (issue #9), in-process over real websockets: token audience and
lifetime, per-address and storage limits, batch amplification and paging, the unread-bytes bound on
both write paths (fast path and plain ``ws.send``), and bad Unicode.

The memory and RSS bounds under load, and the log redaction, are checked on a real relay process
in test_attacks.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from tests.relay.test_server import (  # noqa: F401  (fixtures)
    T1,
    T2,
    TIMEOUT,
    DeadClient,
    RawClient,
    clients,
    closed_by_relay,
    data_of,
    make_relay,
    relay,
    token,
)
from walletsync.localrelay import is_relay
from walletsync.protocol.relay_auth import RelayIdentity
from walletsync.relay import wire
from walletsync.relay.audience import accepted_origins, origin
from walletsync.relay.mailbox import Limits
from walletsync.relay.server import RelayServer

BIG = Limits(
    publish_rate=1e6,
    publish_burst=10**6,
    ip_publish_rate=1e6,
    ip_publish_burst=10**6,
    ip_byte_rate=1e9,
    ip_byte_burst=10**10,
)
"""rate limits out of the way (for the tests that are about something else)"""


def limits(**kwargs: Any) -> Limits:
    return Limits(**{**BIG.__dict__, **kwargs})


async def open_with(
    relay: RelayServer, aud: str, *, ttl: int = 86400, iat: int | None = None, **kwargs: Any
) -> RawClient:
    identity = RelayIdentity(os.urandom(32))
    ws = await asyncio.wait_for(
        connect(f"{relay.url}/?auth={token(identity, aud, ttl=ttl, iat=iat)}", **kwargs), TIMEOUT
    )
    return RawClient(ws, identity)


# --- item 4: the token's audience and lifetime --------------------------------------------


@pytest.mark.parametrize(
    "aud",
    ["wss://relay.walletconnect.org", "wss://relay.walletconnect.com/", "ws://127.0.0.1:1", "ws://10.9.8.7:{port}"],
)
async def test_token_for_another_relay_is_refused(relay, aud):
    """A token minted for another relay (so possibly seen by it) does not let anyone act as its client here."""
    closed = await closed_by_relay(
        f"{relay.url}/?auth={token(RelayIdentity(os.urandom(32)), aud.format(port=relay.port))}"
    )
    assert closed.rcvd.code == 3000 and "not this relay" in closed.rcvd.reason


@pytest.mark.parametrize(
    "aud",
    [
        "{url}",
        "{url}/",
        "{url}/relay?x=1",
        "ws://localhost:{port}",
        "ws://LOCALHOST:{port}/",
        "http://127.0.0.1:{port}",
    ],
)
async def test_token_for_this_relay_by_any_of_its_loopback_urls_is_accepted(relay, clients, aud):
    client = await open_with(relay, aud.format(url=relay.url, port=relay.port))
    try:
        assert (await client.call("irn_batchFetchMessages", {"topics": []}))["messages"] == []
    finally:
        await client.close()


async def test_public_urls_are_accepted_audiences(make_relay):
    relay = await make_relay(public_urls=("wss://relay.example.com/ws", "https://other.example:8443"))
    for aud in ("wss://relay.example.com", "wss://Relay.Example.com/", "wss://other.example:8443/x"):
        client = await open_with(relay, aud)
        await client.close()
    for aud in ("wss://relay.example.com:444", "ws://relay.example.org"):
        closed = await closed_by_relay(f"{relay.url}/?auth={token(RelayIdentity(os.urandom(32)), aud)}")
        assert closed.rcvd.code == 3000


def test_a_public_url_that_is_not_a_relay_url_is_refused_at_once():
    with pytest.raises(ValueError):
        RelayServer(None, public_urls=("ftp://relay.example.com",))  # type: ignore[arg-type]


async def test_token_living_longer_than_a_day_is_refused(relay):
    """The JS SDK issues tokens for one day; a longer one is not what a client made for this relay."""
    closed = await closed_by_relay(f"{relay.url}/?auth={token(RelayIdentity(os.urandom(32)), relay.url, ttl=86401)}")
    assert closed.rcvd.code == 3000 and "lifetime" in closed.rcvd.reason
    client = await open_with(relay, relay.url, ttl=86400)
    await client.close()


async def test_walletsync_own_probe_passes_the_audience_check(relay):
    """walletsync's transport puts the URL it dials in ``aud`` (as the local-relay probe does): 127.0.0.1 and localhost both work."""
    assert await is_relay(relay.url)
    assert await is_relay(f"ws://localhost:{relay.port}")


@given(st.text(max_size=80))
def test_origin_never_raises(text):
    result = origin(text)
    assert result is None or (result[0] in ("ws", "wss") and isinstance(result[2], int))


@given(
    st.sampled_from(["ws", "wss", "http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,5})?", fullmatch=True),
    st.integers(1, 65535),
    st.sampled_from(["", "/", "/a/b", "/?q=1"]),
)
def test_origin_ignores_path_and_case(scheme, host, port, tail):
    base = origin(f"{scheme}://{host}:{port}")
    assert base is not None and origin(f"{scheme}://{host.upper()}:{port}{tail}") == base
    assert base in accepted_origins("127.0.0.1", 1, [f"{scheme}://{host}:{port}{tail}"])


def test_wildcard_listener_accepts_loopback_and_this_machine():
    accepted = accepted_origins("0.0.0.0", 8787)
    assert ("ws", "127.0.0.1", 8787) in accepted and ("ws", "localhost", 8787) in accepted
    assert ("ws", "relay.walletconnect.org", 443) not in accepted


# --- item 5: lone surrogates ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["irn_publish", "irn_batchPublish"])
async def test_lone_surrogate_in_a_message_is_a_typed_error_without_traceback(relay, clients, caplog, method):
    """``"\\ud800"`` is valid JSON but not Unicode: refused as invalid input, logged without a traceback, the relay carries on."""
    client = await clients(relay)
    message = '"abc\\ud800def"'
    if method == "irn_publish":
        params = f'{{"topic":"{T1}","message":{message},"ttl":300,"tag":1108,"prompt":false}}'
    else:
        params = f'{{"messages":[{{"topic":"{T1}","message":{message},"ttl":300,"tag":1108}}]}}'
    rid = RawClient.new_id()
    with caplog.at_level(logging.DEBUG, logger="walletsync.relay"):
        await client.send(f'{{"id":"{rid}","jsonrpc":"2.0","method":"{method}","params":{params}}}')
        answer = await client.response(rid)
    assert answer["error"]["code"] == -32600, answer
    assert "surrogate" in answer["error"]["message"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert await client.publish(T1, "fine") is True


# --- item 3: per-address rate and storage limits -------------------------------------------


async def test_fresh_client_ids_from_one_address_share_its_publish_budget(make_relay):
    """Client ids are free; the source address is not: new identities from 127.0.0.2 run out together, 127.0.0.1 does not notice."""
    relay = await make_relay(limits=limits(ip_publish_rate=0.01, ip_publish_burst=5))
    refused = None
    for i in range(8):
        attacker = await RawClient.open(relay, local_addr=("127.0.0.2", 0))
        try:
            answer = await attacker.request(
                "irn_publish", {"topic": T1, "message": f"spam-{i}", "ttl": 300, "tag": 1108}
            )
        finally:
            await attacker.close()
        if "error" in answer:
            refused = i, answer["error"]
            break
    assert refused is not None and refused[0] == 5, refused
    assert refused[1]["code"] == 3001 and "address" in refused[1]["message"]
    healthy = await RawClient.open(relay)
    try:
        assert await healthy.publish(T1, "healthy") is True
    finally:
        await healthy.close()


async def test_published_bytes_per_address_are_limited(make_relay):
    relay = await make_relay(limits=limits(ip_byte_rate=1, ip_byte_burst=10_000))
    attacker = await RawClient.open(relay, local_addr=("127.0.0.2", 0))
    try:
        assert await attacker.publish(T1, "a" * 4000) is True
        assert await attacker.publish(T1, "b" * 4000) is True
        answer = await attacker.request("irn_publish", {"topic": T1, "message": "c" * 4000, "ttl": 300, "tag": 1108})
        assert answer["error"]["code"] == 3001 and "bytes" in answer["error"]["message"]
    finally:
        await attacker.close()


async def test_a_full_store_refuses_publishes_with_mailbox_full_and_keeps_serving(make_relay, clients):
    relay = await make_relay(limits=limits(max_store_bytes=10_000, max_topic_bytes=8_000))
    a, b = await clients(relay), await clients(relay)
    assert await a.publish(T1, "a" * 6_000) is True
    answer = await a.request("irn_publish", {"topic": T1, "message": "b" * 3_000, "ttl": 300, "tag": 1108})
    assert answer["error"]["data"] == "MailboxLimitExceeded" and "8000 bytes" in answer["error"]["message"], answer
    assert await a.publish(T2, "c" * 3_000) is True
    answer = await b.request("irn_publish", {"topic": T2, "message": "d" * 2_000, "ttl": 300, "tag": 1108})
    assert answer["error"]["data"] == "MailboxLimitExceeded" and "store is full" in answer["error"]["message"], answer
    assert await b.publish(T2, "small") is True
    await b.subscribe(T1)
    assert data_of(await b.next_push())["message"] == "a" * 6_000


# --- item 2: batch amplification and paging -------------------------------------------------


async def _publish_many(client: RawClient, topic: str, count: int, size: int) -> list[str]:
    messages = [f"{i:03d}" + "m" * (size - 3) for i in range(count)]
    for m in messages:
        assert await client.publish(topic, m) is True
    return messages


async def test_batch_fetch_of_a_repeated_topic_is_one_topic_paged_by_bytes(make_relay, clients):
    """``topics: [T]*40`` returns T's messages once, at most about ``max_reply_bytes`` per reply, the rest with hasMore."""
    relay = await make_relay(limits=limits(max_reply_bytes=250_000))
    publisher, reader = await clients(relay), await clients(relay, max_size=None)
    sent = await _publish_many(publisher, T1, 8, 100_000)
    got: list[str] = []
    replies = 0
    while True:
        rid = RawClient.new_id()
        await reader.send(
            {"id": rid, "jsonrpc": "2.0", "method": "irn_batchFetchMessages", "params": {"topics": [T1] * 40}}
        )
        raw = await asyncio.wait_for(reader.ws.recv(), TIMEOUT)
        assert len(raw) < 250_000 + 2_000, f"reply of {len(raw)} bytes"
        reply = json.loads(raw)["result"]
        replies += 1
        got += [m["message"] for m in reply["messages"]]
        if not reply["hasMore"]:
            break
        assert replies < 20
    assert got == sent and replies == 4
    whole = await reader.call("irn_fetchMessages", {"topic": T1})
    assert [m["message"] for m in whole["messages"]] == sent[:2] and whole["hasMore"] is True, (
        "a finished paging starts over"
    )


async def test_fetch_of_one_topic_with_many_big_messages_is_paged(make_relay, clients):
    relay = await make_relay(limits=limits(max_reply_bytes=300_000))
    publisher, reader = await clients(relay), await clients(relay, max_size=None)
    sent = await _publish_many(publisher, T1, 5, 200_000)
    got: list[str] = []
    while True:
        reply = await reader.call("irn_fetchMessages", {"topic": T1})
        assert len(reply["messages"]) == 1
        got += [m["message"] for m in reply["messages"]]
        if not reply["hasMore"]:
            break
    assert got == sent


async def test_batch_subscribe_to_a_repeated_topic_pushes_its_mailbox_once(relay, clients):
    publisher, late = await clients(relay), await clients(relay)
    sent = await _publish_many(publisher, T1, 3, 10)
    answer = await late.call("irn_batchSubscribe", {"topics": [T1] * 10})
    assert len(answer) == 10 and len(set(answer)) == 1
    assert [data_of(await late.next_push())["message"] for _ in sent] == sent
    await late.no_pushes()


def _server_side(relay: RelayServer, topic: str, client_id: str):
    return next(c for c in relay.subscribers[topic] if c.client_id == client_id)


async def test_a_big_mailbox_goes_to_a_slow_reader_within_the_byte_bound(make_relay, clients):
    """Subscribing to a topic holding far more than ``max_queued_bytes`` is not a disconnect: the relay pushes as the
    client reads, never holding more than the bound for it."""
    bound = 1024 * 1024
    relay = await make_relay(limits=limits(max_queued_bytes=bound))
    publisher = await clients(relay)
    sent = await _publish_many(publisher, T1, 30, 200_000)  # 6 MB
    reader = await clients(relay, max_size=None, max_queue=1)
    await reader.subscribe(T1)
    server_side = _server_side(relay, T1, reader.client_id)
    got, most = [], 0
    while len(got) < len(sent):
        most = max(most, server_side.queued())
        got.append(data_of(await reader.next_push())["message"])
    assert got == sent
    assert most <= bound, most
    assert not server_side.too_slow


# --- items 1 and 14: the unread-bytes bound, on the fast path and on plain ws.send -------------


@pytest.fixture(params=["fast", "fallback"])
def write_path(request, monkeypatch, caplog):
    """Run the relay on its fast write path, or on the ``ws.send()`` fallback (as on an untested websockets)."""
    if request.param == "fallback":
        monkeypatch.setattr(wire, "TESTED_MAJORS", (0, 0))
        monkeypatch.setattr(wire, "_warned", False)
    return request.param


async def test_stalled_subscriber_is_cut_off_at_the_byte_bound_while_others_get_everything(
    make_relay, clients, caplog, write_path
):
    """A subscriber that stops reading is disconnected once ``max_queued_bytes`` wait for it; a reading one gets every
    message, in order; the publisher is answered throughout. Same on both write paths."""
    caplog.set_level(logging.INFO, logger="walletsync.relay")
    relay = await make_relay(limits=limits(max_queued_bytes=1024 * 1024))
    publisher, live = await clients(relay), await clients(relay, max_size=None)
    await live.subscribe(T1)
    stalled = await DeadClient.subscribed(relay, T1)
    try:
        assert all(c.direct is (write_path == "fast") for c in relay.subscribers[T1])
        for i in range(60):  # 12 MB
            assert await publisher.publish(T1, f"{i:03d}" + "S" * 200_000) is True
            assert data_of(await live.next_push())["message"][:3] == f"{i:03d}"
        assert "reads too slowly" in caplog.text
        assert [c.client_id for c in relay.subscribers[T1]] == [live.client_id] or all(
            c.too_slow for c in relay.subscribers[T1] if c.client_id != live.client_id
        )
        if write_path == "fallback":
            assert "outside the tested" in caplog.text and caplog.text.count("outside the tested") == 1
    finally:
        stalled.close()


def test_fast_path_only_on_tested_websockets_majors(monkeypatch, caplog):
    monkeypatch.setattr(wire, "_warned", False)
    assert wire.fast_path_allowed("17.0") and wire.fast_path_allowed("17.4")
    with caplog.at_level(logging.INFO, logger="walletsync.relay"):
        assert not wire.fast_path_allowed("14.0")
        assert not wire.fast_path_allowed("18.0")
        assert not wire.fast_path_allowed("13.1")
        assert not wire.fast_path_allowed("weird")
    assert caplog.text.count("outside the tested") == 1, "said once"


def test_websockets_internals_are_touched_in_wire_only():
    """The write path's use of websockets internals stays in one small module."""
    import inspect

    from walletsync.relay import connection, delivery, methods, server

    source = "".join(inspect.getsource(module) for module in (connection, delivery, methods, server))
    for name in ("ws.protocol", "ws.paused", "ws.transport", "send_data", "data_to_send", "drain_waiters", "send_text"):
        assert name not in source, name
