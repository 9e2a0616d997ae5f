"""What the companion commands share: their options and opening the service."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from walletsync.commands.prompt import terminal_prompt
from walletsync.errors import WalletsyncError
from walletsync.text import shown

if TYPE_CHECKING:  # the service is imported when a command runs, not when the parser is built
    from walletsync.service import Companion, Config


def companion_options() -> argparse.ArgumentParser:
    """Options every command that talks to the phone accepts (before or after the command name)."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--relay",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="relay to use (default: the public relay with a project id, else a local one)",
    )
    options.add_argument(
        "--project-id",
        default=argparse.SUPPRESS,
        metavar="ID",
        help="WalletConnect Cloud project id (or $WALLETCONNECT_PROJECT_ID)",
    )
    options.add_argument(
        "--keyring-file",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="keep device keys in this passphrase-protected file instead of the OS keyring ($WALLETSYNC_KEYRING_FILE; "
        "passphrase: asked once per login session, or $WALLETSYNC_PASSPHRASE)",
    )
    return options


def config_from(args: argparse.Namespace) -> Config:
    from walletsync.service import Config

    return Config(
        data_dir=getattr(args, "data_dir", None),
        relay=getattr(args, "relay", None),
        project_id=getattr(args, "project_id", None),
        keyring_file=getattr(args, "keyring_file", None),
        passphrase=os.environ.get("WALLETSYNC_PASSPHRASE"),
    )


@contextlib.asynccontextmanager
async def open_companion(
    args: argparse.Namespace, *, connect: bool = True, timeout: float | None = None, offline_ok: str | None = None
) -> AsyncIterator[Companion]:
    """The companion, online and caught up with what the relay kept; with ``connect=False`` offline.

    A relay that cannot be reached fails the command at once (:class:`RelayUnreachable`); with
    ``offline_ok`` it is said on stderr instead (followed by that text) and the command goes on
    with what is stored.
    """
    from walletsync.service import Companion, TransportError

    companion = await Companion.open(config_from(args), offline=not connect, prompt=terminal_prompt())
    watcher = asyncio.create_task(_warn_of_widened_scopes(companion))
    await asyncio.sleep(0)  # listening before anything can arrive
    try:
        if connect:
            await companion.start()
            try:
                await companion.sync() if timeout is None else await companion.sync(timeout)
            except TransportError as exc:
                if offline_ok is None:
                    raise
                print(f"walletsync: {shown(str(exc))}; {offline_ok}", file=sys.stderr, flush=True)
        yield companion
    finally:
        await asyncio.sleep(0)  # a warning queued by the last step is printed, not dropped
        watcher.cancel()
        await companion.close()


async def share_with_devices(args: argparse.Namespace, timeout: float = 5.0) -> None:
    """After an offline change in a device group: go online briefly so the other devices get it now; if the
    relay cannot be reached, say it goes out at the next sync instead of failing the change."""
    try:
        async with open_companion(args, timeout=timeout) as companion:
            await companion.sync_now(timeout)
    except (WalletsyncError, OSError, TimeoutError) as exc:
        print(
            f"walletsync: not shared with your other devices yet ({shown(str(exc))}); "
            "it goes out at the next 'walletsync sync' or online command",
            file=sys.stderr,
            flush=True,
        )


async def _warn_of_widened_scopes(companion: Companion) -> None:
    """Whatever the command, say on stderr when the phone granted more than the user asked for."""
    from walletsync.service import ScopeWidened

    async for event in companion.events():
        if isinstance(event, ScopeWidened):
            print(f"walletsync: warning: {event.message()}", file=sys.stderr, flush=True)
