"""``walletsync pair``: show a pairing URI and QR, wait for a phone, print the session."""

from __future__ import annotations

import argparse
import asyncio
import sys

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit
from walletsync.commands.sessions import chain_labels, chain_names, describe, session_document
from walletsync.service import DEFAULT_CHAINS, DEFAULT_EVENTS, DEFAULT_METHODS


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    pair = commands.add_parser("pair", parents=[common, companion], help="show a pairing QR/URI and wait for a phone")
    pair.add_argument(
        "--chains",
        type=_csv,
        default=DEFAULT_CHAINS,
        help=f"CAIP-2 chains to ask for (default {','.join(DEFAULT_CHAINS)})",
    )
    pair.add_argument("--methods", type=_csv, default=DEFAULT_METHODS, help="methods to ask for")
    pair.add_argument("--events", type=_csv, default=DEFAULT_EVENTS, help="events to ask for")
    pair.add_argument(
        "--name",
        help="local name for the new session (default: the wallet's own name without invisible characters, "
        "at most 64 wide, with a suffix if another session's name looks the same)",
    )
    pair.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait (default: until the URI expires, 5 min)"
    )
    pair.add_argument("--no-qr", action="store_true", help="print only the URI")
    pair.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_pair(args))


async def _pair(args: argparse.Namespace) -> int:
    from walletsync.qr import terminal_qr

    async with open_companion(args) as companion:
        offer = await companion.pair(chains=args.chains, methods=args.methods, events=args.events, name=args.name)
        registry = companion.registry()
        relay = companion.relay
        assert relay is not None  # pair opens the companion online
        if args.json:
            emit(
                args,
                "",
                event="uri",
                uri=offer.uri,
                expires_at=offer.expires_at,
                relay=relay.url,
                relay_kind=relay.kind,
                chain_names=chain_names(registry, list(args.chains)),
            )
        else:
            print(f"Relay: {relay.describe()}")
            print(f"Asks for {chain_labels(registry, list(args.chains), limit=len(args.chains))}")
            if not args.no_qr:
                print(terminal_qr(offer.uri, color=sys.stdout.isatty(), quiet_zone=2))
            print(offer.uri)
            if relay.kind == "local":
                from walletsync.service import phone_command

                print(
                    f"\nNo phone wallet talks to a local relay: pair the reference wallet from another terminal:\n  {phone_command(offer.uri)}"
                )
            print(
                f"Waiting for a phone (the URI expires in {max(0, offer.expires_at - int(companion.clock()))} s)…",
                flush=True,
            )
        timeout = args.timeout if args.timeout is not None else max(1.0, offer.expires_at - companion.clock())
        session = await companion.wait_for_session(offer.proposal_id, timeout)
        emit(args, f"Paired {describe(session, registry)}", event="session", **session_document(session, registry))
    return 0
