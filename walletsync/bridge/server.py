"""The bridge on the network: JSON-RPC over HTTP POST and over WebSocket, on one loopback port (aiohttp's server).

Thin I/O. Every request and WebSocket handshake passes the :class:`~walletsync.bridge.guard.Guard` first (a
refusal is answered at once and audited, at most once a minute for the same client and reason); bodies are
bounded in bytes (:data:`~walletsync.bridge.jsonrpc.MAX_BODY`) and in batch length, and at most
:data:`MAX_IN_FLIGHT` requests are served at once (the rest get ``-32005``). What the requests mean is the
:class:`~walletsync.bridge.endpoint.Bridge`'s business.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from walletsync.bridge.endpoint import Bridge
from walletsync.bridge.events import Client
from walletsync.bridge.guard import Guard, Refusal
from walletsync.bridge.jsonrpc import (
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    MAX_BODY,
    Fault,
    Invalid,
    answer_body,
    error,
    parse,
)
from walletsync.bridge.watching import Subscriptions

MAX_IN_FLIGHT = 64
"""HTTP requests and WebSocket messages served at once (forge sends 7 transactions at once; each waits minutes
for the phone at worst)."""
SHUTDOWN_WAIT = 2.0
"""Seconds a stopping endpoint gives requests in flight (one waiting for the phone is dropped after it)."""
REFUSAL_AUDIT_EVERY = 60.0
"""Seconds between audit rows for the same refused client and reason (a web page retrying cannot flood the log)."""

OnRefused = Callable[[Refusal, dict[str, Any]], None]


class Server:
    """Serves ``bridge`` on ``host``:``port`` (0: a free one) under ``guard``; :meth:`start`, then :meth:`close`."""

    def __init__(self, bridge: Bridge, guard: Guard, on_refused: OnRefused) -> None:
        self.bridge, self.guard, self.on_refused = bridge, guard, on_refused
        self.in_flight = 0
        self._refusals: dict[tuple[str, str | None, str | None], float] = {}
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/", self._post)
        app.router.add_get("/", self._get)
        app.router.add_route("OPTIONS", "/", self._preflight)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_WAIT)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=False)
        await site.start()
        return int(self._runner.addresses[0][1])

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- who may ask -------------------------------------------------------------------------------

    def _client(self, request: web.Request, transport: str) -> Client:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else request.remote
        return Client(where, request.headers.get("User-Agent"), transport)

    def _refused(self, request: web.Request) -> web.Response | None:
        headers = request.headers
        refusal = self.guard.check(headers.get("Host"), headers.get("Origin"), headers.get("Authorization"))
        if refusal is None:
            return None
        client = self._client(request, "http")
        details = {**client.to_json(), "host": headers.get("Host"), "origin": headers.get("Origin")}
        mark = (refusal.reason, request.remote, headers.get("Origin") or headers.get("Host"))
        now = time.monotonic()
        if now - self._refusals.get(mark, -REFUSAL_AUDIT_EVERY) >= REFUSAL_AUDIT_EVERY:
            self._refusals[mark] = now
            if len(self._refusals) > 1000:
                self._refusals = {mark: now}
            self.on_refused(refusal, details)
        body = error(None, Fault(INVALID_REQUEST, refusal.message))
        return web.json_response(body, status=refusal.status)

    def _cors(self, request: web.Request) -> dict[str, str]:
        origin = request.headers.get("Origin")
        if not self.guard.allows_origin(origin):
            return {}
        assert origin is not None
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    async def _preflight(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        headers = {
            **self._cors(request),
            "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Authorization",
            "Access-Control-Max-Age": "600",
        }
        return web.Response(status=204, headers=headers)

    # --- HTTP ---------------------------------------------------------------------------------------

    async def _post(self, request: web.Request) -> web.StreamResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        if self.in_flight >= MAX_IN_FLIGHT:
            busy = error(None, Fault(LIMIT_EXCEEDED, f"more than {MAX_IN_FLIGHT} requests in flight: try again"))
            return web.json_response(busy, status=503, headers=self._cors(request))
        self.in_flight += 1
        try:
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                too_large = error(None, Fault(INVALID_REQUEST, f"request too large: more than {MAX_BODY} bytes"))
                return web.json_response(too_large, status=413, headers=self._cors(request))
            answer = await self._serve(body, self._client(request, "http"), lambda: _open(request))
        finally:
            self.in_flight -= 1
        if answer is None:
            return web.Response(status=204, headers=self._cors(request))
        return web.json_response(answer, headers=self._cors(request))

    async def _serve(
        self,
        body: bytes | str,
        client: Client,
        connected: Callable[[], bool],
        subscriptions: Subscriptions | None = None,
    ) -> Any:
        parsed = parse(body)
        if isinstance(parsed, Fault):
            return error(None, parsed)
        answers = await asyncio.gather(
            *(
                _invalid(item)
                if isinstance(item, Invalid)
                else self.bridge.answer(item, client, connected, subscriptions)
                for item in parsed.items
            )
        )
        return answer_body(parsed, list(answers))

    # --- WebSocket ----------------------------------------------------------------------------------

    async def _get(self, request: web.Request) -> web.StreamResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.Response(text="walletsync rpc: send JSON-RPC requests by POST, or open a WebSocket\n")
        socket = web.WebSocketResponse(max_msg_size=MAX_BODY, heartbeat=30.0)
        await socket.prepare(request)
        self._sockets.add(socket)
        client = self._client(request, "ws")
        tasks: set[asyncio.Task[None]] = set()

        async def send(message: Any) -> None:
            if not socket.closed:
                with contextlib.suppress(ConnectionError):
                    await socket.send_str(json.dumps(message))

        subscriptions = Subscriptions(lambda: self.bridge.upstream, send)
        try:
            async for message in socket:
                if message.type is WSMsgType.TEXT or message.type is WSMsgType.BINARY:
                    task = asyncio.create_task(self._serve_message(send, message.data, client, socket, subscriptions))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            self._sockets.discard(socket)
            for task in tasks:
                task.cancel()
            await subscriptions.close()
        return socket

    async def _serve_message(
        self,
        send: Callable[[Any], Awaitable[None]],
        data: str | bytes,
        client: Client,
        socket: web.WebSocketResponse,
        subscriptions: Subscriptions,
    ) -> None:
        if self.in_flight >= MAX_IN_FLIGHT:
            answer: Any = error(None, Fault(LIMIT_EXCEEDED, f"more than {MAX_IN_FLIGHT} requests in flight: try again"))
        else:
            self.in_flight += 1
            try:
                answer = await self._serve(data, client, lambda: not socket.closed, subscriptions)
            finally:
                self.in_flight -= 1
        if answer is not None:
            await send(answer)


async def _invalid(item: Invalid) -> dict[str, Any]:
    return error(item.id, item.fault)


def _open(request: web.Request) -> bool:
    """True while the HTTP client is still connected (one that timed out has closed its connection)."""
    transport = request.transport
    return transport is not None and not transport.is_closing()
