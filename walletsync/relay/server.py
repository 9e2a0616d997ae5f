"""The relay's websocket server: listens, runs one task per connection, purges expired messages.

Delivery rules live in :mod:`walletsync.relay.mailbox`; who is subscribed where and the pushes in
:mod:`walletsync.relay.delivery`; the answer to each frame in :mod:`walletsync.relay.methods`; one
connection's auth and write path in :mod:`walletsync.relay.connection`. This module puts them together.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from walletsync.protocol.errors import InvalidJwt
from walletsync.relay import wire
from walletsync.relay.audience import Origin, accepted_origins
from walletsync.relay.connection import Client, Outbox, authenticate, peer_address, refuse
from walletsync.relay.delivery import Delivery, Fanout
from walletsync.relay.logs import redacting
from walletsync.relay.mailbox import Limits, Mailbox, MailboxStore
from walletsync.relay.methods import Methods

log = logging.getLogger("walletsync.relay")

PURGE_INTERVAL = 60.0


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
        self.delivery = Delivery(self.mailbox, fanout, clock)
        self.subscribers = self.delivery.subscribers
        """topic → the clients of this process subscribed to it"""
        self.methods = Methods(self.delivery)
        self._outbox = Outbox()
        self._server: Server | None = None
        self._purger: asyncio.Task[None] | None = None
        self._audiences: frozenset[Origin] = frozenset()

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
            await self.fanout.start(self.delivery.deliver_local)
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

    async def _serve(self, ws: ServerConnection) -> None:
        try:
            client_id = authenticate(ws, self._audiences, self.clock())
        except InvalidJwt as exc:
            await refuse(ws, exc)
            return
        client = Client(
            ws,
            client_id,
            self.limits.max_queued_bytes,
            self._outbox,
            address=peer_address(ws),
            direct=wire.can_write_direct(ws),
        )
        log.info("client %s connected", client.client_id[-8:])
        try:
            async for raw in ws:
                await self.methods.on_frame(client, raw)
        except ConnectionClosed:
            pass
        finally:
            client.closed()
            self.delivery.disconnected(client)
            log.info("client %s disconnected (%s)", client.client_id[-8:], ws.close_code)
