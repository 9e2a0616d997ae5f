"""One client's websocket: who it is (auth at connect) and how frames reach it without anyone waiting.

Each connection is authenticated once (relay-auth JWT from the ``auth`` query parameter or an
``Authorization: Bearer`` header); its client id is the JWT's did:key, and a bad JWT closes it with
code 3000 and the reason. After that, :meth:`Client.send` is the only way a frame leaves: it never
waits, so a slow or dead client only ever delays itself, and one that lets too much pile up is
disconnected (what it missed stays in the mailbox). The websockets internals this needs are in
:mod:`walletsync.relay.wire`, nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from walletsync.protocol.errors import InvalidJwt
from walletsync.protocol.relay_auth import subscription_id, verify_jwt
from walletsync.relay import wire
from walletsync.relay.audience import Origin, origin
from walletsync.relay.frames import push_frame
from walletsync.relay.mailbox import StoredMessage

log = logging.getLogger("walletsync.relay")

AUTH_CLOSE_CODE = 3000
MAX_JWT_LIFETIME = 86400
"""the longest relay-auth token lifetime accepted (exp - iat): what the JS SDK issues, one day"""
SLOW_CLIENT_CLOSE = 1008
MAX_UNACKED_PUSHES = 10_000
FLUSH_SHARE = 0.5
"""mailbox pushes and fetch replies wait while a connection has more than this share of
``Limits.max_queued_bytes`` unread, leaving the rest for live pushes"""


def authenticate(ws: ServerConnection, audiences: frozenset[Origin], now: float) -> str:
    """The client id of the relay-auth JWT ``ws`` opened with; :class:`InvalidJwt` says why there is none.

    ``audiences``: the origins that are this relay (:func:`walletsync.relay.audience.accepted_origins`).
    """
    request = ws.request
    query = parse_qs(urlsplit(request.path).query) if request else {}
    tokens = query.get("auth")
    token = tokens[0] if tokens else None
    header = request.headers.get("Authorization", "") if request else ""
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    if not token:
        raise InvalidJwt("missing relay-auth JWT (auth query parameter or Authorization: Bearer)")
    claims = verify_jwt(token, now=now)
    aud = origin(claims.aud)
    if aud is None:
        raise InvalidJwt(f"JWT audience {claims.aud[:40]!r} is not a relay URL")
    if aud not in audiences:
        raise InvalidJwt(f"JWT audience {claims.aud[:40]!r} is not this relay (see walletsync relay --public-url)")
    if claims.exp - claims.iat > MAX_JWT_LIFETIME:
        raise InvalidJwt(f"JWT lifetime {claims.exp - claims.iat} s is longer than {MAX_JWT_LIFETIME} s")
    return claims.client_id


async def refuse(ws: ServerConnection, error: InvalidJwt) -> None:
    """Close a connection :func:`authenticate` refused, with code 3000 and why."""
    reason = f"invalid JWT: {error}".encode()[:123].decode("utf-8", "ignore")  # close reasons are ≤ 123 bytes
    await ws.close(AUTH_CLOSE_CODE, reason)


def peer_address(ws: ServerConnection) -> str | None:
    peer = ws.remote_address
    return peer[0] if isinstance(peer, tuple) and peer else None


def _size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class Outbox:
    """The connections that had frames buffered during this turn of the loop: one socket write each at its end.

    One per server, shared by its clients (:meth:`Client.send` adds to it).
    """

    __slots__ = ("_clients",)

    def __init__(self) -> None:
        self._clients: list[Client] = []

    def add(self, client: Client) -> None:
        if not self._clients:
            asyncio.get_running_loop().call_soon(self.flush)
        self._clients.append(client)

    def flush(self) -> None:
        """Write out what this turn of the loop queued, one socket write per client."""
        clients, self._clients = self._clients, []
        for client in clients:
            client.unflushed = False
            client.unflushed_bytes = 0
            wire.flush(client.ws)


@dataclass(eq=False, slots=True)
class Client:
    """One authenticated websocket connection.

    Frames to it are written straight into its socket buffer while that buffer has
    room; once the client stops reading fast enough (websockets pauses writing),
    they wait in ``backlog`` for a drain task. What waits for it, in all (backlog,
    this turn's frames, the socket's write buffer), is bounded by
    ``max_queued_bytes``: a client past it is disconnected (its messages stay in
    the mailbox). Either way a slow or dead client only ever delays itself, never a
    publisher or other subscribers. Call :meth:`closed` once its connection has ended.
    """

    ws: ServerConnection
    client_id: str
    max_queued_bytes: int
    """``Limits.max_queued_bytes``: the most that may wait for this client"""
    outbox: Outbox
    address: str | None = None
    """source IP address (per-address publish limits)"""
    topics: dict[str, str] = field(default_factory=dict)
    """subscribed topic → its subscription id (sha256(topic + client id), what pushes carry)"""
    pushes: dict[int, tuple[str, str]] = field(default_factory=dict)
    """push id → (topic, message id) of the pushes it has not acknowledged yet"""
    backlog: deque[tuple[str, int]] | None = None
    """frames (and their sizes) waiting for the drain task"""
    backlog_bytes: int = 0
    inflight: int = 0
    """bytes of the frame the drain task is sending (fallback path: not yet in a buffer we can see)"""
    unflushed: bool = False
    """frames are waiting in the websocket's output buffer for this turn of the loop to end"""
    unflushed_bytes: int = 0
    drainer: asyncio.Task[None] | None = None
    direct: bool = True
    """can frames go straight to the socket? (:mod:`wire`'s fast path; else always through the backlog)"""
    room_made: asyncio.Event | None = None
    """made by whoever waits for room (:meth:`room`); set whenever queued bytes go
    down (the drain task sent a frame) or the client is gone"""
    too_slow: bool = False
    closer: asyncio.Task[None] | None = None
    paging: set[str] | None = None
    """ids an unfinished (``hasMore``) fetch already returned on this connection"""

    def queued(self) -> int:
        """Bytes sent to this client that it has not read yet (as far as this process can see)."""
        queued = self.backlog_bytes + self.unflushed_bytes + self.inflight
        return queued + wire.buffered_bytes(self.ws) if self.direct else queued

    def send(self, text: str) -> None:
        """Send a frame without waiting; a client that stopped reading is disconnected, not waited for.

        While the client reads, frames go into its websocket's output buffer (what ``ws.send()``
        does, minus waiting for a drain that is not needed) and all frames for it from one turn of
        the loop leave in one socket write at the end of that turn (:class:`Outbox`).
        """
        if self.too_slow:
            return
        size = _size(text)
        queued = self.queued()
        if queued and queued + size > self.max_queued_bytes:
            self._cut_off(queued + size)
            return
        backlog = self.backlog
        if backlog is None:
            ws = self.ws
            if self.direct and not wire.paused(ws):
                if wire.is_open(ws):
                    wire.buffer_frame(ws, text.encode("utf-8", "surrogatepass"))
                    self.unflushed_bytes += size
                    if not self.unflushed:
                        self.unflushed = True
                        self.outbox.add(self)
                return  # closing or closed: ws.send() would drop the frame too
            backlog = self.backlog = deque()
            self.drainer = asyncio.create_task(self._drain(backlog), name=f"relay-drain {self.client_id[-8:]}")
        backlog.append((text, size))
        self.backlog_bytes += size

    def push(self, push_id: int, message: StoredMessage, data: str) -> None:
        """Send ``message`` (``data`` = its :func:`~walletsync.relay.frames.data_json`) as an irn_subscription
        push; its ack is expected under ``push_id``."""
        pushes = self.pushes
        pushes[push_id] = (message.topic, message.id)
        if len(pushes) > MAX_UNACKED_PUSHES:
            pushes.pop(next(iter(pushes)))
        subscription = self.topics.get(message.topic) or subscription_id(message.topic, self.client_id)
        self.send(push_frame(push_id, subscription, data))

    async def room(self, size: int) -> bool:
        """Wait until there is room for ``size`` more bytes within :data:`FLUSH_SHARE` of the bound.

        False once the client is gone (or being disconnected). How bulk sends (a mailbox, a fetch
        reply) go out as fast as the client reads them instead of all at once.
        """
        limit = self.max_queued_bytes * FLUSH_SHARE
        while not self.too_slow:
            queued = self.queued()
            if not queued or queued + size <= limit:
                return True
            if self.backlog is not None or self.inflight:
                made = self.room_made = self.room_made or asyncio.Event()
                made.clear()
                await made.wait()
            elif self.unflushed_bytes:
                await asyncio.sleep(0)  # let this turn's frames be written (Outbox.flush), then look again
            elif self.direct and wire.paused(self.ws):
                await wire.drain(self.ws)
            else:
                return True  # what is queued is in a buffer that is not held back
        return False

    def closed(self) -> None:
        """The connection has ended: nothing more is queued for it, and whoever waits for room stops waiting."""
        if self.drainer is not None:
            self.drainer.cancel()
        self.too_slow = True
        self._wake()

    def _wake(self) -> None:
        if self.room_made is not None:
            self.room_made.set()

    def _cut_off(self, queued: int) -> None:
        """Disconnect a client that lets more than ``max_queued_bytes`` pile up; what it missed stays in the mailbox."""
        self.too_slow = True
        if self.backlog is not None:
            self.backlog.clear()
        self.backlog_bytes = 0
        self._wake()
        log.warning(
            "client %s reads too slowly (%d bytes unread, limit %d); disconnecting it",
            self.client_id[-8:],
            queued,
            self.max_queued_bytes,
        )
        self.closer = asyncio.create_task(self.ws.close(SLOW_CLIENT_CLOSE, "reads too slowly"))

    async def _drain(self, backlog: deque[tuple[str, int]]) -> None:
        """Send the backlog in order, waiting for the socket as needed; then frames go direct again."""
        try:
            while backlog:
                text, size = backlog.popleft()
                self.backlog_bytes -= size
                self.inflight = 0 if self.direct else size  # direct: in the transport's buffer, counted there
                await self.ws.send(text)
                self.inflight = 0
                self._wake()
        except ConnectionClosed:
            backlog.clear()
        finally:
            self.backlog_bytes = self.inflight = 0
            self.backlog = self.drainer = None
            self._wake()
