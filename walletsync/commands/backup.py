"""``walletsync backup create | verify FILE | restore FILE | check-share [FILE]``: the encrypted backup vault.

A backup opens with a passphrase (``$WALLETSYNC_BACKUP_PASSPHRASE``, else asked twice on a terminal: never an
argument, which other local users can read in ``ps``), SLIP-39 shares, or either. Shares are printed once, when
the backup is made; ``check-share`` reads one back right after it was written down.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from walletsync.commands import share_input
from walletsync.commands.common import config_from, open_companion
from walletsync.commands.output import emit_json, quoted, shown
from walletsync.errors import WalletsyncError

if TYPE_CHECKING:
    from walletsync.service import ShareSpec

PASSPHRASE_ENV = "WALLETSYNC_BACKUP_PASSPHRASE"
SHARE_PASSPHRASE_ENV = "WALLETSYNC_SHARE_PASSPHRASE"
ATTEMPTS = 3


class BackupInputError(WalletsyncError):
    """No passphrase or shares could be had (no terminal, nothing in the environment or the shares file)."""

    code = "backup_input"


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    backup = commands.add_parser(
        "backup",
        parents=[common, companion],
        help="make, verify or restore an encrypted backup (passphrase and/or SLIP-39 shares)",
    )
    actions = backup.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        parents=[common, companion],
        help="write a backup of this data dir",
        description=f"The passphrase comes from ${PASSPHRASE_ENV}, else it is asked twice. With --shares the backup's "
        "key is split into SLIP-39 shares instead (add --with-passphrase for both); the shares are shown once.",
    )
    create.add_argument(
        "-o", "--output", metavar="FILE", help="where to write it (default: walletsync-backup-DATE.wsbackup)"
    )
    create.add_argument("--shares", type=int, metavar="N", help="split the key into N SLIP-39 shares")
    create.add_argument("--threshold", type=int, metavar="T", help="T of the N shares restore it (default: N)")
    create.add_argument(
        "--group",
        action="append",
        metavar="T/N",
        help="instead of --shares: a group of N shares of which T are needed (once per group: 2/3 for you, 3/5 "
        "for your family…)",
    )
    create.add_argument(
        "--group-threshold", type=int, metavar="G", help="with --group: G of the groups restore it (default: all)"
    )
    create.add_argument(
        "--qr", action="store_true", help="with --shares: show each share as a QR code too (shown once, like the words)"
    )
    create.add_argument("--with-passphrase", action="store_true", help="with --shares: a passphrase opens it as well")
    create.add_argument(
        "--pages",
        metavar="DIR",
        help="with --shares: also write a printable page per share (text and HTML with a QR code) into the new "
        "directory DIR. The pages hold the shares in clear: print them, then delete them",
    )
    create.add_argument(
        "--share-passphrase",
        action="store_true",
        help=f"protect the shares with a SLIP-39 passphrase too (${SHARE_PASSPHRASE_ENV}, else asked)",
    )
    create.set_defaults(run=_create)
    for name, run, text in (
        ("verify", _verify, "open a backup and check it, without restoring"),
        ("restore", _restore, "restore a backup into this (new) data dir"),
    ):
        action = actions.add_parser(name, parents=[common, companion], help=text)
        action.add_argument("file", metavar="FILE")
        action.add_argument(
            "--shares-file",
            metavar="F",
            help="the shares, one per line ('-': stdin); without it a terminal asks for each in turn",
        )
        share_input.add_image_argument(action, repeat=True)
        action.set_defaults(run=run)
        if name == "restore":
            from walletsync.commands.restore_as import add_flags

            add_flags(action)
    status = actions.add_parser(
        "status", parents=[common, companion], help="when the newest backup was made, and whether it is out of date"
    )
    status.set_defaults(run=_status)
    check = actions.add_parser(
        "check-share",
        parents=[common, companion],
        help="check a share you wrote down (read from the terminal or stdin)",
    )
    check.add_argument("file", metavar="FILE", nargs="?", help="also check it belongs to this backup's shares")
    share_input.add_image_argument(check, repeat=False)
    check.set_defaults(run=_check_share)


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _new_passphrase(what: str, env: str) -> str:
    given = _env(env)
    if given is not None:
        return given
    if not _interactive():
        raise BackupInputError(f"no {what}: set ${env}, or run in a terminal to be asked")
    first = getpass.getpass(f"New {what}: ")
    if not first:
        raise BackupInputError(f"an empty {what} protects nothing")
    if getpass.getpass(f"Repeat the {what}: ") != first:
        raise BackupInputError(f"the two {what}s differ; no backup was written")
    return first


def _spec(args: argparse.Namespace) -> ShareSpec | None:
    from walletsync.service import ShareSpec

    groups = [_group(text) for text in args.group or ()]
    if groups and (args.shares is not None or args.threshold is not None):
        raise BackupInputError("--group T/N splits into groups: give it instead of --shares and --threshold")
    if args.group_threshold is not None and not groups:
        raise BackupInputError("--group-threshold goes with --group T/N")
    if args.shares is None and not groups:
        if args.threshold is not None or args.share_passphrase or args.with_passphrase or args.qr or args.pages:
            raise BackupInputError(
                "--threshold, --share-passphrase, --with-passphrase, --qr and --pages go with --shares N"
            )
        return None
    phrase = _new_passphrase("share passphrase", SHARE_PASSPHRASE_ENV) if args.share_passphrase else ""
    if groups:
        spec = ShareSpec(tuple(groups), args.group_threshold or len(groups), phrase)
        asked = " ".join(f"--group {t}/{n}" for t, n in groups) + f" --group-threshold {spec.group_threshold}"
    else:
        threshold = args.threshold if args.threshold is not None else args.shares
        spec = ShareSpec.simple(threshold, args.shares, phrase)
        asked = f"--shares {args.shares} --threshold {threshold}"
    try:
        spec.check()
    except ValueError as exc:
        raise BackupInputError(f"{asked}: {exc}") from None
    return spec


def _group(text: str) -> tuple[int, int]:
    """``2/3`` (or ``2of3``): a group of 3 shares, 2 needed."""
    found = re.fullmatch(r"\s*(\d{1,2})\s*(?:/|of)\s*(\d{1,2})\s*", text)
    if found is None:
        raise BackupInputError(f"--group {text!r}: write it T/N, e.g. 2/3 (2 of its 3 shares needed)")
    return int(found[1]), int(found[2])


def _create(args: argparse.Namespace) -> int:
    import asyncio

    from walletsync.commands import share_pages

    if args.pages and (args.shares is not None or args.group):
        share_pages.check(Path(args.pages))  # before any passphrase is asked
    spec = _spec(args)
    passphrase = _new_passphrase("backup passphrase", PASSPHRASE_ENV) if spec is None or args.with_passphrase else None
    output = Path(args.output or time.strftime("walletsync-backup-%Y%m%d-%H%M%S.wsbackup"))

    pages = Path(args.pages) if args.pages else None

    async def main() -> int:
        created = pages is not None and share_pages.prepare(pages)
        try:
            async with open_companion(args, connect=False) as companion:
                made = companion.create_backup(output, passphrase=passphrase, spec=spec)
        except BaseException:
            if created and pages is not None:
                pages.rmdir()
            raise
        written = share_pages.write_made(pages, made) if pages is not None else None
        text = made_text(made, qr=args.qr) + (
            f"\nwrote {len(written)} share pages into {shown(pages)}" if written else ""
        )
        emit_json(args, {**made.to_json(), "pages": written}, text)
        if pages is not None:
            print(share_pages.warning(pages), file=sys.stderr, flush=True)
        return 0

    return asyncio.run(main())


def made_text(made, *, qr: bool = False) -> str:
    """What ``backup create`` prints: the file and, once, each share's numbered words (and QR code)."""
    lines = [f"wrote {made.file}"]
    if made.shares:
        total = sum(len(group) for group in made.shares)
        lines += [
            "",
            f"The backup's key is split into {total} SLIP-39 shares; {made.rule()} restore it.",
            "They are shown this once: write each down, on paper, and keep them in different places.",
            "Check each after writing it down: walletsync backup check-share " + str(made.file),
            "",
        ]
        labels = iter(made.labels())
        for group in made.shares:
            for share in group:
                words = share.split()
                rows = [
                    " ".join(f"{i + 1:>2}. {w:<10}" for i, w in enumerate(words[k : k + 6], start=k))
                    for k in range(0, len(words), 6)
                ]
                lines += [f"{next(labels).capitalize()}:", *(f"  {row}" for row in rows), ""]
                if qr:
                    from walletsync.qr import terminal_qr

                    lines += [terminal_qr(share, color=False, quiet_zone=2), ""]
    return "\n".join(lines)


