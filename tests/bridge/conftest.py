"""Fixtures for the signer bridge: a companion in this process paired with the reference phone over a real relay,
its bridge served on a free loopback port, anvil as the upstream node and as the node the phone broadcasts to."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.policy.conftest import PHONE, with_phone
from tests.terminal import Terminal
from tests.test_phone import PhoneProcess
from walletsync.bridge.endpoint import Bridge
from walletsync.bridge.guard import Guard
from walletsync.bridge.server import Server
from walletsync.service import Companion, Config, SessionRecord

__all__ = ["PHONE", "Bridged", "bridged", "bridged_on_terminal", "mined", "post"]


@dataclass
class Bridged:
    """A served bridge: its ``url``, the companion and phone behind it, and what it reported (``events``)."""

    url: str
    port: int
    companion: Companion
    session: SessionRecord
    phone: PhoneProcess
    server: Server
    bridge: Bridge
    events: list[Any] = field(default_factory=list)
    refusals: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def report(self, event: Any) -> None:
        self.events.append(event)
        self._arrived.set()

    async def reported(self, kind: type, timeout: float = 30.0, where: Callable[[Any], bool] = lambda e: True) -> Any:
        """The first reported event of ``kind`` (matching ``where``), waiting for it."""
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if isinstance(event, kind) and where(event):
                        return event
                self._arrived.clear()
                await self._arrived.wait()


@contextlib.asynccontextmanager
async def bridged(
    relay_url: str,
    home: Path,
    logs: Path,
    upstream: str,
    *phone_flags: str,
    origins: frozenset[str] = frozenset(),
    token: str | None = None,
) -> AsyncIterator[Bridged]:
    """A bridge on 127.0.0.1 (a free port) for a session with the reference phone started with ``phone_flags``."""
    async with with_phone(relay_url, home, logs, *phone_flags) as (companion, session, phone):
        async with serve(companion, session, phone, upstream, origins=origins, token=token) as served:
            yield served


@contextlib.asynccontextmanager
async def bridged_on_terminal(
    relay_url: str, home: Path, logs: Path, upstream: str
) -> AsyncIterator[tuple[Bridged, Terminal]]:
    """A bridge whose phone asks before each signature on a terminal of its own (the test answers on it)."""
    companion = await Companion.open(Config(data_dir=str(home), relay=relay_url))
    terminal: Terminal | None = None
    try:
        await companion.start()
        offer = await companion.pair(name="phone")
        argv = [sys.executable, "-m", "walletsync", "phone", "--approve", "--json", "--relay", relay_url]
        env = {**os.environ, "WALLETSYNC_URI": offer.uri}
        terminal = Terminal([*argv, "--rpc", upstream], env, logs / "phone-stdout.jsonl")
        session = await companion.wait_for_session(offer.proposal_id, 30)
        async with serve(companion, session, None, upstream) as served:
            yield served, terminal
    finally:
        if terminal is not None and terminal.proc.poll() is None:
            terminal.proc.kill()
            terminal.proc.wait()
        await companion.close()


@contextlib.asynccontextmanager
async def serve(
    companion: Companion,
    session: SessionRecord,
    phone: Any,
    upstream: str,
    *,
    origins: frozenset[str] = frozenset(),
    token: str | None = None,
) -> AsyncIterator[Bridged]:
    async with aiohttp.ClientSession() as http:
        holder: list[Bridged] = []
        bridge = Bridge(companion, session.name, "eip155:1", upstream, report=lambda e: holder[0].report(e), http=http)
        await bridge.check_upstream()
        refusals: list[tuple[Any, dict[str, Any]]] = []

        def refused(refusal: Any, client: dict[str, Any]) -> None:
            companion.audit_bridge_refusal(refusal.reason, refusal.message, client)
            refusals.append((refusal, client))

        server = Server(bridge, Guard(0), refused)
        port = await server.start("127.0.0.1", 0)
        server.guard = Guard(port, origins, token)
        served = Bridged(f"http://127.0.0.1:{port}", port, companion, session, phone, server, bridge)
        served.refusals = refusals
        holder.append(served)
        try:
            yield served
        finally:
            await server.close()
            await bridge.close()


def post(url: str, body: Any, headers: dict[str, str] | None = None, timeout: float = 60.0) -> tuple[int, Any]:
    """A raw HTTP POST (blocking: run it in a thread when the bridge is in this process); its status and JSON."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


async def mined(anvil, tx_hash: str, timeout: float = 30.0) -> dict[str, Any]:
    """The transaction's receipt once anvil has sealed its block (it mines each one a moment after accepting it)."""
    deadline = time.monotonic() + timeout
    while True:
        receipt = await asyncio.to_thread(anvil.call, "eth_getTransactionReceipt", tx_hash)
        if receipt is not None:
            return receipt
        assert time.monotonic() < deadline, f"{tx_hash} not mined within {timeout:g} s"
        await asyncio.sleep(0.05)
