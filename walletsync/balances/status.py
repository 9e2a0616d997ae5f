"""Which figure each row shows and the status it earns, from what the chain's RPCs answered.

How a chain is read
-------------------
The chain's RPCs are tried in order (the user's preferred first). Every one is asked for its head; the first
that answers is the **used** RPC, and those before it that did not are the row's ``fallback_from``. When a later
RPC answers with a head that is not stale, it is the **check** RPC: both are read at the lower of the two heads
(the one block both have), so their figures can be compared; a lagging or stuck second RPC is not a check, or
every row would read stale because of it. :func:`plan` makes that choice from the heads.

What a row says
---------------
:func:`decide` then gives each (holder, asset) its row. The figure is the used RPC's; if that one call failed
and the check RPC has it, the check's (and the used RPC joins ``fallback_from``). The status names the worst
thing about the figure shown, in this order:

- **unreachable**, no figure: no RPC gave one. ``amount`` is None and ``error`` says why; never a zero.
- **disagree**: the check RPC gave a different figure at the same block; the row shows both (``other``).
  Figures read at different blocks are never compared.
- **stale**: the block is older than ``stale_after`` seconds (the node's head stopped advancing, or a cached
  figure has aged).
- **unreachable**, with a figure: an RPC before the one used did not answer; ``fallback_from`` names it.
- **ok**: none of these.

A condition hidden by a worse one stays visible in the row's other fields (``age_s``, ``fallback_from``).
Why the default threshold is five minutes: the slowest major chains make a block every 12 s, so a head five
minutes old is 25 blocks behind on the slowest and hundreds on the others, which no healthy node is, while a
clock a minute off on the user's machine never marks a healthy node stale. Dev chains that mine only on demand
(anvil) go stale when idle, which is what they are. ``config.json``'s ``balances.stale_after`` changes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from walletsync.balances.model import Checked, Other, Row, Status
from walletsync.balances.rpc import Call, Head
from walletsync.redact import url_shown

STALE_AFTER = 300
"""Seconds after which a block is stale (the module's docstring says why)."""


@dataclass(frozen=True)
class Plan:
    """Which RPC a chain is read from, which one checks it, and the block both are read at."""

    used: str | None
    """None: no RPC answered its head."""
    check: str | None
    block: int
    block_time: int
    fallback_from: tuple[str, ...]
    errors: Mapping[str, str]
    """Why each RPC that did not answer did not (key ``""``: why no RPC was asked)."""


@dataclass(frozen=True)
class Figures:
    """What one RPC gave at one block: each call's amount (by :attr:`Call.key`), or the error text for it."""

    rpc: str
    block: int
    amounts: Mapping[tuple[str, str], int | str]


def plan(heads: Sequence[tuple[str, Head | str]], now: float, stale_after: int = STALE_AFTER) -> Plan:
    """The plan for a chain whose RPCs, in order, answered these heads (or these error texts)."""
    errors = {rpc: head for rpc, head in heads if isinstance(head, str)}
    answered = [(rpc, head) for rpc, head in heads if isinstance(head, Head)]
    if not answered:
        return Plan(None, None, 0, 0, tuple(rpc for rpc, _ in heads), errors)
    used, head = answered[0]
    before = tuple(rpc for rpc, _ in heads[: [rpc for rpc, _ in heads].index(used)])
    fresh = [(rpc, h) for rpc, h in answered[1:] if not _stale(h.timestamp, now, stale_after)]
    if not fresh:
        return Plan(used, None, head.number, head.timestamp, before, errors)
    check, other = fresh[0]
    lower = min(head, other, key=lambda h: h.number)
    return Plan(used, check, lower.number, lower.timestamp, before, errors)


def decide(
    calls: Sequence[Call],
    plan: Plan,
    used: Figures | None,
    check: Figures | None,
    now: float,
    stale_after: int = STALE_AFTER,
) -> list[Row]:
    """One row per call, in order: its figure and status from the used and check RPCs' figures (see above).

    ``used`` None means the used RPC's figures could not be read at all (then the caller plans again without it;
    passed here, every row falls to the check RPC or is unreachable).
    """
    rows = []
    for call in calls:
        tried = plan.fallback_from
        mine = _amount(used, call, plan.block)
        theirs = _amount(check, call, plan.block)
        error = next((a for a in (_error(used, call), _error(check, call)) if a), None)
        rpc: str | None = used.rpc if used is not None else plan.used
        amount: int | None = mine if isinstance(mine, int) else None
        other: Other | None = None
        if amount is None and isinstance(theirs, int) and check is not None:
            tried, rpc, amount, theirs = (*tried, *([rpc] if rpc else [])), check.rpc, theirs, None
        if amount is None:
            rows.append(_unreachable(call, (*tried, *([rpc] if rpc else [])), error or _why(plan)))
            continue
        if isinstance(theirs, int) and theirs != amount and check is not None:
            other = Other(check.rpc, theirs)
        checked: Checked | None = None
        if plan.check is not None and other is None and rpc != plan.check:
            checked = "agreed" if isinstance(theirs, int) else "failed"
        row = _row(call, amount, rpc, plan.block, plan.block_time, now, stale_after, tried, other)
        rows.append(replace(row, checked=checked) if checked else row)
    return rows


def aged(row: Row, now: float, stale_after: int = STALE_AFTER) -> Row:
    """``row`` as it reads at ``now``: its age again, and stale once its block is older than ``stale_after``
    (a cached row shown later)."""
    if row.block_time is None:
        return row
    status = row.status
    if status in ("ok", "unreachable") and _stale(row.block_time, now, stale_after):
        status = "stale"
    return replace(row, age_s=_age(row.block_time, now), status=status)


def _row(
    call: Call,
    amount: int,
    rpc: str | None,
    block: int,
    block_time: int,
    now: float,
    stale_after: int,
    fallback_from: tuple[str, ...],
    other: Other | None,
) -> Row:
    status: Status
    if other is not None:
        status = "disagree"
    elif _stale(block_time, now, stale_after):
        status = "stale"
    elif fallback_from:
        status = "unreachable"
    else:
        status = "ok"
    return Row(
        call.holder.address,
        call.holder.label,
        call.asset,
        amount,
        rpc,
        block,
        block_time,
        _age(block_time, now),
        status,
        fallback_from,
        other,
    )


def _unreachable(call: Call, tried: tuple[str, ...], error: str) -> Row:
    return Row(
        call.holder.address,
        call.holder.label,
        call.asset,
        None,
        None,
        None,
        None,
        None,
        "unreachable",
        tried,
        None,
        error,
    )


def _amount(figures: Figures | None, call: Call, block: int) -> int | str | None:
    """The RPC's figure for ``call``, only if it was read at ``block`` (figures at another block are not compared)."""
    if figures is None or figures.block != block:
        return None
    return figures.amounts.get(call.key)


def _error(figures: Figures | None, call: Call) -> str | None:
    if figures is None:
        return None
    found = figures.amounts.get(call.key)
    return f"{url_shown(figures.rpc)}: {found}" if isinstance(found, str) else None


def _why(plan: Plan) -> str:
    if plan.errors:
        return "; ".join(f"{url_shown(rpc)}: {error}" if rpc else error for rpc, error in plan.errors.items())
    return "the chain has no RPC to ask (add one: walletsync chains rpc CHAIN add URL)"


def _stale(block_time: int, now: float, stale_after: int) -> bool:
    return now - block_time > stale_after


def _age(block_time: int, now: float) -> int:
    return max(0, int(now - block_time))
