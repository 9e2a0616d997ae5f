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
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from walletsync.protocol.errors import InvalidJwt
from walletsync.protocol.relay_auth import subscription_id, verify_jwt
from walletsync.protocol.relay_rpc import (
    HANDLER_ERROR,
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
    Params,
    ProposeSession,
    Publish,
    RelayError,
    RelayRequest,
    RelayResult,
    Subscribe,
    Unsubscribe,
    encode_error,
    encode_result,
    normalize_id,
    parse_frame,
)
from walletsync.relay import wire
from walletsync.relay.audience import accepted_origins, origin
from walletsync.relay.frames import ACK, data_json, push_frame, quick_frame, result_true
from walletsync.relay.logs import redacting
from walletsync.relay.mailbox import (
    PAGE_OVERHEAD,
    Limits,
    Mailbox,
    MailboxStore,
    RelayRefusal,
    StoredMessage,
    stored_size,
)

log = logging.getLogger("walletsync.relay")

AUTH_CLOSE_CODE = 3000
PURGE_INTERVAL = 60.0
MAX_UNACKED_PUSHES = 10_000
SLOW_CLIENT_CLOSE = 1008
MAX_JWT_LIFETIME = 86400
"""the longest relay-auth token lifetime accepted (exp - iat): what the JS SDK issues, one day"""
FLUSH_SHARE = 0.5
"""mailbox pushes and fetch replies wait while a connection has more than this share of
``Limits.max_queued_bytes`` unread, leaving the rest for live pushes"""
MAX_PAGING_IDS = 100_000


class Fanout(Protocol):
    """Cross-process delivery (Redis pub/sub); absent for a single relay process."""

    async def start(self, deliver: Callable[[StoredMessage], Any]) -> None: ...
    async def announce(self, message: StoredMessage) -> None: ...
    async def stop(self) -> None: ...


def _wake(client: Client) -> None:
    if client.room is not None:
        client.room.set()


def _size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


@dataclass(eq=False, slots=True)
class Client:
    """One authenticated websocket connection.

    Frames to it are written straight into its socket buffer while that buffer has
    room; once the client stops reading fast enough (websockets pauses writing),
    they wait in ``backlog`` for a drain task. What waits for it, in all (backlog,
    this turn's frames, the socket's write buffer), is bounded by
    ``Limits.max_queued_bytes``: a client past it is disconnected (its messages stay in
    the mailbox). Either way a slow or dead client only ever delays itself, never a
    publisher or other subscribers.
    """

    ws: ServerConnection
    client_id: str
    address: str | None = None
    """source IP address (per-address publish limits)"""
    topics: dict[str, str] = field(default_factory=dict)
    """subscribed topic → its subscription id (sha256(topic + client id), what pushes carry)"""
    pushes: dict[int, tuple[str, str]] = field(default_factory=dict)
    backlog: deque[tuple[str, int]] | None = None
    """frames (and their sizes) waiting for the drain task"""
    backlog_bytes: int = 0
    inflight: int = 0
    """bytes of the frame the drain task is sending (fallback path: not yet in a buffer we can see)"""
    unflushed: bool = False
    """frames are waiting in the websocket's output buffer for this turn of the loop to end"""
    unflushed_bytes: int = 0
    drainer: asyncio.Task | None = None
    direct: bool = True
    """can frames go straight to the socket? (:mod:`wire`'s fast path; else always through the backlog)"""
    room: asyncio.Event | None = None
    """made by whoever waits for room (:meth:`RelayServer._room`); set whenever queued bytes go
    down (the drain task sent a frame) or the client is gone"""
    too_slow: bool = False
    closer: asyncio.Task | None = None
    paging: set[str] | None = None
    """ids an unfinished (``hasMore``) fetch already returned on this connection"""


