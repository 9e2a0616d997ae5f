"""``walletsync sync``: exchange with the device group now and print where every device stands."""

from __future__ import annotations

import argparse
import asyncio

from walletsync.commands.common import open_companion
from walletsync.commands.devices import describe_device
from walletsync.commands.output import emit_json


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    sync = commands.add_parser("sync", parents=[common, companion], help="sync with your other devices now")
    sync.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    async def main() -> int:
        async with open_companion(args) as companion:
            status = await companion.sync_now()
        lines = [describe_device(d) for d in status.devices]
        lines.append(
            "All changes confirmed by every device."
            if status.pending == 0
            else f"{status.pending} change(s) not yet confirmed by every device."
        )
        emit_json(args, status.to_json(), "\n".join(lines))
        return 0

    return asyncio.run(main())
