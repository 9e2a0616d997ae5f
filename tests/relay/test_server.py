"""The relay over real websockets: auth, ids, fan-out, mailbox delivery, acks, the wc_* methods, bad input, keep-alive.

Clients here are raw websockets speaking the wire protocol the JS SDK speaks (19-digit string ids, acks
with ``result: true``), so every assertion is about bytes an SDK would see.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import inspect
import json
import os
import struct
import time
from collections import deque
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from walletsync.protocol.relay_auth import RelayIdentity, create_jwt, subscription_id
from walletsync.relay.mailbox import Limits, MailboxStore
from walletsync.relay.mailboxes.memory import MemoryStore
from walletsync.relay.mailboxes.sqlite import SqliteStore
from walletsync.relay.server import RelayServer

TIMEOUT = 3.0
T1, T2, T3 = "1" * 64, "2" * 64, "3" * 64
PAIRING, SESSION = "9" * 64, "7" * 64


def token(identity: RelayIdentity, aud: str, *, iat: int | None = None, ttl: int = 86400, sub: str = "ab" * 32) -> str:
    return create_jwt(identity, sub=sub, aud=aud, iat=int(time.time()) if iat is None else iat, ttl=ttl)


def sha(message: str) -> str:
    return hashlib.sha256(message.encode()).hexdigest()


class RawClient:
    """One websocket to the relay. ``request`` answers the response to its id; pushes that arrive meanwhile are queued."""

    _counter = 0

    def __init__(self, ws: ClientConnection, identity: RelayIdentity) -> None:
        self.ws = ws
        self.identity = identity
        self.client_id = identity.client_id
        self.pushes: deque[dict[str, Any]] = deque()

    @classmethod
    async def open(cls, server: RelayServer, identity: RelayIdentity | None = None, **kwargs: Any) -> RawClient:
        identity = identity or RelayIdentity(os.urandom(32))
        ws = await asyncio.wait_for(
            connect(f"{server.url}/?auth={token(identity, server.url)}&projectId=0&useOnCloseEvent=true", **kwargs),
            TIMEOUT,
        )
        return cls(ws, identity)

    @classmethod
    def new_id(cls) -> str:
        """A JS-SDK style id: 19 decimal digits, as a JSON string."""
        cls._counter += 1
        return f"{int(time.time() * 1000)}{cls._counter % 1_000_000:06d}"

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame))

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def response(self, request_id: Any, timeout: float = TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - time.monotonic()))
            if frame.get("method") == "irn_subscription":
                self.pushes.append(frame)
            elif ("result" in frame or "error" in frame) and frame.get("id") == request_id:
                return frame
            else:
                raise AssertionError(f"unexpected frame while waiting for id {request_id!r}: {frame}")

    async def request(self, method: str, params: Any, *, request_id: Any = None) -> dict[str, Any]:
        request_id = self.new_id() if request_id is None else request_id
        await self.send({"id": request_id, "jsonrpc": "2.0", "method": method, "params": params})
        return await self.response(request_id)

    async def call(self, method: str, params: Any) -> Any:
        frame = await self.request(method, params)
        assert "error" not in frame, f"{method} failed: {frame}"
        return frame["result"]

    async def next_push(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        if self.pushes:
            return self.pushes.popleft()
        frame = await self.recv(timeout)
        assert frame.get("method") == "irn_subscription", f"expected a push, got {frame}"
        return frame

    async def sync(self) -> None:
        """One round trip: anything the relay sent this client before it is now in ``pushes``."""
        await self.call("irn_batchFetchMessages", {"topics": []})

    async def no_pushes(self) -> None:
        await self.sync()
        assert not self.pushes, f"unexpected pushes: {list(self.pushes)}"

    async def ack(self, push: dict[str, Any], ack_id: Any = None) -> None:
        await self.send({"id": push["id"] if ack_id is None else ack_id, "jsonrpc": "2.0", "result": True})

    async def subscribe(self, topic: str) -> str:
        return await self.call("irn_subscribe", {"topic": topic})

    async def publish(self, topic: str, message: str, *, ttl: int = 300, tag: int = 1108, **extra: Any) -> Any:
        return await self.call(
            "irn_publish", {"topic": topic, "message": message, "ttl": ttl, "prompt": False, "tag": tag, **extra}
        )

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), TIMEOUT)
        except Exception:
            pass


def data_of(push: dict[str, Any]) -> dict[str, Any]:
    return push["params"]["data"]


@pytest.fixture(params=["memory", "sqlite"])
async def make_relay(request, tmp_path):
    """``await make_relay(**kwargs)`` → a started in-process RelayServer on a free port; stopped after the test.

    Every test runs on a memory and on a SQLite store (which answers publishes after its commit)."""
    servers: list[RelayServer] = []

    def default_store() -> MailboxStore:
        return MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / f"relay-{len(servers)}.db")

    async def make(**kwargs: Any) -> RelayServer:
        server = RelayServer(kwargs.pop("store", None) or default_store(), port=0, **kwargs)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await asyncio.wait_for(server.stop(), 10)


@pytest.fixture
async def relay(make_relay) -> RelayServer:
    return await make_relay()


@pytest.fixture
async def clients():
    """``await clients(server, identity=None)`` → a connected RawClient; all closed after the test."""
    opened: list[RawClient] = []

    async def open_client(server: RelayServer, identity: RelayIdentity | None = None, **kwargs: Any) -> RawClient:
        client = await RawClient.open(server, identity, **kwargs)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        await client.close()


async def closed_by_relay(url: str, **kwargs: Any) -> ConnectionClosed:
    """Connect and wait for the relay to close the socket; returns the close as seen by the client."""
    ws = await asyncio.wait_for(connect(url, **kwargs), TIMEOUT)
    try:
        with pytest.raises(ConnectionClosed) as caught:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        return caught.value
    finally:
        try:
            await asyncio.wait_for(ws.close(), TIMEOUT)
        except Exception:
            pass


# --- authentication -----------------------------------------------------------------------


async def test_auth_by_query_parameter_uses_the_jwt_issuer_as_client_id(relay, clients):
    """A client authenticated with ``?auth=`` is known by its did:key (the subscription id is built from it)."""
    client = await clients(relay)
    assert await client.subscribe(T1) == subscription_id(T1, client.client_id)


async def test_auth_by_bearer_header(relay):
    """A client that sends ``Authorization: Bearer <jwt>`` instead of the query parameter is accepted too."""
    identity = RelayIdentity(os.urandom(32))
    ws = await connect(relay.url, additional_headers={"Authorization": f"Bearer {token(identity, relay.url)}"})
    client = RawClient(ws, identity)
    try:
        assert await client.subscribe(T1) == subscription_id(T1, identity.client_id)
    finally:
        await client.close()


def _bad_signature(identity: RelayIdentity, aud: str) -> str:
    good = token(identity, aud)
    forged = token(RelayIdentity(os.urandom(32)), aud)
    return good.rsplit(".", 1)[0] + "." + forged.rsplit(".", 1)[1]


BAD_AUTH = {
    "missing": (lambda ident, url: None, "missing"),
    "not-a-jwt": (lambda ident, url: "not.a-jwt", "base64url"),
    "bad-signature": (_bad_signature, "signature"),
    "expired-beyond-leeway": (lambda ident, url: token(ident, url, iat=int(time.time()) - 86400 - 200), "expired"),
    "issued-in-the-future": (lambda ident, url: token(ident, url, iat=int(time.time()) + 600), "future"),
    "aud-not-a-url": (lambda ident, url: token(ident, "my-relay.example"), "not a relay URL"),
}


@pytest.mark.parametrize("case", list(BAD_AUTH))
async def test_bad_auth_closes_with_3000_and_says_why(relay, case):
    """A bad relay-auth JWT ends the connection with close code 3000 (the SDK stops retrying) and a readable reason."""
    make, expected = BAD_AUTH[case]
    jwt = make(RelayIdentity(os.urandom(32)), relay.url)
    url = relay.url if jwt is None else f"{relay.url}/?auth={jwt}"
    closed = await closed_by_relay(url)
    assert closed.rcvd is not None, f"relay dropped the socket without a close frame: {closed}"
    assert closed.rcvd.code == 3000
    assert "JWT" in closed.rcvd.reason and expected in closed.rcvd.reason, closed.rcvd.reason
    assert not relay.subscribers


async def test_non_ascii_bad_jwt_still_closes_with_3000(relay):
    """A JWT whose ``aud`` is non-ASCII text gets the same 3000 close (reason fits a close frame), not an internal error."""
    jwt = token(RelayIdentity(os.urandom(32)), "ë" * 40)
    closed = await closed_by_relay(f"{relay.url}/?auth={jwt}")
    assert closed.rcvd is not None and closed.rcvd.code == 3000, closed
    assert len(closed.rcvd.reason.encode()) <= 123


async def test_jwt_expired_within_leeway_is_accepted(relay):
    """A JWT that expired a minute ago (clock skew) still connects: the relay allows 120 s leeway."""
    identity = RelayIdentity(os.urandom(32))
    ws = await connect(f"{relay.url}/?auth={token(identity, relay.url, iat=int(time.time()) - 86400 - 60)}")
    client = RawClient(ws, identity)
    try:
        assert await client.subscribe(T1) == subscription_id(T1, identity.client_id)
    finally:
        await client.close()


# --- ids ---------------------------------------------------------------------------------


async def test_request_ids_are_echoed_verbatim(relay, clients):
    """The SDK matches answers by String(id): a 19-digit string id comes back as that string, a number as that number."""
    client = await clients(relay)
    string_id = "1795456226161833728"
    answer = await client.request("irn_subscribe", {"topic": T1}, request_id=string_id)
    assert answer["id"] == string_id and isinstance(answer["id"], str)
    assert answer["jsonrpc"] == "2.0"
    answer = await client.request("irn_subscribe", {"topic": T2}, request_id=1795456226161833729)
    assert answer["id"] == 1795456226161833729 and isinstance(answer["id"], int)
    answer = await client.request("irn_subscribe", {"topic": T3}, request_id=7)
    assert answer["id"] == 7
    raw = await asyncio.wait_for(
        _raw_answer(
            client,
            '{"id":"0001795456226161833","jsonrpc":"2.0","method":"irn_subscribe","params":{"topic":"' + T1 + '"}}',
        ),
        TIMEOUT,
    )
    assert '"id":"0001795456226161833"' in raw, "leading zeros are kept: the id is echoed, not re-serialized"


async def _raw_answer(client: RawClient, text: str) -> str:
    await client.ws.send(text)
    while True:
        frame = await client.ws.recv()
        if '"irn_subscription"' not in frame:
            return frame


# --- subscribe and publish -----------------------------------------------------------------


async def test_subscribe_returns_sha256_of_topic_and_client_id(relay, clients):
    """irn_subscribe / irn_batchSubscribe answer the ids the SDK computes itself: sha256(topic + clientId)."""
    client = await clients(relay)
    assert await client.subscribe(T1) == hashlib.sha256((T1 + client.client_id).encode()).hexdigest()
    assert await client.call("irn_batchSubscribe", {"topics": [T2, T3]}) == [
        subscription_id(T2, client.client_id),
        subscription_id(T3, client.client_id),
    ]


async def test_publish_reaches_other_subscriber_not_the_publisher(relay, clients):
    """A's publish arrives at B as irn_subscription {topic, message, publishedAt, tag}; A does not get its own message back."""
    a, b = await clients(relay), await clients(relay)
    await a.subscribe(T1)
    await b.subscribe(T1)
    before = int(time.time() * 1000)
    assert (
        await a.publish(T1, "AEq1sEQ4", tag=1108, correlationId=1795456226878205, rpcMethods=["personal_sign"]) is True
    )
    after = int(time.time() * 1000)
    assert not a.pushes, "the publisher got its own message echoed"
    push = await b.next_push()
    assert push["jsonrpc"] == "2.0" and push["method"] == "irn_subscription"
    assert isinstance(push["id"], int) and 0 < push["id"] < 2**53, "push ids must stay below 2^53 for JS"
    assert push["params"]["id"] == subscription_id(T1, b.client_id)
    data = data_of(push)
    assert data == {"topic": T1, "message": "AEq1sEQ4", "publishedAt": data["publishedAt"], "tag": 1108}
    assert before <= data["publishedAt"] <= after
    await a.no_pushes()