class RelayServer:
    """A WalletConnect-compatible relay. ``await start()``, then ``url``; ``await stop()`` to end.

    ``public_urls``: the URLs clients reach it by (behind a proxy, or by a name), accepted as
    token audiences besides the listening URL (see :mod:`walletsync.relay.audience`).
    """

    def __init__(
        self,
        store: MailboxStore,
        *,
        host: str = "127.0.0.1",
        port: int = 8787,
        limits: Limits | None = None,
        fanout: Fanout | None = None,
        ping_interval: float = 20.0,
        public_urls: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.mailbox = Mailbox(store, limits)
        self.limits = self.mailbox.limits
        self.host, self.port = host, port
        self.fanout = fanout
        self.ping_interval = ping_interval
        self.public_urls = tuple(public_urls)
        accepted_origins("127.0.0.1", 0, self.public_urls)  # a bad public URL fails here, before listening
        self.clock = clock
        self.node_id = uuid.uuid4().hex
        self.subscribers: dict[str, set[Client]] = {}
        self._server: Server | None = None
        self._purger: asyncio.Task | None = None
        self._last_push = 0
        self._unflushed: list[Client] = []
        self._audiences: frozenset = frozenset()

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
            logger=redacting("websockets.server"),  # it logs request paths, which carry ?auth= tokens
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._audiences = accepted_origins(self.host, self.port, self.public_urls)
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
        aud = origin(claims.aud)
        if aud is None:
            raise InvalidJwt(f"JWT audience {claims.aud[:40]!r} is not a relay URL")
        if aud not in self._audiences:
            raise InvalidJwt(f"JWT audience {claims.aud[:40]!r} is not this relay (see walletsync relay --public-url)")
        if claims.exp - claims.iat > MAX_JWT_LIFETIME:
            raise InvalidJwt(f"JWT lifetime {claims.exp - claims.iat} s is longer than {MAX_JWT_LIFETIME} s")
        return claims.client_id

    async def _serve(self, ws: ServerConnection) -> None:
        try:
            client = Client(ws, self._authenticate(ws))
        except InvalidJwt as exc:
            reason = f"invalid JWT: {exc}".encode()[:123].decode("utf-8", "ignore")  # close reasons are ≤ 123 bytes
            await ws.close(AUTH_CLOSE_CODE, reason)
            return
        client.direct = wire.can_write_direct(ws)
        peer = ws.remote_address
        client.address = peer[0] if isinstance(peer, tuple) and peer else None
        log.info("client %s connected", client.client_id[-8:])
        try:
            async for raw in ws:
                await self._on_frame(client, raw)
        except ConnectionClosed:
            pass
        finally:
            if client.drainer is not None:
                client.drainer.cancel()
            client.too_slow = True  # nothing more is queued for it
            _wake(client)
            for topic in client.topics:
                subs = self.subscribers.get(topic)
                if subs is not None:
                    subs.discard(client)
                    if not subs:
                        del self.subscribers[topic]
            log.info("client %s disconnected (%s)", client.client_id[-8:], ws.close_code)

    def _queued(self, client: Client) -> int:
        """Bytes sent to ``client`` that it has not read yet (as far as this process can see)."""
        queued = client.backlog_bytes + client.unflushed_bytes + client.inflight
        return queued + wire.buffered_bytes(client.ws) if client.direct else queued

    def _send(self, client: Client, text: str) -> None:
        """Send a frame to ``client`` without waiting; one that stopped reading is disconnected, not waited for.

        While the client reads, frames go into its websocket's output buffer (what ``ws.send()``
        does, minus waiting for a drain that is not needed) and all frames for it from one turn of
        the loop leave in one socket write at the end of that turn (:meth:`_flush`).
        """
        if client.too_slow:
            return
        size = _size(text)
        queued = self._queued(client)
        if queued and queued + size > self.limits.max_queued_bytes:
            self._too_slow(client, queued + size)
            return
        backlog = client.backlog
        if backlog is None:
            ws = client.ws
            if client.direct and not wire.paused(ws):
                if wire.is_open(ws):
                    wire.buffer_frame(ws, text.encode("utf-8", "surrogatepass"))
                    client.unflushed_bytes += size
                    if not client.unflushed:
                        client.unflushed = True
                        if not self._unflushed:
                            asyncio.get_running_loop().call_soon(self._flush)
                        self._unflushed.append(client)
                return  # closing or closed: ws.send() would drop the frame too
            backlog = client.backlog = deque()
            client.drainer = asyncio.create_task(
                self._drain(client, backlog), name=f"relay-drain {client.client_id[-8:]}"
            )
        backlog.append((text, size))
        client.backlog_bytes += size

    def _too_slow(self, client: Client, queued: int) -> None:
        """Disconnect a client that lets more than ``max_queued_bytes`` pile up; what it missed stays in the mailbox."""
        client.too_slow = True
        if client.backlog is not None:
            client.backlog.clear()
        client.backlog_bytes = 0
        _wake(client)
        log.warning(
            "client %s reads too slowly (%d bytes unread, limit %d); disconnecting it",
            client.client_id[-8:],
            queued,
            self.limits.max_queued_bytes,
        )
        client.closer = asyncio.create_task(client.ws.close(SLOW_CLIENT_CLOSE, "reads too slowly"))

    async def _room(self, client: Client, size: int) -> bool:
        """Wait until ``client`` has room for ``size`` more bytes within :data:`FLUSH_SHARE` of its bound.

        False once it is gone (or being disconnected). How bulk sends (a mailbox, a fetch
        reply) go out as fast as the client reads them instead of all at once.
        """
        limit = self.limits.max_queued_bytes * FLUSH_SHARE
        while not client.too_slow:
            queued = self._queued(client)
            if not queued or queued + size <= limit:
                return True
            if client.backlog is not None or client.inflight:
                room = client.room = client.room or asyncio.Event()
                room.clear()
                await room.wait()
            elif client.unflushed_bytes:
                await asyncio.sleep(0)  # let this turn's frames be written (_flush), then look again
            elif client.direct and wire.paused(client.ws):
                await wire.drain(client.ws)
            else:
                return True  # what is queued is in a buffer that is not held back
        return False

    def _flush(self) -> None:
        """Write out what this turn of the loop queued, one socket write per client."""
        clients, self._unflushed = self._unflushed, []
        for client in clients:
            client.unflushed = False
            client.unflushed_bytes = 0
            wire.flush(client.ws)

    @staticmethod
    async def _drain(client: Client, backlog: deque[tuple[str, int]]) -> None:
        """Send the backlog in order, waiting for the socket as needed; then frames go direct again."""
        try:
            while backlog:
                text, size = backlog.popleft()
                client.backlog_bytes -= size
                client.inflight = 0 if client.direct else size  # direct: in the transport's buffer, counted there
                await client.ws.send(text)
                client.inflight = 0
                _wake(client)
        except ConnectionClosed:
            backlog.clear()
        finally:
            client.backlog_bytes = client.inflight = 0
            client.backlog = client.drainer = None
            _wake(client)

    async def _on_frame(self, client: Client, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            self._send(client, encode_error(None, INVALID_REQUEST, "binary frames are not supported", "InvalidPayload"))
            return
        quick = quick_frame(raw)
        if quick is not None:
            if quick[0] == ACK:
                pushed = client.pushes.pop(quick[1], None)
                if pushed is not None:
                    await self.store.ack(pushed[0], pushed[1], client.client_id)
            else:  # PUBLISH: what _on_request does with a Publish, without building the request objects
                _, rid, topic, message, ttl, tag, prompt, attestation = quick
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("client %s: %s %s tag=%s", client.client_id[-8:], Publish.METHOD, topic[:8], tag)
                try:
                    self.mailbox.check_rate(
                        client.client_id, self.clock(), address=client.address, size=stored_size(message, attestation)
                    )
                    await self._publish(client, topic, message, ttl, tag, prompt, attestation)
                except RelayRefusal as exc:
                    self._send(client, encode_error(rid, exc.rpc_code, str(exc), exc.tag))
                except Exception:
                    log.exception("%s failed for client %s", Publish.METHOD, client.client_id[-8:])
                    self._send(client, encode_error(rid, INTERNAL_ERROR, "internal relay error", "Internal"))
                else:
                    # answered once durable, without holding up this connection's next frames meanwhile
                    self.store.after_commit(lambda error: self._answer_publish(client, rid, error))
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

    def _answer_publish(self, client: Client, request_id: int | str, error: BaseException | None) -> None:
        if error is None:
            self._send(client, result_true(request_id))
        else:
            log.error("%s failed for client %s: %s", Publish.METHOD, client.client_id[-8:], error)
            self._send(client, encode_error(request_id, INTERNAL_ERROR, "internal relay error", "Internal"))

    async def _on_ack(self, client: Client, frame: RelayResult | RelayError) -> None:
        try:
            pushed = client.pushes.pop(normalize_id(frame.id), None)
        except FrameError:
            return
        if pushed is not None and isinstance(frame, RelayResult):
            await self.store.ack(pushed[0], pushed[1], client.client_id)

    async def _on_request(self, client: Client, request: RelayRequest) -> None:
        if log.isEnabledFor(logging.DEBUG):
            topics = self._topics_of(request.params) or (
                (request.params.topic,) if hasattr(request.params, "topic") else ()
            )
            tag = f" tag={request.params.tag}" if isinstance(request.params, Publish) else ""
            log.debug("client %s: %s %s%s", client.client_id[-8:], request.method, ",".join(t[:8] for t in topics), tag)
        handler = HANDLERS.get(type(request.params))
        try:
            if handler is None:  # e.g. a client sending irn_subscription to the relay
                raise RelayRefusal(f"{request.method} is not a client method", INVALID_REQUEST, "InvalidMethod")
            result = await handler(self, client, request.params)
            if isinstance(request.params, STORING):
                await self.store.committed()  # a publish is answered once it would survive a crash
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
            raise RelayRefusal(
                f"more than {self.limits.max_topics_per_connection} topics on one connection",
                HANDLER_ERROR,
                "SubscriberLimitExceeded",
            )
        for topic in new:
            client.topics[topic] = subscription_id(topic, client.client_id)
            self.subscribers.setdefault(topic, set()).add(client)
        return [client.topics[t] for t in topics]

    def _unsubscribe(self, client: Client, topic: str) -> None:
        client.topics.pop(topic, None)
        subs = self.subscribers.get(topic)
        if subs is not None:
            subs.discard(client)
            if not subs:
                del self.subscribers[topic]

    async def _flush_mailboxes(self, client: Client, topics: tuple[str, ...]) -> None:
        """Push what each topic holds for this client: how messages reach late subscribers.

        A page at a time, each push once the client has room for it (:meth:`_room`): a big
        mailbox goes out as fast as the client reads, never all into memory at once.
        """
        page_bytes = max(1, int(self.limits.max_queued_bytes * FLUSH_SHARE))
        for topic in dict.fromkeys(topics):
            sent: set[str] = set()
            more = True
            while more:
                page, more = await self.store.undelivered_page(
                    topic, client.client_id, int(self.clock() * 1000), page_bytes, sent
                )
                if not page:
                    break
                for message in page:
                    sent.add(message.id)
                    if topic not in client.topics:
                        return  # unsubscribed meanwhile
                    data = data_json(message)
                    if not await self._room(client, len(data)):
                        return
                    self._push(client, message, data)

    # --- publishing and delivery --------------------------------------------------

    async def _publish(
        self, client: Client, topic: str, message: str, ttl: int, tag: int, prompt: bool, attestation: str | None = None
    ) -> None:
        stored = await self.mailbox.publish(
            topic=topic,
            message=message,
            ttl=ttl,
            tag=tag,
            prompt=prompt,
            attestation=attestation,
            publisher=client.client_id,
            now=self.clock(),
        )
        if stored is None:
            return  # a retry or replay: stored and delivered already
        await self._deliver_local(stored)
        if self.fanout is not None:
            await self.fanout.announce(stored)

    async def _deliver_local(self, message: StoredMessage) -> None:
        subscribers = self.subscribers.get(message.topic)
        if not subscribers:
            return
        data = None
        for client in list(subscribers):
            if client.client_id != message.publisher:
                if data is None:
                    data = data_json(message)  # encoded once, shared by every push of this message
                self._push(client, message, data)

    def _next_push_id(self) -> int:
        """Increasing ids, ``now_ms << 8`` (as ``push_id(now_ms, 0)``) unless that would not increase."""
        pid = int(self.clock() * 1000) << 8
        self._last_push = pid = pid if pid > self._last_push else self._last_push + 1
        return pid

    def _push(self, client: Client, message: StoredMessage, data: str) -> None:
        """Send ``message`` (``data`` = its :func:`data_json`) as an irn_subscription push; its ack is expected under the push id."""
        pid = self._next_push_id()
        pushes = client.pushes
        pushes[pid] = (message.topic, message.id)
        if len(pushes) > MAX_UNACKED_PUSHES:
            pushes.pop(next(iter(pushes)))
        subscription = client.topics.get(message.topic) or subscription_id(message.topic, client.client_id)
        self._send(client, push_frame(pid, subscription, data))

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

    def _check_rate(self, client: Client, cost: int = 1, size: int = 0) -> None:
        self.mailbox.check_rate(client.client_id, self.clock(), cost, address=client.address, size=size)

    async def _m_publish(self, client: Client, p: Publish) -> bool:
        self._check_rate(client, 1, stored_size(p.message, p.attestation))
        await self._publish(client, p.topic, p.message, p.ttl, p.tag, p.prompt, p.attestation)
        return True

    async def _m_batch_publish(self, client: Client, p: BatchPublish) -> bool:
        self._check_rate(client, len(p.messages), sum(stored_size(m.message, m.attestation) for m in p.messages))
        for m in p.messages:
            await self._publish(client, m.topic, m.message, m.ttl, m.tag, m.prompt, m.attestation)
        return True

    async def _fetch(self, client: Client, topics: tuple[str, ...]) -> dict[str, Any]:
        """Up to ``max_reply_bytes`` of messages (each topic once), ``hasMore`` when some did not fit.

        The messages a ``hasMore`` reply carried are left out of this connection's next fetch, so a
        client that fetches until ``hasMore`` is false gets each message once.
        """
        now_ms = int(self.clock() * 1000)
        budget = self.limits.max_reply_bytes
        skip = client.paging if client.paging is not None else set()
        messages: list[dict[str, Any]] = []
        more = False
        for topic in dict.fromkeys(topics):
            if budget <= 0:
                more = True
                break
            page, more = await self.store.undelivered_page(topic, client.client_id, now_ms, budget, skip)
            size = sum(stored_size(m.message, m.attestation) for m in page) + PAGE_OVERHEAD * len(page)
            if messages and size > budget:  # this topic's first message alone is over what is left
                more = True
                break
            budget -= size
            messages += [m.to_data().to_json() for m in page]
            skip.update(m.id for m in page)
            if more:
                break
        client.paging = skip if more and len(skip) <= MAX_PAGING_IDS else None
        if self.limits.max_reply_bytes and messages:
            await self._room(client, self.limits.max_reply_bytes - max(budget, 0))
        return {"messages": messages, "hasMore": more}

    async def _m_fetch(self, client: Client, p: FetchMessages) -> dict[str, Any]:
        return await self._fetch(client, (p.topic,))

    async def _m_batch_fetch(self, client: Client, p: BatchFetchMessages) -> dict[str, Any]:
        return await self._fetch(client, p.topics)

    async def _m_batch_receive(self, client: Client, p: BatchReceive) -> bool:
        for receipt in p.receipts:
            await self.store.ack(receipt.topic, receipt.message_id, client.client_id)
        return True

    async def _m_propose(self, client: Client, p: ProposeSession) -> bool:
        self._check_rate(client, 1, stored_size(p.session_proposal, p.attestation))
        self._subscribe(client, (p.pairing_topic,))
        await self._publish(client, p.pairing_topic, p.session_proposal, p.ttl, 1100, True, p.attestation)
        return True

    async def _m_approve(self, client: Client, p: ApproveSession) -> bool:
        self._check_rate(
            client, 2, stored_size(p.session_proposal_response) + stored_size(p.session_settlement_request)
        )
        self._subscribe(client, (p.session_topic,))
        await self._publish(client, p.pairing_topic, p.session_proposal_response, p.ttl, 1101, False)
        await self._publish(client, p.session_topic, p.session_settlement_request, p.ttl, 1102, False)
        return True


STORING = (Publish, BatchPublish, ProposeSession, ApproveSession)
"""requests answered only once what they stored is committed"""

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
