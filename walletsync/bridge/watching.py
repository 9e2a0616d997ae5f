"""Subscriptions on the WebSocket endpoint, for any upstream node: new heads and logs found by looking at the node
every :data:`POLL` seconds (an HTTP node has no subscriptions of its own), sent as ``eth_subscription``
notifications on the socket that asked.

One :class:`Subscriptions` per WebSocket connection, closed with it; bounded in subscriptions, in blocks told per
look and in logs told per look, so neither a tool nor a node can make it grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from walletsync.bridge.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, LIMIT_EXCEEDED, Fault
from walletsync.bridge.params import quantity
from walletsync.bridge.subscribing import Wanted, wanted
from walletsync.bridge.upstream import Upstream, UpstreamError

POLL = 1.0
"""Seconds between looks at the node's head (blocks come every 2–12 s on public chains; anvil mines at once)."""
MAX_SUBSCRIPTIONS = 32
"""Subscriptions one connection may hold."""
MAX_CATCH_UP = 16
"""Blocks told at most per look: a node that moved far ahead (the machine slept) is not replayed whole."""
MAX_LOGS = 10_000
"""Logs told at most per subscription and look."""
HEADER_LEFT_OUT = ("transactions", "uncles", "size", "totalDifficulty")
"""A block's fields a ``newHeads`` header does not carry (as geth sends it)."""

log = logging.getLogger(__name__)
Answer = tuple[Any, Fault | None]


class Subscriptions:
    """The subscriptions of one connection: ``upstream()`` is the node of the bridge's current chain, ``send`` puts a
    notification on the connection."""

    def __init__(
        self,
        upstream: Callable[[], Upstream],
        send: Callable[[dict[str, Any]], Awaitable[None]],
        poll: float = POLL,
    ) -> None:
        self.upstream, self.send, self.poll = upstream, send, poll
        self.subs: dict[str, tuple[Wanted, int]] = {}
        """Each subscription's id: what it wants, and the head when it was made (it hears of later blocks only)."""
        self._seen: tuple[Upstream, int] | None = None
        self._task: asyncio.Task[None] | None = None

    async def subscribe(self, params: Any) -> Answer:
        """``eth_subscribe``: the new subscription's id, or the fault."""
        asked = wanted(params)
        if isinstance(asked, Fault):
            return None, asked
        if len(self.subs) >= MAX_SUBSCRIPTIONS:
            return None, Fault(LIMIT_EXCEEDED, f"{MAX_SUBSCRIPTIONS} subscriptions on this connection already")
        upstream = self.upstream()
        try:
            head = await self._head(upstream)
        except UpstreamError as exc:
            code = exc.error.get("code")
            return None, Fault(
                code if isinstance(code, int) and not isinstance(code, bool) else INTERNAL_ERROR, str(exc)
            )
        if self._seen is None or self._seen[0] is not upstream:
            self._seen = (upstream, head)
        sub = "0x" + secrets.token_hex(16)
        self.subs[sub] = (asked, head)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch())
        return sub, None

    def unsubscribe(self, params: Any) -> Answer:
        """``eth_unsubscribe``: true if it was one of this connection's."""
        if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], str):
            return None, Fault(INVALID_PARAMS, "Invalid params: eth_unsubscribe takes [id]")
        return self.subs.pop(params[0], None) is not None, None

    async def close(self) -> None:
        self.subs.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        while self.subs:
            await asyncio.sleep(self.poll)
            try:
                await self._look()
            except UpstreamError as exc:  # the node is down or busy: looked at again next time
                log.debug("subscriptions: the node failed: %s", exc)

    async def _look(self) -> None:
        upstream = self.upstream()
        head = await self._head(upstream)
        if self._seen is None or self._seen[0] is not upstream:  # the tool switched chains: from its head on
            self._seen = (upstream, head)
            self.subs = {sub: (want, head) for sub, (want, _since) in self.subs.items()}
            return
        last = self._seen[1]
        if head <= last:
            return
        first = max(last + 1, head - MAX_CATCH_UP + 1)
        self._seen = (upstream, head)
        if any(w.kind == "newHeads" for w, _ in self.subs.values()):
            for number in range(first, head + 1):
                block = await upstream.ask("eth_getBlockByNumber", [hex(number), False])
                header = (
                    {k: v for k, v in block.items() if k not in HEADER_LEFT_OUT} if isinstance(block, dict) else None
                )
                for sub, (want, since) in list(self.subs.items()):
                    if header is not None and want.kind == "newHeads" and number > since:
                        await self._notify(sub, header)
        for sub, (want, since) in list(self.subs.items()):
            if want.kind == "logs" and head > since:
                found = await upstream.ask(
                    "eth_getLogs",
                    [{**(want.filter or {}), "fromBlock": hex(max(first, since + 1)), "toBlock": hex(head)}],
                )
                for entry in (found if isinstance(found, list) else [])[:MAX_LOGS]:
                    await self._notify(sub, entry)

    async def _notify(self, sub: str, value: Any) -> None:
        if sub in self.subs:
            await self.send(
                {"jsonrpc": "2.0", "method": "eth_subscription", "params": {"subscription": sub, "result": value}}
            )

    @staticmethod
    async def _head(upstream: Upstream) -> int:
        number = quantity(await upstream.ask("eth_blockNumber", []))
        if number is None:
            raise UpstreamError(
                {"code": INTERNAL_ERROR, "message": "the upstream node's eth_blockNumber is not a number"}
            )
        return number