async def test_push_ids_are_unique_and_increasing(relay, clients):
    """Each push has its own id, so acks cannot be confused."""
    a, b = await clients(relay), await clients(relay)
    await b.subscribe(T1)
    for i in range(5):
        await a.publish(T1, f"m{i}")
    ids = [(await b.next_push())["id"] for _ in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert all(i < 2**53 for i in ids)


async def test_attestation_is_passed_through(relay, clients):
    """A browser dapp's Verify attestation reaches the wallet (or its Verify status degrades to UNKNOWN)."""
    a, b = await clients(relay), await clients(relay)
    await b.subscribe(T1)
    await a.publish(T1, "msg", attestation="eyJ.att.sig")
    assert data_of(await b.next_push())["attestation"] == "eyJ.att.sig"


async def test_retried_publish_is_delivered_once(relay, clients):
    """The SDK resends an unanswered publish with the same id and message; the peer gets it once."""
    a, b = await clients(relay), await clients(relay)
    await b.subscribe(T1)
    frame = {
        "id": RawClient.new_id(),
        "jsonrpc": "2.0",
        "method": "irn_publish",
        "params": {"topic": T1, "message": "retry-me", "ttl": 300, "prompt": False, "tag": 1108},
    }
    for _ in range(2):
        await a.send(frame)
        assert (await a.response(frame["id"]))["result"] is True
    assert data_of(await b.next_push())["message"] == "retry-me"
    await b.no_pushes()


async def test_batch_publish_reaches_subscribers(relay, clients):
    """irn_batchPublish fans out every message it carries."""
    a, b = await clients(relay), await clients(relay)
    await b.call("irn_batchSubscribe", {"topics": [T1, T2]})
    msgs = [
        {"topic": T1, "message": "one", "ttl": 300, "tag": 1108},
        {"topic": T2, "message": "two", "ttl": 300, "tag": 1109},
    ]
    assert await a.call("irn_batchPublish", {"messages": msgs}) is True
    got = {
        (data_of(p)["topic"], data_of(p)["message"], data_of(p)["tag"])
        for p in [await b.next_push(), await b.next_push()]
    }
    assert got == {(T1, "one", 1108), (T2, "two", 1109)}


# --- mailbox delivery ---------------------------------------------------------------------


async def test_message_published_before_subscribe_is_pushed_right_after_the_answer(relay, clients):
    """A peer that subscribes late (the wallet scanning the URI) still gets what was published, right after its subscribe answer."""
    a = await clients(relay)
    await a.publish(T1, "early-1", tag=1100)
    await a.publish(T1, "early-2", tag=1108)
    b = await clients(relay)
    request_id = RawClient.new_id()
    await b.send({"id": request_id, "jsonrpc": "2.0", "method": "irn_subscribe", "params": {"topic": T1}})
    first = await b.recv()
    assert first["id"] == request_id and first["result"] == subscription_id(T1, b.client_id), (
        "the answer comes before the pushes"
    )
    pushes = [await b.next_push(), await b.next_push()]
    assert [(data_of(p)["message"], data_of(p)["tag"]) for p in pushes] == [("early-1", 1100), ("early-2", 1108)]
    assert all(p["params"]["id"] == subscription_id(T1, b.client_id) for p in pushes)


async def test_batch_subscribe_delivers_the_mailbox_of_every_topic(relay, clients):
    """On reconnect the SDK sends irn_batchSubscribe for all its topics; messages waiting on each are pushed."""
    a = await clients(relay)
    await a.publish(T1, "for-t1")
    await a.publish(T2, "for-t2")
    b = await clients(relay)
    assert await b.call("irn_batchSubscribe", {"topics": [T1, T2, T3]}) == [
        subscription_id(t, b.client_id) for t in (T1, T2, T3)
    ]
    got = {(data_of(p)["topic"], data_of(p)["message"]) for p in [await b.next_push(), await b.next_push()]}
    assert got == {(T1, "for-t1"), (T2, "for-t2")}
    await b.no_pushes()


async def test_expired_message_is_not_delivered(make_relay, clients):
    """A message whose TTL has passed is not pushed to a late subscriber; a younger one still is."""
    now = [time.time()]
    relay = await make_relay(clock=lambda: now[0])
    a = await clients(relay)
    await a.publish(T1, "short-lived", ttl=30)
    await a.publish(T1, "long-lived", ttl=300)
    now[0] += 31
    b = await clients(relay)
    await b.subscribe(T1)
    assert data_of(await b.next_push())["message"] == "long-lived"
    await b.no_pushes()


async def _receive_then_reconnect(relay, clients, ack) -> tuple[RawClient, list[dict[str, Any]]]:
    """B gets m1 and m2, ``ack(b, push1)`` for m1 only, then B reconnects with the same identity and resubscribes."""
    a, b = await clients(relay), await clients(relay)
    await b.subscribe(T1)
    await a.publish(T1, "m1")
    await a.publish(T1, "m2")
    p1, p2 = await b.next_push(), await b.next_push()
    assert [data_of(p1)["message"], data_of(p2)["message"]] == ["m1", "m2"]
    await ack(b, p1)
    await b.sync()  # the relay handles frames in order: the ack is processed before this answer
    await b.close()
    again = await clients(relay, b.identity)
    await again.subscribe(T1)
    await again.sync()
    return again, list(again.pushes)


async def test_unacked_message_is_redelivered_after_reconnect(relay, clients):
    """A message B received but never acked (e.g. it crashed) is pushed again when B comes back."""
    _, pushes = await _receive_then_reconnect(relay, clients, lambda b, p: asyncio.sleep(0))
    assert [data_of(p)["message"] for p in pushes] == ["m1", "m2"]


@pytest.mark.parametrize("form", ["number", "numeric-string", "bigint-string"])
async def test_acked_message_is_not_redelivered(relay, clients, form):
    """An acked push is not pushed again after reconnect, whether the ack id is 123, "123" or JS BigInt's "123n"."""

    async def ack(b: RawClient, push: dict[str, Any]) -> None:
        pid = push["id"]
        await b.ack(push, {"number": pid, "numeric-string": str(pid), "bigint-string": f"{pid}n"}[form])

    _, pushes = await _receive_then_reconnect(relay, clients, ack)
    assert [data_of(p)["message"] for p in pushes] == ["m2"]


async def test_error_reply_to_a_push_is_not_an_ack(relay, clients):
    """A client answering a push with an error has not taken the message; it is redelivered."""

    async def nack(b: RawClient, push: dict[str, Any]) -> None:
        await b.send({"id": push["id"], "jsonrpc": "2.0", "error": {"code": -32000, "message": "busy"}})

    _, pushes = await _receive_then_reconnect(relay, clients, nack)
    assert [data_of(p)["message"] for p in pushes] == ["m1", "m2"]


async def test_a_busy_topic_whose_subscriber_acks_never_fills(make_relay, clients):
    """The mailbox limit counts unread messages: a reader that acks lets any number through; a topic nobody reads fills."""
    relay = await make_relay(limits=Limits(max_messages_per_mailbox=3))
    a, b = await clients(relay), await clients(relay)
    await b.subscribe(T1)
    for i in range(12):
        assert await a.publish(T1, f"busy-{i}") is True
        push = await b.next_push()
        assert data_of(push)["message"] == f"busy-{i}"
        await b.ack(push)
    for i in range(3):
        assert await a.publish(T2, f"unread-{i}") is True
    answer = await a.request("irn_publish", {"topic": T2, "message": "unread-3", "ttl": 300, "tag": 1108})
    assert answer["error"]["data"] == "MailboxLimitExceeded", answer
    assert await a.publish(T2, "unread-0") is True, "a retry of a stored message is still answered true"
    late = await clients(relay)
    await late.call("irn_batchSubscribe", {"topics": [T1, T2]})
    await late.sync()
    got = [data_of(p)["message"] for p in late.pushes]
    assert sorted(got) == sorted([f"busy-{i}" for i in range(12)] + [f"unread-{i}" for i in range(3)]), (
        "acked messages stay for later devices"
    )


class HeldCommits(MemoryStore):
    """A store whose commits happen only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[Any] = []

    def after_commit(self, callback: Any) -> None:
        self.waiting.append(callback)

    def commit(self) -> None:
        waiting, self.waiting = self.waiting, []
        for callback in waiting:
            callback(None)


async def test_publish_is_answered_once_committed_without_holding_up_the_connection(make_relay, clients):
    """The answer to a publish (what lets the SDK forget it) waits for the store's commit; delivery and the publisher's other requests do not."""
    store = HeldCommits()
    relay = await make_relay(store=store)
    a, b = await clients(relay), await clients(relay)
    await b.subscribe(T1)
    frame = {
        "id": RawClient.new_id(),
        "jsonrpc": "2.0",
        "method": "irn_publish",
        "params": {"topic": T1, "message": "held", "ttl": 300, "tag": 1108},
    }
    await a.send(frame)
    assert data_of(await b.next_push())["message"] == "held", "delivery does not wait for the commit"
    assert await a.subscribe(T3) == subscription_id(T3, a.client_id), "the publisher's next request is not held up"
    with pytest.raises(TimeoutError):
        await a.recv(timeout=0.3)
    store.commit()
    assert (await a.response(frame["id"]))["result"] is True


async def test_frames_for_a_subscriber_that_stopped_reading_wait_for_it_in_order(make_relay, clients):
    """Pushes a stalled subscriber's socket cannot take are kept (in order) and sent once it reads again; others are not held up."""
    relay = await make_relay(limits=Limits(publish_burst=1000, max_queued_bytes=64 * 1024 * 1024))
    publisher, live = await clients(relay), await clients(relay)
    await live.subscribe(T1)
    stalled = await DeadClient.subscribed(relay, T1)
    try:
        big = "A" * 200_000
        count = 80  # 16 MB: more than the socket buffers hold, so the relay has to keep some
        for i in range(count):
            assert await publisher.publish(T1, f"{i:03d}{big}") is True
            assert data_of(await live.next_push(timeout=TIMEOUT))["message"][:3] == f"{i:03d}"
        assert any(c.backlog for c in relay.subscribers[T1]), "the test did not fill the stalled client's socket"
        seen = []
        while len(seen) < count:
            opcode, payload = await asyncio.wait_for(_read_frame(stalled.reader), TIMEOUT)
            if opcode == 0x1:
                seen.append(json.loads(payload)["params"]["data"]["message"][:3])
        assert seen == [f"{i:03d}" for i in range(count)]
    finally:
        stalled.close()


async def test_a_subscriber_that_stops_reading_for_good_is_disconnected(make_relay, clients, caplog):
    """Past ``max_queued_bytes`` waiting the relay gives up on a stalled client instead of buffering without end."""
    relay = await make_relay(limits=Limits(publish_burst=1000, max_queued_bytes=1024 * 1024))
    publisher = await clients(relay)
    stalled = await DeadClient.subscribed(relay, T1)
    try:
        big = "B" * 200_000
        for i in range(100):
            assert await publisher.publish(T1, f"{i:03d}{big}") is True
            if "reads too slowly" in caplog.text:
                break
        assert "reads too slowly" in caplog.text
        assert await publisher.publish(T1, "still-answered") is True
    finally:
        stalled.close()


# --- wc_proposeSession / wc_approveSession --------------------------------------------------


def propose_params(proposal: str = "AEo1vOWF-proposal") -> dict[str, Any]:
    return {"pairingTopic": PAIRING, "sessionProposal": proposal, "ttl": 300, "correlationId": 1795456226156093}


def approve_params() -> dict[str, Any]:
    return {
        "sessionTopic": SESSION,
        "pairingTopic": PAIRING,
        "sessionProposalResponse": "AGLc-response",
        "sessionSettlementRequest": "AHw9-settle",
        "ttl": 300,
        "correlationId": 1795456226156093,
        "approvedChains": ["eip155:1"],
        "approvedMethods": ["personal_sign"],
        "approvedEvents": ["chainChanged"],
    }


async def test_propose_session_stores_the_proposal_and_subscribes_the_dapp(relay, clients):
    """The wallet that pairs later gets the proposal (tag 1100); the dapp, which never irn_subscribes, gets the wallet's reply."""
    dapp = await clients(relay)
    assert await dapp.call("wc_proposeSession", propose_params()) is True
    assert PAIRING in relay.subscribers
    wallet = await clients(relay)
    await wallet.subscribe(PAIRING)
    proposal = await wallet.next_push()
    assert data_of(proposal)["message"] == "AEo1vOWF-proposal" and data_of(proposal)["tag"] == 1100
    assert data_of(proposal)["topic"] == PAIRING
    await dapp.no_pushes()  # the dapp does not get its own proposal back
    await wallet.publish(PAIRING, "AJA-reject", tag=1120)
    reply = await dapp.next_push()
    assert data_of(reply)["message"] == "AJA-reject" and data_of(reply)["tag"] == 1120


async def test_approve_session_publishes_response_and_settle(relay, clients):
    """Approve puts the response (1101) on the pairing topic and the settle (1102) on the session topic, and subscribes the wallet."""
    dapp = await clients(relay)
    await dapp.call("wc_proposeSession", propose_params())
    wallet = await clients(relay)
    await wallet.subscribe(PAIRING)
    await wallet.next_push()  # the proposal
    assert await wallet.call("wc_approveSession", approve_params()) is True
    await wallet.no_pushes()  # neither of its own two messages comes back
    response = await dapp.next_push()
    assert (data_of(response)["topic"], data_of(response)["message"], data_of(response)["tag"]) == (
        PAIRING,
        "AGLc-response",
        1101,
    )
    await dapp.subscribe(SESSION)  # the dapp derives the session topic from the response
    settle = await dapp.next_push()
    assert (data_of(settle)["topic"], data_of(settle)["message"], data_of(settle)["tag"]) == (
        SESSION,
        "AHw9-settle",
        1102,
    )
    await dapp.publish(SESSION, "AByu-settle-ack", tag=1103)
    ack = await wallet.next_push()  # the wallet never irn_subscribed to the session topic
    assert (data_of(ack)["topic"], data_of(ack)["message"]) == (SESSION, "AByu-settle-ack")


async def test_handshake_messages_wait_in_the_mailbox_for_late_subscribers(relay, clients):
    """A client that subscribes after the whole handshake gets proposal, response (pairing topic) and settle (session topic) from the mailbox."""
    dapp, wallet = await clients(relay), await clients(relay)
    await dapp.call("wc_proposeSession", propose_params())
    await wallet.call("wc_approveSession", approve_params())
    late = await clients(relay)
    await late.subscribe(PAIRING)
    assert [(data_of(p)["message"], data_of(p)["tag"]) for p in [await late.next_push(), await late.next_push()]] == [
        ("AEo1vOWF-proposal", 1100),
        ("AGLc-response", 1101),
    ]
    await late.subscribe(SESSION)
    settle = await late.next_push()
    assert (data_of(settle)["message"], data_of(settle)["tag"]) == ("AHw9-settle", 1102)
    await late.no_pushes()


# --- fetch, receive, unsubscribe ------------------------------------------------------------


async def test_fetch_messages_returns_the_mailbox(relay, clients):
    """irn_fetchMessages / irn_batchFetchMessages answer {messages: [...], hasMore: false} without the caller's own messages."""
    a, b = await clients(relay), await clients(relay)
    await a.publish(T1, "one", tag=1108)
    await a.publish(T1, "two", tag=1109)
    await a.publish(T2, "three", tag=1108)
    fetched = await b.call("irn_fetchMessages", {"topic": T1})
    assert fetched["hasMore"] is False
    assert [(m["topic"], m["message"], m["tag"]) for m in fetched["messages"]] == [(T1, "one", 1108), (T1, "two", 1109)]
    assert all(isinstance(m["publishedAt"], int) for m in fetched["messages"])
    batch = await b.call("irn_batchFetchMessages", {"topics": [T1, T2]})
    assert batch["hasMore"] is False
    assert sorted(m["message"] for m in batch["messages"]) == ["one", "three", "two"]
    assert await a.call("irn_fetchMessages", {"topic": T1}) == {"messages": [], "hasMore": False}


async def test_batch_receive_acks(relay, clients):
    """irn_batchReceive {topic, messageId=sha256(message)} acks: not fetched again, not pushed again on reconnect."""
    a, b = await clients(relay), await clients(relay)
    await a.publish(T1, "got-it")
    await a.publish(T1, "not-yet")
    assert await b.call("irn_batchReceive", {"receipts": [{"topic": T1, "messageId": sha("got-it")}]}) is True
    assert [m["message"] for m in (await b.call("irn_fetchMessages", {"topic": T1}))["messages"]] == ["not-yet"]
    await b.close()
    again = await clients(relay, b.identity)
    await again.subscribe(T1)
    assert data_of(await again.next_push())["message"] == "not-yet"
    await again.no_pushes()


@pytest.mark.parametrize("method", ["irn_unsubscribe", "irn_batchUnsubscribe"])
async def test_unsubscribe_stops_delivery(relay, clients, method):
    """After irn_unsubscribe (id = sha256(topic+clientId)) nothing more arrives on that topic; other topics still do."""
    a, b = await clients(relay), await clients(relay)
    await b.call("irn_batchSubscribe", {"topics": [T1, T2]})
    unsub = {"topic": T1, "id": subscription_id(T1, b.client_id)}
    params = unsub if method == "irn_unsubscribe" else {"subscriptions": [unsub]}
    assert await b.call(method, params) is True
    await a.publish(T1, "after-unsubscribe")
    await a.publish(T2, "still-subscribed")
    assert data_of(await b.next_push())["message"] == "still-subscribed"
    await b.no_pushes()
    assert T1 not in relay.subscribers


# --- bad input ------------------------------------------------------------------------------

BAD_ID = "1795456226161833000"
BAD_INPUT: dict[str, tuple[Any, Any, int, str | None]] = {
    # name: (frame, id expected in the error, code, data)
    "not-json": ("{this is not json", None, -32700, None),
    "params-wrong-type": (
        {"id": BAD_ID, "jsonrpc": "2.0", "method": "irn_subscribe", "params": ["x"]},
        BAD_ID,
        -32602,
        None,
    ),
    "ttl-wrong-type": (
        {
            "id": BAD_ID,
            "jsonrpc": "2.0",
            "method": "irn_publish",
            "params": {"topic": T1, "message": "m", "ttl": "300"},
        },
        BAD_ID,
        -32602,
        None,
    ),
    "unknown-method": (
        {"id": BAD_ID, "jsonrpc": "2.0", "method": "irn_noSuchMethod", "params": {}},
        BAD_ID,
        -32601,
        None,
    ),
    "bad-topic": (
        {"id": BAD_ID, "jsonrpc": "2.0", "method": "irn_subscribe", "params": {"topic": "not-a-topic"}},
        BAD_ID,
        -32602,
        None,
    ),
    "ttl-too-short": (
        {
            "id": BAD_ID,
            "jsonrpc": "2.0",
            "method": "irn_publish",
            "params": {"topic": T1, "message": "m", "ttl": 1, "tag": 1108},
        },
        BAD_ID,
        -32600,
        "TtlTooShort",
    ),
    "no-jsonrpc-version": ({"id": BAD_ID, "method": "irn_subscribe", "params": {"topic": T1}}, BAD_ID, -32600, None),
    "server-only-method": (
        {
            "id": BAD_ID,
            "jsonrpc": "2.0",
            "method": "irn_subscription",
            "params": {"id": "x", "data": {"topic": T1, "message": "m"}},
        },
        BAD_ID,
        -32600,
        None,
    ),
    "binary-frame": (b"\x00\x01binary", None, -32600, None),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
async def test_bad_input_gets_an_error_on_that_connection_only(relay, clients, case):
    """A malformed frame gets a JSON-RPC error (right code, id echoed) while the sender and everyone else keep working."""
    frame, expected_id, code, data = BAD_INPUT[case]
    bad, a, b = await clients(relay), await clients(relay), await clients(relay)
    await b.subscribe(T1)
    await bad.send(frame)
    answer = await bad.response(expected_id)
    assert answer["jsonrpc"] == "2.0" and "result" not in answer
    assert answer["error"]["code"] == code, answer
    assert isinstance(answer["error"]["message"], str) and answer["error"]["message"]
    if data is not None:
        assert answer["error"]["data"] == data
    if case == "unknown-method":
        assert "irn_noSuchMethod" in answer["error"]["message"]
    if case == "ttl-too-short":
        assert await b.call("irn_fetchMessages", {"topic": T1}) == {"messages": [], "hasMore": False}, (
            "a refused publish is not stored"
        )
    # the offending connection is still open and usable
    assert await bad.subscribe(T2) == subscription_id(T2, bad.client_id)
    # and other clients are unaffected
    await a.publish(T1, f"after-{case}")
    assert data_of(await b.next_push())["message"] == f"after-{case}"


async def test_oversized_frame_closes_only_that_connection(relay, clients):
    """A 10 MB frame closes that socket with 1009 (message too big); other clients and new connections are fine."""
    a, b = await clients(relay), await clients(relay)
    await b.subscribe(T1)
    identity = RelayIdentity(os.urandom(32))
    big = await connect(f"{relay.url}/?auth={token(identity, relay.url)}", max_size=None)
    try:
        with pytest.raises(ConnectionClosed) as caught:
            await asyncio.wait_for(big.send("x" * 10_000_000), TIMEOUT)
            await asyncio.wait_for(big.recv(), TIMEOUT)
    finally:
        try:
            await asyncio.wait_for(big.close(), TIMEOUT)
        except Exception:
            pass
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1009, caught.value
    assert relay.limits.max_frame_bytes < 10_000_000
    await a.publish(T1, "still-alive")
    assert data_of(await b.next_push())["message"] == "still-alive"
    c = await clients(relay)
    assert await c.subscribe(T2) == subscription_id(T2, c.client_id)


async def test_topics_per_connection_limit(make_relay, clients):
    """Past max_topics_per_connection a subscribe gets error data "SubscriberLimitExceeded"; existing topics keep working."""
    relay = await make_relay(limits=Limits(max_topics_per_connection=5))
    client, publisher = await clients(relay), await clients(relay)
    topics = [f"{i:x}" * 64 for i in range(1, 8)]
    assert len(await client.call("irn_batchSubscribe", {"topics": topics[:4]})) == 4
    assert await client.subscribe(topics[4]) == subscription_id(topics[4], client.client_id)
    answer = await client.request("irn_subscribe", {"topic": topics[5]})
    assert answer["error"]["data"] == "SubscriberLimitExceeded", answer
    answer = await client.request("irn_batchSubscribe", {"topics": topics[5:7]})
    assert answer["error"]["data"] == "SubscriberLimitExceeded", answer
    assert await client.subscribe(topics[0]) == subscription_id(topics[0], client.client_id), (
        "re-subscribing a held topic is not a new one"
    )
    await client.call("irn_unsubscribe", {"topic": topics[0], "id": subscription_id(topics[0], client.client_id)})
    assert await client.subscribe(topics[5]) == subscription_id(topics[5], client.client_id), (
        "unsubscribing frees a slot"
    )
    await publisher.publish(topics[4], "within-limit")
    assert data_of(await client.next_push())["message"] == "within-limit"


async def test_publish_rate_limit(make_relay, clients):
    """With publish_burst 3 and 1/s, a 4th immediate publish gets error 3001; another client is not throttled."""
    relay = await make_relay(limits=Limits(publish_rate=1, publish_burst=3))
    chatty, calm, listener = await clients(relay), await clients(relay), await clients(relay)
    await listener.subscribe(T1)
    for i in range(3):
        assert await chatty.publish(T1, f"m{i}") is True
    answer = await chatty.request("irn_publish", {"topic": T1, "message": "m3", "ttl": 300, "tag": 1108})
    assert answer["error"]["code"] == 3001, answer
    assert answer["error"]["data"] == "TooManyRequests"
    assert await calm.publish(T1, "calm") is True
    received = [data_of(await listener.next_push())["message"] for _ in range(4)]
    assert received == ["m0", "m1", "m2", "calm"], "the refused publish is not delivered"
    await listener.no_pushes()


# --- keep-alive -------------------------------------------------------------------------------


def test_default_ping_interval_is_at_most_30_seconds():
    """Node SDKs drop a socket that sees no ping for 35 s, so the relay must ping at least every 30 s by default."""
    default = inspect.signature(RelayServer).parameters["ping_interval"].default
    assert 0 < default <= 30
    assert 0 < RelayServer(MemoryStore()).ping_interval <= 30


def _masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    n = len(payload)
    header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    return b0 & 0x0F, await reader.readexactly(n)


class DeadClient:
    """A websocket client made by hand over TCP, so it can go silent: it answers no pings and sends no close."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, identity: RelayIdentity) -> None:
        self.reader, self.writer, self.identity = reader, writer, identity
        self.opcodes: list[int] = []

    @classmethod
    async def subscribed(cls, relay: RelayServer, topic: str) -> DeadClient:
        identity = RelayIdentity(os.urandom(32))
        reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
        client = cls(reader, writer, identity)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /?auth={token(identity, relay.url)} HTTP/1.1\r\nHost: 127.0.0.1:{relay.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert head.startswith(b"HTTP/1.1 101"), head
        writer.write(
            _masked_text_frame(
                json.dumps(
                    {
                        "id": "1795456226161833728",
                        "jsonrpc": "2.0",
                        "method": "irn_subscribe",
                        "params": {"topic": topic},
                    }
                )
            )
        )
        while True:
            opcode, payload = await asyncio.wait_for(_read_frame(reader), TIMEOUT)
            client.opcodes.append(opcode)
            if opcode == 0x1:
                assert json.loads(payload)["result"] == subscription_id(topic, identity.client_id)
                return client

    async def read_until_eof(self) -> None:
        """Consume what the relay sends (answering nothing) until it closes the TCP connection."""
        while True:
            try:
                opcode, _ = await _read_frame(self.reader)
            except asyncio.IncompleteReadError:
                return
            self.opcodes.append(opcode)

    def close(self) -> None:
        self.writer.close()


async def test_unresponsive_client_is_pinged_then_dropped(make_relay):
    """A client that stops answering pings (dead network) is pinged, then the relay closes its TCP connection."""
    relay = await make_relay(ping_interval=0.3)
    dead = await DeadClient.subscribed(relay, T1)
    try:
        assert T1 in relay.subscribers
        started = time.monotonic()
        await asyncio.wait_for(dead.read_until_eof(), TIMEOUT)
        assert 0x9 in dead.opcodes, f"no ping frame seen (opcodes {dead.opcodes})"
        assert 0x8 in dead.opcodes, "the relay closes with a close frame before the EOF"
        assert time.monotonic() - started < TIMEOUT
    finally:
        dead.close()


async def test_dead_subscriber_does_not_stall_delivery_to_others(make_relay, clients):
    """Once the keep-alive has given up on a silent client, publishes on its topic still reach live subscribers and are answered at once."""
    relay = await make_relay(ping_interval=0.3)
    publisher, live = await clients(relay, ping_interval=None), await clients(relay, ping_interval=None)
    await live.subscribe(T1)
    dead = await DeadClient.subscribed(relay, T1)
    try:
        await asyncio.wait_for(dead.read_until_eof(), TIMEOUT)  # keep-alive failed; the relay has closed on it
        started = time.monotonic()
        frame = {
            "id": RawClient.new_id(),
            "jsonrpc": "2.0",
            "method": "irn_publish",
            "params": {"topic": T1, "message": "for-the-living", "ttl": 300, "tag": 1108},
        }
        await publisher.send(frame)
        try:
            push = await live.next_push(timeout=TIMEOUT)
            answer = await publisher.response(frame["id"], timeout=TIMEOUT)
        except TimeoutError:
            raise AssertionError(
                f"no push or no publish answer within {TIMEOUT:g} s: fan-out is waiting on the dead connection"
            ) from None
        assert data_of(push)["message"] == "for-the-living" and answer["result"] is True
        assert time.monotonic() - started < 1.0, "delivery waited on the dead connection"
    finally:
        dead.close()


async def test_client_that_answers_pings_stays_connected(make_relay, clients):
    """A healthy idle client (answering pings, sending nothing) is not dropped by the keep-alive."""
    relay = await make_relay(ping_interval=0.3)
    idle = await clients(relay, ping_interval=None)  # the client itself never pings; it only answers
    other = await clients(relay)
    await idle.subscribe(T1)
    await asyncio.sleep(1.5)  # five ping intervals
    assert T1 in relay.subscribers
    await other.publish(T1, "after-idle")
    assert data_of(await idle.next_push())["message"] == "after-idle"