def _read_file(path: str) -> bytes:
    from walletsync.service.backup import read_backup_file

    return read_backup_file(Path(path))


def _open(args: argparse.Namespace, data: bytes):
    """The backup opened with what this command was given, asked for or piped."""
    from walletsync.service import backup

    by_passphrase, by_shares = backup.holders(data)
    scanned = share_input.from_images(args.share_image)
    if args.shares_file is not None or (scanned and not _interactive()):
        lines: list[str] = []
        if args.shares_file == "-":
            lines = sys.stdin.read().splitlines()
        elif args.shares_file is not None:
            lines = _read_file(args.shares_file).decode("utf-8", "replace").splitlines()
        return backup.read(
            data, shares=scanned + backup.shares_from_lines(lines), share_passphrase=_env(SHARE_PASSPHRASE_ENV) or ""
        )
    if scanned:
        return backup.read(data, shares=_ask_shares(scanned), share_passphrase=_share_passphrase())
    if by_passphrase and _env(PASSPHRASE_ENV) is not None:
        return backup.read(data, passphrase=_env(PASSPHRASE_ENV))
    if not _interactive():
        if by_shares:
            return backup.read(
                data,
                shares=backup.shares_from_lines(sys.stdin.read().splitlines()),
                share_passphrase=_env(SHARE_PASSPHRASE_ENV) or "",
            )
        raise BackupInputError(f"no passphrase: set ${PASSPHRASE_ENV}, or run in a terminal to be asked")
    if by_passphrase:
        from walletsync.service import VaultError

        for attempt in range(1, ATTEMPTS + 1):
            try:
                return backup.read(data, passphrase=getpass.getpass("Backup passphrase: "))
            except VaultError as exc:
                if attempt == ATTEMPTS or exc.code != "wrong_passphrase":
                    raise
                print(f"walletsync: {exc}", file=sys.stderr)
    return backup.read(data, shares=_ask_shares(), share_passphrase=_share_passphrase())


