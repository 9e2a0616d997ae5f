"""The relay's websocket server: auth, the irn_* methods, pushes and acks.

Delivery rules live in :mod:`walletsync.relay.mailbox`; this module only moves
frames. Each connection is authenticated once (relay-auth JWT from the ``auth``
query parameter or an ``Authorization: Bearer`` header); its client id is the
JWT's did:key. A bad frame gets a JSON-RPC error on that connection only; a bad
JWT closes it with code 3000 and the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from walletsync.protocol.errors import InvalidJwt
from walletsync.protocol.relay_auth import subscription_id, verify_jwt
from walletsync.protocol.relay_rpc import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    ApproveSession,
    BatchFetchMessages,
    BatchPublish,
    BatchReceive,
    BatchSubscribe,
    BatchUnsubscribe,
    FetchMessages,
    FrameError,
    HANDLER_ERROR,
    Params,
    ProposeSession,
    Publish,
    RelayError,
    RelayRequest,
    RelayResult,
    Subscribe,
    Subscription,
    Unsubscribe,
    encode_error,
    encode_request,
    encode_result,
    normalize_id,
    parse_frame,
    push_id,
)
from walletsync.relay.mailbox import Limits, Mailbox, MailboxStore, RelayRefusal, StoredMessage

log = logging.getLogger("walletsync.relay")

AUTH_CLOSE_CODE = 3000
PURGE_INTERVAL = 60.0
MAX_UNACKED_PUSHES = 10_000
OUTBOX_LIMIT = 5_000
SLOW_CLIENT_CLOSE = 1008


class Fanout(Protocol):
    """Cross-process delivery (Redis pub/sub); absent for a single relay process."""

    async def start(self, deliver: Callable[[StoredMessage], Any]) -> None: ...
    async def announce(self, message: StoredMessage) -> None: ...
    async def stop(self) -> None: ...


@dataclass(eq=False)
class Client:
    """One authenticated websocket connection.

    Frames to it go through ``outbox`` and its own writer task, so a slow or dead
    client only ever delays itself, never a publisher or other subscribers.
    """

    ws: ServerConnection
    client_id: str
    topics: set[str] = field(default_factory=set)
    pushes: dict[int, tuple[str, str]] = field(default_factory=dict)
    outbox: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(OUTBOX_LIMIT))

    async def write_forever(self) -> None:
        while True:
            text = await self.outbox.get()
            try:
                await self.ws.send(text)
            except ConnectionClosed:
                return


class RelayServer:
    """A WalletConnect-compatible relay. ``await start()``, then ``url``; ``await stop()`` to end."""

    def __init__(
        self,
        store: MailboxStore,
        *,
        host: str = "127.0.0.1",
        port: int = 8787,
        limits: Limits | None = None,
        fanout: Fanout | None = None,
        ping_interval: float = 20.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.mailbox = Mailbox(store, limits)
        self.limits = self.mailbox.limits
        self.host, self.port = host, port
        self.fanout = fanout
        self.ping_interval = ping_interval
        self.clock = clock
        self.node_id = uuid.uuid4().hex
        self.subscribers: dict[str, set[Client]] = {}
        self._server: Server | None = None
        self._purger: asyncio.Task | None = None
        self._last_push = 0

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    async def start(self) -> None:
        self._server = await serve(
            self._serve,
            self.host,
            self.port,
            max_size=self.limits.max_frame_bytes,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            compression=None,
            server_header="walletsync-relay",
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self.fanout is not None:
            await self.fanout.start(self._deliver_local)
        self._purger = asyncio.create_task(self._purge_forever(), name="relay-purge")
        log.info("relay listening on %s", self.url)

    async def stop(self) -> None:
        if self._purger:
            self._purger.cancel()
        if self.fanout is not None:
            await self.fanout.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self.store.close()

    async def _purge_forever(self) -> None:
        while True:
            await asyncio.sleep(PURGE_INTERVAL)
            try:
                await self.store.purge(int(self.clock() * 1000))
            except Exception:  # a store hiccup must not stop the relay
                log.exception("mailbox purge failed")

    # --- connections --------------------------------------------------------------------

    def _authenticate(self, ws: ServerConnection) -> str:
        request = ws.request
        query = parse_qs(urlsplit(request.path).query) if request else {}
        token = (query.get("auth") or [None])[0]
        header = request.headers.get("Authorization", "") if request else ""
        if not token and header.lower().startswith("bearer "):
            token = header[7:].strip()
        if not token:
            raise InvalidJwt("missing relay-auth JWT (auth query parameter or Authorization: Bearer)")
        claims = verify_jwt(token, now=self.clock())
        if not claims.aud.startswith(("ws://", "wss://", "http://", "https://")):
            raise InvalidJwt(f"JWT audience {claims.aud[:40]!r} is not a relay URL")
        return claims.client_id

    async def _serve(self, ws: ServerConnection) -> None:
        try:
            client = Client(ws, self._authenticate(ws))
        except InvalidJwt as exc:
            reason = f"invalid JWT: {exc}".encode("utf-8")[:123].decode("utf-8", "ignore")  # close reasons are ≤ 123 bytes
            await ws.close(AUTH_CLOSE_CODE, reason)
            return
        log.info("client %s connected", client.client_id[-8:])
        writer = asyncio.create_task(client.write_forever(), name=f"relay-writer {client.client_id[-8:]}")
        try:
            async for raw in ws:
                await self._on_frame(client, raw)
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            for topic in client.topics:
                subs = self.subscribers.get(topic)
                if subs is not None:
                    subs.discard(client)
                    if not subs:
                        del self.subscribers[topic]
            log.info("client %s disconnected (%s)", client.client_id[-8:], ws.close_code)

    def _send(self, client: Client, text: str) -> None:
        """Queue a frame for ``client``; one that stopped reading is disconnected, not waited for."""
        try:
            client.outbox.put_nowait(text)
        except asyncio.QueueFull:
            log.warning("client %s reads too slowly; disconnecting it", client.client_id[-8:])
            asyncio.create_task(client.ws.close(SLOW_CLIENT_CLOSE, "too many unread messages"))

    async def _on_frame(self, client: Client, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            self._send(client, encode_error(None, INVALID_REQUEST, "binary frames are not supported", "InvalidPayload"))
            return
        try:
            frame = parse_frame(raw)
        except FrameError as exc:
            self._send(client, encode_error(exc.request_id, exc.rpc_code, str(exc), "InvalidPayload"))
            return
        if isinstance(frame, RelayRequest):
            await self._on_request(client, frame)
        elif isinstance(frame, (RelayResult, RelayError)):
            await self._on_ack(client, frame)

    async def _on_ack(self, client: Client, frame: RelayResult | RelayError) -> None:
        try:
            pushed = client.pushes.pop(normalize_id(frame.id), None)
        except FrameError:
            return
        if pushed is not None and isinstance(frame, RelayResult):
            await self.store.ack(pushed[0], pushed[1], client.client_id)

    async def _on_request(self, client: Client, request: RelayRequest) -> None:
        if log.isEnabledFor(logging.DEBUG):
            topics = self._topics_of(request.params) or ((request.params.topic,) if hasattr(request.params, "topic") else ())
            tag = f" tag={request.params.tag}" if isinstance(request.params, Publish) else ""
            log.debug("client %s: %s %s%s", client.client_id[-8:], request.method, ",".join(t[:8] for t in topics), tag)
        handler = HANDLERS.get(type(request.params))
        try:
            if handler is None:  # e.g. a client sending irn_subscription to the relay
                raise RelayRefusal(f"{request.method} is not a client method", INVALID_REQUEST, "InvalidMethod")
            result = await handler(self, client, request.params)
        except RelayRefusal as exc:
            self._send(client, encode_error(request.id, exc.rpc_code, str(exc), exc.tag))
            return
        except Exception:
            log.exception("%s failed for client %s", request.method, client.client_id[-8:])
            self._send(client, encode_error(request.id, INTERNAL_ERROR, "internal relay error", "Internal"))
            return
        self._send(client, encode_result(request.id, result))
        if isinstance(request.params, (Subscribe, BatchSubscribe, ProposeSession, ApproveSession)):
            await self._flush_mailboxes(client, self._topics_of(request.params))

    @staticmethod
    def _topics_of(params: Params) -> tuple[str, ...]:
        if isinstance(params, Subscribe):
            return (params.topic,)
        if isinstance(params, BatchSubscribe):
            return params.topics
        if isinstance(params, ProposeSession):
            return (params.pairing_topic,)
        if isinstance(params, ApproveSession):
            return (params.session_topic,)
        return ()

    # --- subscriptions --------------------------------------------------------------

    def _subscribe(self, client: Client, topics: tuple[str, ...]) -> list[str]:
        new = [t for t in dict.fromkeys(topics) if t not in client.topics]
        if len(client.topics) + len(new) > self.limits.max_topics_per_connection:
            raise RelayRefusal(f"more than {self.limits.max_topics_per_connection} topics on one connection", HANDLER_ERROR, "SubscriberLimitExceeded")
        for topic in new:
            client.topics.add(topic)
            self.subscribers.setdefault(topic, set()).add(client)
        return [subscription_id(t, client.client_id) for t in topics]

    def _unsubscribe(self, client: Client, topic: str) -> None:
        client.topics.discard(topic)
        subs = self.subscribers.get(topic)
        if subs is not None:
            subs.discard(client)
            if not subs:
                del self.subscribers[topic]

    async def _flush_mailboxes(self, client: Client, topics: tuple[str, ...]) -> None:
        """Push what each topic holds for this client: how messages reach late subscribers."""
        now_ms = int(self.clock() * 1000)
        for topic in topics:
            for message in await self.store.undelivered(topic, client.client_id, now_ms):
                self._push(client, message)

    # --- publishing and delivery --------------------------------------------------

    async def _publish(self, client: Client, topic: str, message: str, ttl: int, tag: int, prompt: bool, attestation: str | None = None) -> None:
        stored = await self.mailbox.publish(
            topic=topic, message=message, ttl=ttl, tag=tag, prompt=prompt, attestation=attestation,
            publisher=client.client_id, now=self.clock(),
        )
        if stored is None:
            return  # a retry or replay: stored and delivered already
        await self._deliver_local(stored)
        if self.fanout is not None:
            await self.fanout.announce(stored)

    async def _deliver_local(self, message: StoredMessage) -> None:
        for client in list(self.subscribers.get(message.topic, ())):
            if client.client_id != message.publisher:
                self._push(client, message)

    def _next_push_id(self) -> int:
        self._last_push = max(push_id(int(self.clock() * 1000), 0), self._last_push + 1)
        return self._last_push

    def _push(self, client: Client, message: StoredMessage) -> None:
        pid = self._next_push_id()
        client.pushes[pid] = (message.topic, message.id)
        if len(client.pushes) > MAX_UNACKED_PUSHES:
            client.pushes.pop(next(iter(client.pushes)))
        params = Subscription(subscription_id(message.topic, client.client_id), message.to_data())
        self._send(client, encode_request(pid, params))

    # --- methods ----------------------------------------------------------------------

    async def _m_subscribe(self, client: Client, p: Subscribe) -> str:
        return self._subscribe(client, (p.topic,))[0]

    async def _m_batch_subscribe(self, client: Client, p: BatchSubscribe) -> list[str]:
        return self._subscribe(client, p.topics)

    async def _m_unsubscribe(self, client: Client, p: Unsubscribe) -> bool:
        self._unsubscribe(client, p.topic)
        return True

    async def _m_batch_unsubscribe(self, client: Client, p: BatchUnsubscribe) -> bool:
        for sub in p.subscriptions:
            self._unsubscribe(client, sub.topic)
        return True

    async def _m_publish(self, client: Client, p: Publish) -> bool:
        self.mailbox.check_rate(client.client_id, self.clock())
        await self._publish(client, p.topic, p.message, p.ttl, p.tag, p.prompt, p.attestation)
        return True

    async def _m_batch_publish(self, client: Client, p: BatchPublish) -> bool:
        self.mailbox.check_rate(client.client_id, self.clock(), len(p.messages))
        for m in p.messages:
            await self._publish(client, m.topic, m.message, m.ttl, m.tag, m.prompt, m.attestation)
        return True

    async def _fetch(self, client: Client, topics: tuple[str, ...]) -> dict[str, Any]:
        now_ms = int(self.clock() * 1000)
        messages = [m.to_data().to_json() for t in topics for m in await self.store.undelivered(t, client.client_id, now_ms)]
        return {"messages": messages, "hasMore": False}

    async def _m_fetch(self, client: Client, p: FetchMessages) -> dict[str, Any]:
        return await self._fetch(client, (p.topic,))

    async def _m_batch_fetch(self, client: Client, p: BatchFetchMessages) -> dict[str, Any]:
        return await self._fetch(client, p.topics)

    async def _m_batch_receive(self, client: Client, p: BatchReceive) -> bool:
        for receipt in p.receipts:
            await self.store.ack(receipt.topic, receipt.message_id, client.client_id)
        return True

    async def _m_propose(self, client: Client, p: ProposeSession) -> bool:
        self.mailbox.check_rate(client.client_id, self.clock())
        self._subscribe(client, (p.pairing_topic,))
        await self._publish(client, p.pairing_topic, p.session_proposal, p.ttl, 1100, True, p.attestation)
        return True

    async def _m_approve(self, client: Client, p: ApproveSession) -> bool:
        self.mailbox.check_rate(client.client_id, self.clock(), 2)
        self._subscribe(client, (p.session_topic,))
        await self._publish(client, p.pairing_topic, p.session_proposal_response, p.ttl, 1101, False)
        await self._publish(client, p.session_topic, p.session_settlement_request, p.ttl, 1102, False)
        return True


HANDLERS: dict[type, Callable[..., Any]] = {
    Subscribe: RelayServer._m_subscribe,
    BatchSubscribe: RelayServer._m_batch_subscribe,
    Unsubscribe: RelayServer._m_unsubscribe,
    BatchUnsubscribe: RelayServer._m_batch_unsubscribe,
    Publish: RelayServer._m_publish,
    BatchPublish: RelayServer._m_batch_publish,
    FetchMessages: RelayServer._m_fetch,
    BatchFetchMessages: RelayServer._m_batch_fetch,
    BatchReceive: RelayServer._m_batch_receive,
    ProposeSession: RelayServer._m_propose,
    ApproveSession: RelayServer._m_approve,
}
