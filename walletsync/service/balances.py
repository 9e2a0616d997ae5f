"""Reading balances: every holder's native and token balances on each of its chains, all chains at once.

The rules are pure (:mod:`walletsync.balances`); this module asks the RPCs. Per chain: every RPC of the chain (the
user's preferred first, at most :data:`MAX_RPCS`) is asked for its head at once and the answers are taken in order
until the plan has an RPC to use and a fresh one to check it, so a dead RPC costs one timeout, not one per RPC,
and one late in the list costs nothing; both are read at the plan's block in batches
(:data:`~walletsync.balances.rpc.MAX_BATCH` calls each), side by side. When the used RPC fails the read itself
(a batch refused, or an error for every call), the chain is planned again without it (it becomes a "fell back
from"), the RPCs not waited for asked now. Chains are read concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from walletsync.balances.model import NATIVE, Asset, Holder, Row
from walletsync.balances.rpc import BadReply, Call, Head, figure_batches, head_request, read_figures, read_head
from walletsync.balances.status import STALE_AFTER, Figures, Plan, decide, plan
from walletsync.chains.registry import Registry
from walletsync.eth import ADDRESS
from walletsync.service.balance_reads import TIMEOUT, RpcClient, RpcFailed

MAX_RPCS = 4
"""RPCs of one chain asked at most: the first that answers is used, the next fresh one checks it."""
BATCHES_IN_FLIGHT = 4
"""Batches sent to one RPC at once (public RPCs rate-limit a burst)."""


@dataclass(frozen=True)
class Target:
    """An address to read on some chains, with its local label (a session's name, a watch label)."""

    address: str
    label: str | None
    chains: tuple[str, ...]


def assets_of(registry: Registry, chain_id: str) -> list[Asset]:
    """What is counted on a chain: its currency first, then the registry's tokens by symbol. A chain the registry
    does not know has its currency alone, as ``?`` (read from no RPC: the row says how to add one)."""
    chain = registry.chain(chain_id)
    if chain is None:
        return [Asset(chain_id, NATIVE, "?", 18)]
    tokens = [Asset(chain_id, t.address, t.symbol, t.decimals) for t in registry.tokens(chain_id)]
    return [Asset(chain_id, NATIVE, chain.currency, chain.decimals), *tokens]


def calls_of(registry: Registry, targets: Sequence[Target]) -> list[Call]:
    """One call per (address, chain, asset), in the targets' order, each address once per chain."""
    calls: list[Call] = []
    seen: set[tuple[str, str]] = set()
    for target in targets:
        for chain_id in target.chains:
            if (target.address.lower(), chain_id) in seen:
                continue
            seen.add((target.address.lower(), chain_id))
            holder = Holder(target.address, target.label)
            calls.extend(Call(holder, asset) for asset in assets_of(registry, chain_id))
    return calls


async def read_balances(
    registry: Registry,
    targets: Sequence[Target],
    clock: Callable[[], float],
    *,
    stale_after: int = STALE_AFTER,
    timeout: float = TIMEOUT,
) -> list[Row]:
    """Every row of ``targets``, read now, in the order of :func:`calls_of`. Never raises for an RPC's trouble:
    the rows say it."""
    return await read_calls(registry, calls_of(registry, targets), clock, stale_after=stale_after, timeout=timeout)


async def read_calls(
    registry: Registry,
    calls: Sequence[Call],
    clock: Callable[[], float],
    *,
    stale_after: int = STALE_AFTER,
    timeout: float = TIMEOUT,
) -> list[Row]:
    """One row per call, read now, in order; each chain read once, all chains at once."""
    by_chain: dict[str, list[Call]] = {}
    for call in calls:
        by_chain.setdefault(call.asset.chain, []).append(call)
    async with RpcClient(timeout) as client:
        read = await asyncio.gather(
            *(
                _read_chain(client, registry, chain_id, on_chain, clock, stale_after)
                for chain_id, on_chain in by_chain.items()
            )
        )
    rows = {
        id(call): row
        for on_chain, chain_rows in zip(by_chain.values(), read)
        for call, row in zip(on_chain, chain_rows)
    }
    return [rows[id(call)] for call in calls]


async def _read_chain(
    client: RpcClient,
    registry: Registry,
    chain_id: str,
    calls: list[Call],
    clock: Callable[[], float],
    stale_after: int,
) -> list[Row]:
    """The chain's rows in call order; an address that is not an EVM one (a phone chose it) is read from no RPC."""
    readable = [c for c in calls if ADDRESS.fullmatch(c.holder.address)]
    rows = {
        id(c): r
        for c, r in zip(readable, await _read_addresses(client, registry, chain_id, readable, clock, stale_after))
    }
    for call in calls:
        if id(call) not in rows:
            rows[id(call)] = _unread(call, f"{call.holder.address!r} is not an EVM address (0x and 40 hex digits)")
    return [rows[id(c)] for c in calls]


async def _read_addresses(
    client: RpcClient,
    registry: Registry,
    chain_id: str,
    calls: list[Call],
    clock: Callable[[], float],
    stale_after: int,
) -> list[Row]:
    """Heads from every RPC of the chain, then the figures from the used and check RPCs (planned again without
    the used one when its read fails)."""
    if not calls:
        return []
    if not chain_id.startswith("eip155:"):
        return [_unread(c, f"walletsync reads balances on EVM chains (eip155) only, not {chain_id}") for c in calls]
    rpcs = registry.rpcs(chain_id)[:MAX_RPCS]
    if not rpcs:
        return [
            _unread(c, f"no RPC known for {chain_id}: add one with 'walletsync chains rpc {chain_id} add URL'")
            for c in calls
        ]
    heads = await _heads(client, rpcs, clock, stale_after)
    while True:
        chosen = plan(heads, clock(), stale_after)
        if chosen.used is None:
            return decide(calls, chosen, None, None, clock(), stale_after)
        used, check = await asyncio.gather(
            _figures(client, chosen.used, calls, chosen.block),
            _figures(client, chosen.check, calls, chosen.block) if chosen.check else _nothing(),
        )
        if isinstance(used, Figures):
            return decide(calls, chosen, used, check if isinstance(check, Figures) else None, clock(), stale_after)
        heads = [(rpc, used if rpc == chosen.used else head) for rpc, head in heads]
        if len(heads) < len(rpcs):  # the RPCs not waited for are asked now
            heads += await _heads(client, rpcs[len(heads) :], clock, stale_after)


def _unread(call: Call, why: str) -> Row:
    """The row of a call no RPC can be asked about: unreachable, with why."""
    return decide([call], Plan(None, None, 0, 0, (), {"": why}), None, None, 0)[0]


async def _heads(
    client: RpcClient, rpcs: list[str], clock: Callable[[], float], stale_after: int
) -> list[tuple[str, Head | str]]:
    """Every RPC's head, asked at once and awaited in order; once the plan has an RPC to use and a fresh one to check
    it, the later ones are not waited for (a dead RPC at the end of the list costs nothing)."""
    asked = [asyncio.ensure_future(_head(client, rpc)) for rpc in rpcs]
    heads: list[tuple[str, Head | str]] = []
    try:
        for rpc, task in zip(rpcs, asked):
            heads.append((rpc, await task))
            if plan(heads, clock(), stale_after).check is not None:
                break
    finally:
        for task in asked:
            task.cancel()
    return heads


async def _head(client: RpcClient, rpc: str) -> Head | str:
    try:
        return read_head(await client.post(rpc, head_request()))
    except (RpcFailed, BadReply) as exc:
        return str(exc)


async def _figures(client: RpcClient, rpc: str, calls: list[Call], block: int) -> Figures | str:
    """Every figure from ``rpc`` at ``block``, or why the read failed (one failed batch fails it: the RPC is not
    to be trusted with the rest either)."""
    gate = asyncio.Semaphore(BATCHES_IN_FLIGHT)

    async def batch_of(batch: list[dict[str, Any]]) -> dict[int, int | str]:
        async with gate:
            return read_figures(batch, calls, await client.post(rpc, batch))

    try:
        answered = await asyncio.gather(*(batch_of(b) for b in figure_batches(calls, block)))
    except (RpcFailed, BadReply) as exc:
        return str(exc)
    amounts = {calls[index].key: amount for part in answered for index, amount in part.items()}
    if amounts and all(isinstance(a, str) for a in amounts.values()):  # it answered nothing but errors: not a source
        return next(a for a in amounts.values() if isinstance(a, str))
    return Figures(rpc, block, amounts)


async def _nothing() -> None:
    return None
