"""A tool's ``eth_sendTransaction``: filled from the upstream node, pushed to the phone, watched until mined.

The I/O around the pure parts: :mod:`~walletsync.bridge.filling` says what to ask the node, :class:`Nonces` hands
out the nonce, the companion pushes the request (so the policies judge it and the audit log keeps it), and once
the phone's transaction is mined :func:`~walletsync.bridge.compare.differences` says what the phone changed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from walletsync.bridge import filling
from walletsync.bridge.compare import differences
from walletsync.bridge.events import BridgeEvent, Client, TransactionAltered, TransactionMined
from walletsync.bridge.jsonrpc import Fault
from walletsync.bridge.nonces import Nonces
from walletsync.bridge.params import quantity
from walletsync.bridge.upstream import Upstream, UpstreamError

WATCH_FOR = 30 * 60.0
"""Seconds a sent transaction is watched for being mined before the bridge stops looking."""
FIRST_LOOK, LONGEST_WAIT = 0.25, 4.0
"""Seconds between looks for a sent transaction: from the first, doubling up to the longest."""

Push = Callable[[dict[str, Any]], Awaitable[tuple[Any, Fault | dict[str, Any] | None]]]


class Sender:
    """Fills and sends transactions for one endpoint; its nonces are shared by every send in flight."""

    def __init__(
        self, report: Callable[[BridgeEvent], None], on_altered: Callable[[str, list[dict[str, Any]], Client], None]
    ) -> None:
        self.report, self.on_altered = report, on_altered
        self.nonces = Nonces()
        self._watches: set[asyncio.Task[None]] = set()

    async def fill(self, tx: dict[str, Any], upstream: Upstream) -> dict[str, Any]:
        """``tx`` with gas and fees the node gives where the tool gave none (the nonce comes in :meth:`send`);
        :class:`UpstreamError` (the node's error, a revert's data in it) when the node refuses the estimate."""
        needs = filling.missing(tx)
        gas: Any = None
        fees: dict[str, str] | None = None
        if needs.gas:
            gas = await upstream.ask("eth_estimateGas", [filling.estimate_call(tx)])
        if needs.fees:
            block = await upstream.ask("eth_getBlockByNumber", ["latest", False])
            if filling.has_base_fee(block):
                history, priority = await asyncio.gather(
                    _or_none(upstream.ask("eth_feeHistory", [hex(filling.FEE_HISTORY_BLOCKS), "latest", [50]])),
                    _or_none(upstream.ask("eth_maxPriorityFeePerGas", [])),
                )
                fees = filling.eip1559_fees(tx, block, history, priority)
            else:
                fees = filling.legacy_fees(await upstream.ask("eth_gasPrice", []))
        return filling.fill(tx, nonce=None, gas=gas, fees=fees)

    async def send(
        self, tx: dict[str, Any], upstream: Upstream, push: Push, client: Client
    ) -> tuple[Any, Fault | dict[str, Any] | None]:
        """The phone's hash for ``tx`` (filled: see :meth:`fill`) with the next nonce, or the error to answer with.

        ``push(filled)`` asks the phone and returns ``(hash, None)`` or ``(None, error)``. A send that did not go
        out gives its nonce back; one that did is watched until mined and compared with what was asked.
        """
        sender = tx["from"]
        given = quantity(tx.get("nonce"))
        if given is not None:
            self.nonces.saw(sender, given)
            nonce = given
        else:
            pending = quantity(await upstream.ask("eth_getTransactionCount", [sender, "pending"]))
            nonce = self.nonces.take(sender, pending or 0)
        filled = filling.fill(tx, nonce=nonce, gas=None, fees=None)
        try:
            tx_hash, error = await push(filled)
        except BaseException:
            if given is None:
                self.nonces.give_back(sender, nonce)
            raise
        if error is not None:
            if given is None:
                self.nonces.give_back(sender, nonce)
            return None, error
        if isinstance(tx_hash, str):
            self._watch(tx_hash, filled, upstream, client)
        return tx_hash, None

    def _watch(self, tx_hash: str, asked: dict[str, Any], upstream: Upstream, client: Client) -> None:
        task = asyncio.create_task(self._mined(tx_hash, asked, upstream, client), name=f"watch-{tx_hash[:10]}")
        self._watches.add(task)
        task.add_done_callback(self._watches.discard)

    async def _mined(self, tx_hash: str, asked: dict[str, Any], upstream: Upstream, client: Client) -> None:
        deadline, wait = time.monotonic() + WATCH_FOR, FIRST_LOOK
        while time.monotonic() < deadline:
            try:
                mined = await upstream.ask("eth_getTransactionByHash", [tx_hash])
            except UpstreamError:
                mined = None
            if isinstance(mined, dict) and mined.get("blockNumber") is not None:
                found = [d.to_json() for d in differences(asked, mined)]
                if found:
                    self.on_altered(tx_hash, found, client)
                    self.report(TransactionAltered(tx_hash, client, found))
                else:
                    self.report(TransactionMined(tx_hash, quantity(mined.get("blockNumber"))))
                return
            await asyncio.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT)

    async def close(self) -> None:
        """Stop watching (transactions sent but not yet mined are no longer compared)."""
        for task in list(self._watches):
            task.cancel()
        await asyncio.gather(*self._watches, return_exceptions=True)


async def _or_none(question: Awaitable[Any]) -> Any:
    try:
        return await question
    except UpstreamError:
        return None
