"""Command-line entry point: parse, then run one command.

Global options (``--json``, ``--data-dir``) are accepted before or after the
command name. Every failure is one line on stderr (or one JSON object with
``--json``) and a non-zero exit. Each command lives in :mod:`walletsync.commands`.
"""

from __future__ import annotations

import argparse
import os
import sys

from walletsync import __version__
from walletsync.commands import (
    about,
    audit,
    backup,
    balances,
    chains,
    decode,
    devices,
    lock,
    pair,
    phone,
    policy,
    relay,
    rpc,
    sessions,
    sign,
    sync,
    watch,
)
from walletsync.commands.common import companion_options
from walletsync.commands.output import emit_json, fail
from walletsync.errors import WalletsyncError

COMMANDS = [relay, phone, lock, decode, chains]
COMPANION_COMMANDS = [pair, sessions, sign, rpc, audit, devices, sync, policy, balances, watch, backup]


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (scripts parse stderr) and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _common(suppress: bool) -> argparse.ArgumentParser:
    """Global options; on subcommands they default to SUPPRESS so a value given before the command survives."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS if suppress else False, help="machine-readable output"
    )
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS if suppress else None,
        metavar="DIR",
        help="where walletsync keeps its files (default: $WALLETSYNC_HOME or the platform data dir)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="walletsync",
        description="A terminal companion for your phone wallet (WalletConnect v2).",
        parents=[_common(False)],
    )
    parser.add_argument("--version", action="store_true", help="show walletsync's version and exit")
    parser.add_argument(
        "--relay",
        default=None,
        metavar="URL",
        help="relay to use (default: the public relay with a project id, else a local one)",
    )
    parser.add_argument(
        "--project-id", default=None, metavar="ID", help="WalletConnect Cloud project id (or $WALLETCONNECT_PROJECT_ID)"
    )
    parser.add_argument(
        "--keyring-file",
        default=None,
        metavar="PATH",
        help="device keys in a passphrase-protected file instead of the OS keyring (or $WALLETSYNC_KEYRING_FILE; "
        "a new data dir remembers it)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub_common = _common(True)
    for module in COMMANDS:
        module.add_parser(commands, sub_common)
    companion = companion_options()
    for module in COMPANION_COMMANDS:
        module.add_parser(commands, sub_common, companion)
    about.add_parser(commands, sub_common, parser)
    return parser


def _run_app(args: argparse.Namespace) -> int:
    """The terminal app: open the companion, go online in the background, hand it to the app."""
    import asyncio

    from walletsync.commands.common import config_from
    from walletsync.commands.prompt import terminal_prompt
    from walletsync.service import Companion

    async def main() -> None:
        from walletsync.app.app import build_app

        companion = await Companion.open(config_from(args), prompt=terminal_prompt())
        try:
            await companion.start()
            await build_app(companion).run_async()
        finally:
            await companion.close()

    asyncio.run(main())
    return 0


def _list_commands(args: argparse.Namespace) -> int:
    """What a bare ``walletsync`` prints outside a terminal: the version and the commands (one document with --json)."""
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    listed = about.listing(commands)
    text = "\n".join(
        [
            f"walletsync {__version__}",
            "Commands (walletsync help COMMAND, or walletsync COMMAND --help, for details):",
            *(f"  {c['command']:<10} {c['summary']}" for c in listed),
            "Run 'walletsync' in a terminal for the app.",
        ]
    )
    emit_json(args, {"version": __version__, "commands": listed}, text)
    return 0


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)  # what walletsync writes (its data dir, a relay's mailbox, exports) is its user's alone
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # `walletsync … | head`: the reader has gone, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the flush at exit does not fail again
        return 0


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        return about.show_version(args)
    if args.command is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()) or args.json:
            return _list_commands(args)
        args.run = _run_app
    if not hasattr(args, "run"):
        return fail(args, "usage", f"'{args.command}' is not available in {__version__} yet", exit_code=2)
    try:
        return args.run(args)
    except WalletsyncError as exc:
        return fail(args, exc.code, str(exc), fields=getattr(exc, "fields", None))
    except KeyboardInterrupt:
        return fail(args, "interrupted", "interrupted", exit_code=130)
