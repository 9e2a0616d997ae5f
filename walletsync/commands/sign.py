"""``walletsync sign SESSION --message | --typed-data FILE | --tx JSON``: push, wait, verify."""

from __future__ import annotations

import argparse
import asyncio

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit_json, quoted
from walletsync.text import shown

MESSAGE_CELLS = 200
"""How much of the phone's error message a line shows (``--json`` has all of it)."""


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    sign = commands.add_parser(
        "sign", parents=[common, companion], help="push a signing request to the phone and verify the answer"
    )
    sign.add_argument("session", help="name or topic prefix")
    what = sign.add_mutually_exclusive_group(required=True)
    what.add_argument("--message", help="text to sign (personal_sign)")
    what.add_argument(
        "--typed-data", metavar="FILE", help="EIP-712 typed data JSON file (eth_signTypedData_v4; - for stdin)"
    )
    what.add_argument("--tx", metavar="JSON", help="transaction object (eth_sendTransaction)")
    sign.add_argument(
        "--chain",
        help="CAIP-2 chain (default: the session's first chain you asked for; one you did not ask for must be named)",
    )
    sign.add_argument(
        "--rpc",
        metavar="URL",
        help="with --tx: look the transaction up on this chain node (or config.json's rpc[chain])",
    )
    sign.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for the phone (default: the request's 5 min expiry)",
    )
    sign.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from walletsync.service import read_input_file, read_request

    typed_data = None if args.typed_data is None else read_input_file(args.typed_data, "--typed-data")
    read_request(message=args.message, typed_data=typed_data, tx=args.tx)  # bad input said before going online

    async def main() -> int:
        async with open_companion(args) as companion:
            outcome = await companion.sign(
                args.session,
                message=args.message,
                typed_data=typed_data,
                tx=args.tx,
                chain_id=args.chain,
                timeout=args.timeout,
                rpc_url=args.rpc,
            )
            registry = companion.registry()
        emit_json(args, document_of(outcome, registry), text_of(outcome, registry))
        return 0 if outcome.ok else 1

    return asyncio.run(main())


def explorer_url(outcome, registry) -> str | None:
    """The explorer's page for the transaction a phone says it sent (None for other methods, or no explorer)."""
    if outcome.method != "eth_sendTransaction" or outcome.error is not None or outcome.chain_id is None:
        return None
    return registry.tx_url(outcome.chain_id, outcome.result)


def document_of(outcome, registry) -> dict:
    """The DESIGN.md ``sign`` document, with the chain (``chain_id``, ``chain_name``) and, for a transaction,
    ``explorer_url`` added."""
    document = outcome.to_json()
    if outcome.chain_id is not None:
        document.update(chain_id=outcome.chain_id, chain_name=registry.name(outcome.chain_id))
    if (url := explorer_url(outcome, registry)) is not None:
        document["explorer_url"] = url
    return document


def text_of(outcome, registry) -> str:
    """The answer for people: the phone's result and messages escaped, so they cannot forge the verdict line."""
    document, name = outcome.to_json(), quoted(outcome.session.name)
    if outcome.session_ended:
        return f"No answer: the session {name} ended before the phone answered ({shown(outcome.error['message'], MESSAGE_CELLS)})"
    if outcome.error is not None:
        return f"Rejected by {name}: {shown(outcome.error['message'], MESSAGE_CELLS)} (code {shown(outcome.error['code'])})"
    url = explorer_url(outcome, registry)
    on = f"\non {shown(registry.label(outcome.chain_id))}: {url}" if url else ""
    if document["verified"]:
        signer = f" by {shown(document['recovered'])}" if document.get("recovered") else ""
        return f"{shown(outcome.result)}{on}\nverified{signer} ({shown(document.get('reason', 'ok'))})"
    return (
        f"{shown(outcome.result)}{on}\nNOT VERIFIED: {shown(document.get('reason'))} "
        f"(session account {shown(document.get('account'))}, recovered {shown(document.get('recovered'))})"
    )
