"""``walletsync sign SESSION --message | --typed-data FILE | --tx JSON``: push, wait, verify."""

from __future__ import annotations

import argparse
import asyncio

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit_json
from walletsync.service import read_input_file


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    sign = commands.add_parser("sign", parents=[common, companion], help="push a signing request to the phone and verify the answer")
    sign.add_argument("session", help="name or topic prefix")
    what = sign.add_mutually_exclusive_group(required=True)
    what.add_argument("--message", help="text to sign (personal_sign)")
    what.add_argument("--typed-data", metavar="FILE", help="EIP-712 typed data JSON file (eth_signTypedData_v4; - for stdin)")
    what.add_argument("--tx", metavar="JSON", help="transaction object (eth_sendTransaction)")
    sign.add_argument("--chain", help="CAIP-2 chain (default: the session's first chain you asked for; one you did not ask for must be named)")
    sign.add_argument("--rpc", metavar="URL", help="with --tx: look the transaction up on this chain node (or config.json's rpc[chain])")
    sign.add_argument("--timeout", type=float, default=None, help="seconds to wait for the phone (default: the request's 5 min expiry)")
    sign.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    typed_data = None if args.typed_data is None else read_input_file(args.typed_data, "--typed-data")

    async def main() -> int:
        async with open_companion(args) as companion:
            outcome = await companion.sign(args.session, message=args.message, typed_data=typed_data, tx=args.tx, chain_id=args.chain, timeout=args.timeout, rpc_url=args.rpc)
        document = outcome.to_json()
        if outcome.session_ended:
            text = f"No answer: the session {outcome.session.name!r} ended before the phone answered ({outcome.error['message']})"
        elif outcome.error is not None:
            text = f"Rejected by {outcome.session.name!r}: {outcome.error['message']} (code {outcome.error['code']})"
        elif document["verified"]:
            signer = f" by {document['recovered']}" if document.get("recovered") else ""
            text = f"{outcome.result}\nverified{signer} ({document.get('reason', 'ok')})"
        else:
            text = f"{outcome.result}\nNOT VERIFIED: {document.get('reason')} (session account {document.get('account')}, recovered {document.get('recovered')})"
        emit_json(args, document, text)
        return 0 if outcome.ok else 1

    return asyncio.run(main())
