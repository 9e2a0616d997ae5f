"""Command-line entry point.

For now walletsync ships its WalletConnect v2 protocol core; the commands below
say so instead of pretending. Later releases fill them in (see CHANGELOG).
"""

from __future__ import annotations

import argparse
import sys

from walletsync import __version__

PLANNED = {
    "pair": "show a pairing QR/URI and wait for a phone",
    "sessions": "list linked sessions",
    "sign": "push a signing request to the phone and verify the answer",
    "revoke": "end a session",
    "relay": "run a self-hosted WalletConnect relay",
    "phone": "the reference phone wallet, for trying walletsync without a phone",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="walletsync", description="A terminal companion for your phone wallet (WalletConnect v2).")
    parser.add_argument("--version", action="version", version=f"walletsync {__version__}")
    parser.add_argument("command", nargs="?", help="one of: " + ", ".join(PLANNED))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        print(f"walletsync {__version__}")
        print("This release contains the WalletConnect v2 protocol core. Commands on the way:")
        for name, what in PLANNED.items():
            print(f"  {name:<10} {what}")
        return 0
    if args.command in PLANNED:
        print(f"walletsync: '{args.command}' is not available in {__version__} yet (protocol core only)", file=sys.stderr)
        return 2
    print(f"walletsync: unknown command {args.command!r}; run 'walletsync' to list commands", file=sys.stderr)
    return 2