def _share_passphrase() -> str:
    return _env(SHARE_PASSPHRASE_ENV) or getpass.getpass("Share passphrase (Enter if none): ")


def _ask_shares(given: list[str] | None = None) -> list[str]:
    """Shares typed one by one (or read from an image a line names), each checked as it is entered, until one
    group's threshold is met (with groups: until an empty line). ``given``: shares read already."""
    from walletsync.service import ShareError, check_share
    from walletsync.service.share_image import ShareImageError

    shares: list[str] = list(given or [])
    infos = [check_share(share) for share in shares]
    needed: int | None = infos[0].member_threshold if infos and infos[0].group_count == 1 else None
    if needed is None or len(shares) < needed:
        print(share_input.HINT, file=sys.stderr)
    while needed is None or len(shares) < needed:
        ask = f"Share {len(shares) + 1}" + (f" of {needed}" if needed else "") + " (its words on one line): "
        print(ask, end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line or (shares and not line.strip()):
            break
        try:
            line = share_input.from_entry(line)
            info = check_share(line)
        except ShareImageError as exc:
            print(f"walletsync: {shown(exc)}; type it again", file=sys.stderr)
            continue
        except ShareError as exc:
            print(f"walletsync: {str(exc).replace('share 1', 'this share')}; type it again", file=sys.stderr)
            continue
        if info.group_count == 1:
            needed = info.member_threshold
        shares.append(line.strip())
        print(f"share {len(shares)}: checksum ok", file=sys.stderr)
    return shares


def _verify(args: argparse.Namespace) -> int:
    from walletsync.service import backup

    check = backup.check(_open(args, _read_file(args.file)))
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(check.created_at))
    text = (
        f"{args.file}: opens, made {made} by {quoted(check.made_by, 40)}; {check.sessions} sessions, "
        f"audit log {'intact' if check.audit_ok else 'TAMPERED'} ({check.audit_entries} entries)"
    )
    emit_json(args, check.to_json(), text)
    return 0 if check.audit_ok else 1


def _restore(args: argparse.Namespace) -> int:
    from walletsync.commands.restore_as import NEW, OLD, choose, restore_as_new
    from walletsync.service import backup
    from walletsync.service.backup_import import group_of

    opened = _open(args, _read_file(args.file))
    if choose(args, group_of(opened)) == NEW:
        return restore_as_new(args, opened)
    restored = backup.restore(config_from(args), opened)
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(opened.created_at))
    text = f"restored the backup made {made} by {quoted(opened.made_by, 40)} into {restored.home}"
    if restored.group is not None:
        text += (
            "\nThis device was in a device group and keeps its identity there: do not run the old copy beside it "
            "(if it still runs, revoke one of the two with 'walletsync devices')."
        )
    document = {
        "data_dir": str(restored.home),
        "created_at": opened.created_at,
        "made_by": opened.made_by,
        "device_group": restored.group,
        "as": OLD,
        "group": restored.group,
        "joined": False,
        "old_device_revoked": False,
    }
    emit_json(args, document, text)
    return 0


def _check_share(args: argparse.Namespace) -> int:
    from walletsync.service import ShareError, backup, check_share

    if args.share_image is not None:
        from walletsync.service.share_image import share_from_image

        line = share_from_image(Path(args.share_image))
    elif _interactive():
        line = share_input.from_entry(getpass.getpass("The share's words, or an image of its QR (not shown): "))
    else:
        line = sys.stdin.readline()
    info = check_share(line)
    if args.file is not None:
        if backup.share_set(_read_file(args.file)) != info.identifier:
            raise ShareError(f"the share is valid but does not belong to {args.file}'s shares")
    document = {
        "ok": True,
        "group": info.group_index,
        "groups": info.group_count,
        "member": info.member_index,
        "threshold": info.member_threshold,
    }
    emit_json(args, document, f"share {info.member_index} checks out (any {info.member_threshold} restore)")
    return 0


def _status(args: argparse.Namespace) -> int:
    import asyncio

    async def main() -> int:
        async with open_companion(args, connect=False) as companion:
            age = companion.backup_age()
        from walletsync.commands.backup_note import status_text

        emit_json(args, {"last_backup": age.made_at, "changed_since": age.changed_since}, status_text(age))
        return 0

    return asyncio.run(main())
