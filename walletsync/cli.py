"""Command-line entry point: parse, then run one command.

Global options (``--json``, ``--data-dir``, ``--relay``, ``--project-id``) are
accepted before or after the command name. Every failure is one line on stderr
(or one JSON object with ``--json``) and a non-zero exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any

from walletsync import __version__
from walletsync.errors import WalletsyncError

PLANNED = {
    "pair": "show a pairing QR/URI and wait for a phone",
    "sessions": "list linked sessions",
    "sign": "push a signing request to the phone and verify the answer",
    "revoke": "end a session",
    "phone": "the reference phone wallet, for trying walletsync without a phone",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (scripts parse stderr) and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False, help="machine-readable output")
    parser.add_argument("--data-dir", default=default, metavar="DIR", help="where walletsync keeps its files (default: $WALLETSYNC_HOME or the platform data dir)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="walletsync", description="A terminal companion for your phone wallet (WalletConnect v2).")
    parser.add_argument("--version", action="version", version=f"walletsync {__version__}")
    _global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    relay = commands.add_parser("relay", help="run a self-hosted WalletConnect relay")
    _global_options(relay, suppress=True)
    relay.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    relay.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    relay.add_argument("--store", default=None, metavar="SPEC", help="memory | sqlite:PATH | redis://HOST:PORT (default: sqlite in the data dir)")
    relay.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"], help="what the relay logs to stderr (debug: every method call, never message contents)")

    for name, what in PLANNED.items():
        planned = commands.add_parser(name, help=f"{what} (coming soon)")
        _global_options(planned, suppress=True)
        planned.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _emit(args: argparse.Namespace, text: str, **event: Any) -> None:
    print(json.dumps(event) if args.json else text, flush=True)


def _fail(args: argparse.Namespace, code: str, message: str) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}), flush=True)
    else:
        print(f"walletsync: {message}", file=sys.stderr, flush=True)
    return 2 if code == "usage" else 1


def _run_relay(args: argparse.Namespace) -> int:
    from walletsync.paths import data_dir
    from walletsync.relay.runner import serve_until_signalled

    store = args.store or f"sqlite:{data_dir(args.data_dir) / 'relay.db'}"
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)

    def ready(server) -> None:
        _emit(args, f"walletsync relay listening on {server.url} (store: {store.split('://')[0] if '://' in store else store.split(':')[0]})", event="listening", url=server.url, store=store)

    asyncio.run(serve_until_signalled(store, host=args.host, port=args.port, on_ready=ready))
    _emit(args, "walletsync relay stopped", event="stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        print(f"walletsync {__version__}")
        print("Available now:\n  relay      run a self-hosted WalletConnect relay\nOn the way:")
        for name, what in PLANNED.items():
            print(f"  {name:<10} {what}")
        return 0
    if args.command in PLANNED:
        return _fail(args, "usage", f"'{args.command}' is not available in {__version__} yet")
    try:
        return _run_relay(args)
    except WalletsyncError as exc:
        return _fail(args, exc.code, str(exc))
    except OSError as exc:
        return _fail(args, "os_error", f"cannot start the relay: {exc}")
