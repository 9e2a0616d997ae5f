"""``walletsync devices``: list the device group, link a new device, join a group from another device's link."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit, emit_json, quoted
from walletsync.commands.prompt import secret_line
from walletsync.errors import WalletsyncError

if TYPE_CHECKING:
    from walletsync.service import DeviceRecord, LinkOffer

LINK_ENV = "WALLETSYNC_LINK"
MAX_LINK_BYTES = 1024


class ConfirmError(WalletsyncError):
    """Nobody can compare the codes: no terminal and no ``--yes``."""

    code = "no_confirmation"


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    devices = commands.add_parser(
        "devices", parents=[common, companion], help="your devices: list them, link a new one, join a group"
    )
    devices.set_defaults(run=run_list)
    actions = devices.add_subparsers(dest="action", metavar="ACTION")
    link = actions.add_parser(
        "link", parents=[common, companion], help="show a link (QR + URI, 5 minutes, one use) for a new device"
    )
    link.add_argument("--yes", action="store_true", help="accept the code without asking (scripts, tests)")
    link.add_argument("--no-qr", action="store_true", help="print only the URI")
    link.set_defaults(run=run_link)
    join = actions.add_parser("join", parents=[common, companion], help="join your group with another device's link")
    join.add_argument(
        "uri",
        nargs="?",
        help=f"the walletsync:link URI; better on stdin or in ${LINK_ENV} (arguments are visible in ps)",
    )
    join.add_argument("--name", help="this device's name in the group (default: the host name)")
    join.add_argument("--yes", action="store_true", help="accept the code without asking (scripts, tests)")
    join.set_defaults(run=run_join)
    rename = actions.add_parser("rename", parents=[common, companion], help="rename a device of the group")
    rename.add_argument("device", help="its name (as listed) or id prefix")
    rename.add_argument("name", help="the new name")
    rename.set_defaults(run=run_rename)
    revoke = actions.add_parser(
        "revoke", parents=[common, companion], help="remove a device from the group (a lost laptop); re-keys the group"
    )
    revoke.add_argument("device", help="its name (as listed) or id prefix")
    revoke.add_argument(
        "--end-sessions",
        action="store_true",
        help="also end every session (the revoked device knew their keys and could still use them)",
    )
    revoke.set_defaults(run=run_revoke)


def describe_device(device: DeviceRecord) -> str:
    seen = "now" if device.this_device else _when(device.last_seen)
    marker = "*" if device.this_device else " "
    return f"{marker} {quoted(device.name, 32):<34} {device.id[:12]}  linked {_when(device.linked_at)}  seen {seen}  {device.status}"


def _when(ts: int | None) -> str:
    return "never" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def run_list(args: argparse.Namespace) -> int:
    async def main() -> int:
        async with open_companion(args, connect=False) as companion:
            devices = companion.devices()
        emit_json(args, [d.to_json() for d in devices], "\n".join(describe_device(d) for d in devices))
        return 0

    return asyncio.run(main())


def _confirmer(args: argparse.Namespace, stdin_spent: bool) -> Callable[[], Awaitable[bool]]:
    """``--yes``; else ask on the terminal; else refuse rather than guess (nobody compared the codes)."""

    async def yes() -> bool:
        return True

    if getattr(args, "yes", False):
        return yes
    fd = _terminal(stdin_spent)
    if fd is None:
        raise ConfirmError("no terminal to confirm the code on: run this on a terminal, or pass --yes")

    async def ask() -> bool:
        print("Do the codes match on both devices? [y/N] ", end="", file=sys.stderr, flush=True)
        line = await asyncio.to_thread(os.read, fd, 64)
        return line.decode("utf-8", "replace").strip().lower() in ("y", "yes")

    return ask


def _terminal(stdin_spent: bool) -> int | None:
    if not stdin_spent and sys.stdin is not None and sys.stdin.isatty():
        return 0
    try:
        return os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return None


def _show_code(args: argparse.Namespace) -> Callable[[str, str], None]:
    def show(code: str, other: str) -> None:
        emit(
            args, f"Code: {code}   (the other device, {quoted(other, 32)}, must show the same)", event="code", code=code
        )

    return show


def run_link(args: argparse.Namespace) -> int:
    confirm = _confirmer(args, stdin_spent=False)

    async def main() -> int:
        from walletsync.qr import terminal_qr

        def offer(link: LinkOffer) -> None:
            if args.json:
                emit(args, "", event="link", uri=link.uri, expires_at=link.expires_at)
                return
            if not args.no_qr:
                print(terminal_qr(link.uri, color=sys.stdout.isatty(), quiet_zone=2))
            print(link.uri)
            print(
                "On the new device run: walletsync devices join   (and paste the link; valid 5 minutes, one use)",
                flush=True,
            )

        async with open_companion(args) as companion:
            device = await companion.link_device(on_offer=offer, show_code=_show_code(args), confirm=confirm)
        emit(args, f"Linked {quoted(device.name)} ({device.id[:12]})", event="linked", device=device.to_json())
        return 0

    return asyncio.run(main())


def _link_text(args: argparse.Namespace) -> tuple[str, bool]:
    """The link from the argument, else ``$WALLETSYNC_LINK``, else one line of stdin; and whether stdin was used."""
    return secret_line(args.uri, LINK_ENV, "link", "Link (walletsync:link?…): ", MAX_LINK_BYTES)


def run_join(args: argparse.Namespace) -> int:
    text, spent = _link_text(args)
    join(args, text, stdin_spent=spent)
    return 0


def join(args: argparse.Namespace, text: str, *, stdin_spent: bool) -> list[DeviceRecord]:
    """Join the group of the link ``text`` (the codes confirmed with ``--yes`` or on the terminal), and say so;
    the group's devices. ``backup restore`` runs it too, for a device restored as a new one."""
    confirm = _confirmer(args, stdin_spent=stdin_spent)
    from walletsync.service import relay_of_link

    relay, project = relay_of_link(text, time.time())
    args.relay = relay  # meet the member on the relay its link names
    if project:
        args.project_id = project

    async def main() -> list[DeviceRecord]:
        async with open_companion(args) as companion:
            devices = await companion.join_group(
                text, show_code=_show_code(args), confirm=confirm, name=getattr(args, "name", None)
            )
        names = ", ".join(quoted(d.name, 32) for d in devices)
        emit(args, f"Joined: {names}", event="joined", devices=[d.to_json() for d in devices])
        return devices

    return asyncio.run(main())


