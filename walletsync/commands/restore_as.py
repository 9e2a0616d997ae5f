"""``backup restore`` of a device that was in a device group: as a new device (then join), or as the old one.

As a new device this machine keeps its own identity and takes the backup's sessions and state
(:meth:`Companion.restore_backup`); then, on a terminal, it offers to join the group with a link from one of the
user's devices (``walletsync devices join``'s code) and to revoke the old device (it re-keys the group). Declined,
later, or in a script: the exact commands are printed. As the old device it *is* that device again: right only when
that device is gone for good and no other device of the group is alive.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from typing import TYPE_CHECKING, Any

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit_json, quoted
from walletsync.errors import WalletsyncError
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.service.backup import Backup

NEW, OLD = "new_device", "old_device"


class RestoreChoiceNeeded(WalletsyncError):
    """The backup's device was in a device group, nobody can be asked how to restore it, and no flag says."""

    code = "restore_choice_needed"


def add_flags(restore: argparse.ArgumentParser) -> None:
    """``--as-new-device`` / ``--as-old-device`` on ``backup restore``."""
    how = restore.add_mutually_exclusive_group()
    how.add_argument(
        "--as-new-device",
        dest="restore_as",
        action="store_const",
        const=NEW,
        help="this machine gets its own identity and takes the backup's sessions and state, then joins the device "
        "group as a new device (recommended when the backup's device was in a group)",
    )
    how.add_argument(
        "--as-old-device",
        dest="restore_as",
        action="store_const",
        const=OLD,
        help="this machine becomes the backup's device itself, same identity (only if that device is gone for good "
        "and no other device of its group is alive)",
    )


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def _ask(question: str) -> str:
    print(question, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip()


def choose(args: argparse.Namespace, group: str | None) -> str:
    """How to restore: the flag; else, for a device of a group, asked on a terminal or a typed error; else as today
    (the old identity: without a group there is nobody to impersonate it to)."""
    chosen: str | None = getattr(args, "restore_as", None)
    if chosen is not None:
        return chosen
    if group is None:
        return OLD
    if not _interactive():
        raise RestoreChoiceNeeded(
            "the backup's device was in a device group: say how to restore it, --as-new-device (recommended: this "
            "machine joins the group as a new device) or --as-old-device (only if that device is gone for good and "
            "no other device of the group is alive)"
        )
    print(
        "The backup's device was in a device group. Restore it\n"
        "  1. as a new device (recommended): this machine keeps its own identity, takes the sessions and joins the "
        "group with a link from one of your devices\n"
        "  2. as the old device itself: only if it is gone for good and no other device of the group is alive "
        "(two devices with one identity confuse the group and the phones)",
        file=sys.stderr,
    )
    while True:
        answer = _ask("Choice [1]: ")
        if answer in ("", "1"):
            return NEW
        if answer == "2":
            return OLD


def _command(args: argparse.Namespace, *words: str) -> str:
    """A command line for this data dir, as the user would type it."""
    where = ["--data-dir", args.data_dir] if getattr(args, "data_dir", None) else []
    return shlex.join(["walletsync", *where, *words])


def restore_as_new(args: argparse.Namespace, opened: Backup) -> int:
    """Restore ``opened`` into this (fresh) data dir as a new device, then offer to join its group and revoke the old
    device; the JSON says what happened."""
    from walletsync.service.backup_import import member_id

    async def restore() -> Any:
        async with open_companion(args, connect=False) as companion:
            return companion.restore_backup(opened), str(companion.home)

    restored, home = asyncio.run(restore())
    old = member_id(opened)
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(restored.made_at))
    lines = [
        f"restored the backup made {made} by {quoted(restored.made_by, 40)} into {home} as a new device: "
        f"{restored.sessions} session{'s' if restored.sessions != 1 else ''} back, this device's own identity"
    ]
    joined = revoked = False
    if restored.group is not None and _interactive():
        if not args.json:
            print("\n".join(lines), flush=True)
            lines = []
        joined = _offer_join(args, restored.made_by)
        revoked = joined and _offer_revoke(args, old, restored.made_by)
    later = []
    if restored.group is not None and not joined:
        later.append(_command(args, "devices", "join"))
    if restored.group is not None and not revoked:
        later.append(_command(args, "devices", "revoke", old[:12]))
    if later:
        lines.append(
            "To join the device group with a link from 'walletsync devices link' on one of your devices, and revoke "
            "the old device (it re-keys the group):"
        )
        lines += [f"  {line}" for line in later]
    document = {
        "data_dir": home,
        "created_at": restored.made_at,
        "made_by": restored.made_by,
        "as": NEW,
        "sessions": restored.sessions,
        "old_device_id": old,
        "group": restored.group,
        "device_group": restored.group,
        "joined": joined,
        "old_device_revoked": revoked,
        "next": later,
    }
    if args.json or lines:
        emit_json(args, document, "\n".join(lines))
    return 0


def _offer_join(args: argparse.Namespace, old_name: str) -> bool:
    """Join the group with a link the user pastes (Enter: later); True once joined. This device goes by the host's
    name, told apart from the old device's if it is the same."""
    from walletsync.commands.devices import join
    from walletsync.service.devices import default_device_name

    text = _ask("Paste the link from 'walletsync devices link' on one of your devices (Enter: later): ")
    if not text:
        return False
    name = default_device_name()
    args.name = f"{name} (restored)" if name.casefold() == old_name.casefold() else name
    try:
        join(args, text, stdin_spent=False)
    except WalletsyncError as exc:
        print(f"walletsync: joining failed: {shown(exc)}", file=sys.stderr)
        return False
    return True


def _offer_revoke(args: argparse.Namespace, old: str, name: str) -> bool:
    """Revoke the old device from the group if the user says so; True once revoked."""
    answer = _ask(
        f"Revoke the old device {quoted(name, 40)} ({old[:12]}) from the group? It re-keys the group; say no only "
        "if that device still runs and you keep it. [Y/n] "
    )
    if answer.lower() not in ("", "y", "yes"):
        return False

    async def revoke() -> None:
        async with open_companion(args) as companion:
            await companion.revoke_device(old)

    try:
        asyncio.run(revoke())
    except WalletsyncError as exc:
        print(f"walletsync: revoking the old device failed: {shown(exc)}", file=sys.stderr)
        return False
    print(f"revoked the old device {quoted(name, 40)} ({old[:12]})", file=sys.stderr)
    return True
