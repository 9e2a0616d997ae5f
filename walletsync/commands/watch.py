"""``walletsync watch [add ADDRESS [--label L] [--chains …] | remove ADDRESS|LABEL]``: addresses whose balances
``walletsync balances`` shows besides the sessions' accounts. Labels are local, like session names."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from walletsync.commands.common import open_companion, share_with_devices
from walletsync.commands.output import emit_json, quoted
from walletsync.names import MAX_CELLS
from walletsync.text import aligned, shown

if TYPE_CHECKING:
    from walletsync.service import Watched


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    watch = commands.add_parser(
        "watch", parents=[common, companion], help="addresses whose balances you watch (besides your sessions')"
    )
    watch.set_defaults(run=lambda args: _run(args, _list))
    actions = watch.add_subparsers(dest="action", metavar="ACTION")
    add = actions.add_parser(
        "add",
        parents=[common, companion],
        help="watch an address (again: change its label or chains)",
        description="Without --chains a new address is read on the chains of your live sessions' accounts (else "
        "Ethereum), written down now.",
    )
    add.add_argument("address", metavar="ADDRESS", help="0x and 40 hex digits (EIP-55 checksummed, or one case)")
    add.add_argument("--label", help="your own name for it, shown beside its balances ('' takes it away)")
    add.add_argument("--chains", type=_csv, metavar="CHAIN,…", help="CAIP-2 chain ids (eip155:1) or EVM numbers")
    add.set_defaults(run=lambda args: _run(args, _add))
    remove = actions.add_parser("remove", parents=[common, companion], help="stop watching an address")
    remove.add_argument("ref", metavar="ADDRESS|LABEL")
    remove.set_defaults(run=lambda args: _run(args, _remove))


def _run(args: argparse.Namespace, handler) -> int:
    async def main() -> int:
        async with open_companion(args, connect=False) as companion:
            code = handler(args, companion)
            if handler is not _list and companion.in_group:  # the watch list is shared with the user's devices
                await share_with_devices(args)
            return code

    return asyncio.run(main())


def _list(args: argparse.Namespace, companion) -> int:
    listed: list[Watched] = companion.watched()
    if args.json:
        emit_json(args, [w.to_json() for w in listed], "")
        return 0
    if not listed:
        print("No watched addresses: 'walletsync watch add ADDRESS [--label L] [--chains …]' adds one.")
        return 0
    registry = companion.registry()
    rows = [("ADDRESS", "LABEL", "CHAINS")]
    rows += [
        (w.address, quoted(w.label, MAX_CELLS) if w.label else "-", chain_names(registry, w.chains)) for w in listed
    ]
    print("\n".join(aligned(rows)), flush=True)
    return 0


def chain_names(registry, chains) -> str:
    """The chains by name where the registry knows them (``Ethereum, Base``), else by id; escaped (a user's own
    chain names are typed text)."""
    return ", ".join(shown(registry.name(chain) or chain) for chain in chains)


def _add(args: argparse.Namespace, companion) -> int:
    watched: Watched = companion.watch(args.address, label=args.label, chains=args.chains)
    label = f" as {quoted(watched.label, MAX_CELLS)}" if watched.label else ""
    on = chain_names(companion.registry(), watched.chains)
    emit_json(args, watched.to_json(), f"Watching {watched.address}{label} on {on}")
    return 0


def _remove(args: argparse.Namespace, companion) -> int:
    watched: Watched = companion.unwatch(args.ref)
    emit_json(args, watched.to_json(), f"No longer watching {watched.address}")
    return 0