def run_rename(args: argparse.Namespace) -> int:
    async def main() -> int:
        async with open_companion(args) as companion:
            device = companion.rename_device(args.device, args.name)
            await companion.sync_now()
        emit(args, f"Renamed to {quoted(device.name)} ({device.id[:12]})", event="renamed", device=device.to_json())
        return 0

    return asyncio.run(main())


def run_revoke(args: argparse.Namespace) -> int:
    async def main() -> int:
        async with open_companion(args) as companion:
            device, ended = await companion.revoke_device(args.device, end_sessions=args.end_sessions)
            kept = [s for s in companion.sessions() if s.status == "active"]
        if args.json:
            emit(
                args,
                "",
                event="revoked",
                device=device.to_json(),
                ended_sessions=[s.name for s in ended],
                kept_sessions=[s.name for s in kept],
            )
            return 0
        print(f"Revoked {quoted(device.name)} ({device.id[:12]}): it can read nothing the group publishes from now on.")
        if ended:
            print("Ended the sessions it knew: " + ", ".join(quoted(s.name, 32) for s in ended))
        elif kept:
            names = ", ".join(quoted(s.name, 32) for s in kept)
            print(
                f"Still open, and known to the revoked device: {names}. "
                "Run 'walletsync revoke --all' (or revoke them on the phone) if that device is lost."
            )
        return 0

    return asyncio.run(main())
