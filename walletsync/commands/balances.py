"""``walletsync balances [--refresh] [--all]``: every account's balances on its chains, with where each figure came
from and how fresh it is.

Accounts are those of every live session and the watched addresses (``walletsync watch``). Without ``--refresh``,
figures read less than the stale threshold ago come from the cache; ``--refresh`` reads everything again. Text
output leaves out tokens whose balance is a plain 0 (``--all`` shows them); ``--json`` prints every row, as the
README's contract says. Nothing here needs the relay: the command opens the companion offline.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit_json
from walletsync.names import MAX_CELLS
from walletsync.redact import url_shown
from walletsync.text import aligned, shown

if TYPE_CHECKING:
    from walletsync.service import BalanceRow, Registry


URL_CELLS, NOTE_CELLS, SYMBOL_CELLS = 40, 80, 16


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    balances = commands.add_parser(
        "balances",
        parents=[common, companion],
        help="balances of your sessions' accounts and watched addresses, with each chain's sync status",
        description="Each row says the RPC its figure came from, the block and its age, and a status: ok, stale "
        "(the block is older than the threshold), unreachable (no RPC gave a figure, or the preferred one did not "
        "answer and the next did: 'fell back'), disagree (two RPCs differ at the same block: both figures shown).",
    )
    balances.add_argument("--refresh", action="store_true", help="read every figure again (not from the cache)")
    balances.add_argument("--all", action="store_true", help="also list tokens whose balance is 0")
    balances.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    async def main() -> int:
        async with open_companion(args, connect=False) as companion:
            rows = await companion.balances(refresh=args.refresh)
            registry = companion.registry()
        if args.json:
            emit_json(args, [row.to_json() for row in rows], "")
        else:
            print(text_of(rows, registry, show_zeros=args.all), flush=True)
        return 0

    return asyncio.run(main())


def text_of(rows: list[BalanceRow], registry: Registry, *, show_zeros: bool = False) -> str:
    """The table people read: one line per row shown, then how many plain zeros were left out."""
    from walletsync.service import by_chain

    if not rows:
        return "No accounts to show: pair a phone ('walletsync pair') or watch an address ('walletsync watch add ADDRESS')."
    table: list[tuple[str, ...]] = [
        ("ACCOUNT", "LABEL", "CHAIN", "ASSET", "AMOUNT", "STATUS", "BLOCK", "AGE", "RPC", "NOTE")
    ]
    hidden = 0
    for group in by_chain(rows):
        if len(group) > 1 and all(r.amount is None for r in group):  # no RPC answered: one line, not one per token
            table.append(_line(group[0], registry, f"{group[0].asset.symbol} +{len(group) - 1} tokens"))
            continue
        for row in group:
            if not show_zeros and row.plain_zero:
                hidden += 1
            else:
                table.append(_line(row, registry, row.asset.symbol))
    lines = aligned(table)
    if hidden:
        lines.append(f"{hidden} token balance{'s' if hidden != 1 else ''} of 0 not shown ('--all' lists them).")
    return "\n".join(lines)


def _line(row: BalanceRow, registry: Registry, asset: str) -> tuple[str, ...]:
    return (
        f"{row.account[:6]}…{row.account[-4:]}" if len(row.account) == 42 else shown(row.account, 20),
        shown(row.label, MAX_CELLS) if row.label else "-",
        shown(registry.label(row.asset.chain), 40),
        shown(asset, SYMBOL_CELLS + 12),
        row.display() or "-",
        row.status,
        f"#{row.block}" if row.block is not None else "-",
        age(row.age_s),
        shown(url_shown(row.rpc), URL_CELLS) if row.rpc else "-",
        shown(row.note(), NOTE_CELLS),
    )


def age(seconds: int | None) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
