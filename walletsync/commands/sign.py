"""``walletsync sign SESSION --message | --typed-data FILE | --tx JSON``: show what it would do, push, wait, verify.

Before anything is pushed the request is decoded on the session's chain and judged by the policies
(:meth:`Companion.preview`). For people its summary and warnings go to stderr, so stdout stays the answer
(``sig=$(walletsync sign …)`` keeps working); with ``--json`` the one document carries it as ``decoded``.

A request with warnings is sent only once confirmed: at a terminal (stdin is one) ``sign`` asks "Send anyway?";
without one it is refused (``not_confirmed``, exit 1, nothing pushed) unless ``--yes`` is given. So a script
signing a request without warnings works as before, and one that means to send a flagged request says ``--yes``.
A request a policy would refuse is not asked about: the policy refuses it (``policy_refused``, audited).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit_json, quoted
from walletsync.errors import WalletsyncError
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
    sign.add_argument(
        "--yes",
        action="store_true",
        help="send a request with warnings without asking (without a terminal, one with warnings needs it)",
    )
    sign.set_defaults(run=run)


class NotConfirmed(WalletsyncError):
    """A request with warnings the user did not confirm: nothing was pushed. ``--json`` has the decoded request."""

    code = "not_confirmed"

    def __init__(self, message: str, decoded: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.fields = {"decoded": decoded}


def run(args: argparse.Namespace) -> int:
    from walletsync.service import PolicyRefused, read_input_file, read_request

    typed_data = None if args.typed_data is None else read_input_file(args.typed_data, "--typed-data")
    read_request(message=args.message, typed_data=typed_data, tx=args.tx)  # bad input said before going online

    async def main() -> int:
        async with open_companion(args) as companion:
            preview = _preview(companion, args, typed_data)
            decoded = None if preview is None or preview.decoded is None else preview.decoded.to_json()
            if preview is not None:
                await _confirmed(args, preview, decoded)
            try:
                outcome = await companion.sign(
                    args.session,
                    message=args.message,
                    typed_data=typed_data,
                    tx=args.tx,
                    chain_id=args.chain,
                    timeout=args.timeout,
                    rpc_url=args.rpc,
                    on_sent=lambda sent: _waiting(args, sent.method),
                )
            except PolicyRefused as refused:
                refused.fields = {**refused.fields, "decoded": decoded}
                raise
            registry = companion.registry()
        emit_json(args, {**document_of(outcome, registry), "decoded": decoded}, text_of(outcome, registry))
        return 0 if outcome.ok else 1

    return asyncio.run(main())


def _preview(companion, args: argparse.Namespace, typed_data: str | None):
    """What the request would do, shown to people (on stderr); None when ``sign`` itself refuses it, audited (a chain
    the user did not ask for, a chain or method beyond the session's scopes)."""
    from walletsync.commands.decode import brief_text
    from walletsync.service import ChainNotRequested

    try:
        preview = companion.preview(
            args.session, message=args.message, typed_data=typed_data, tx=args.tx, chain_id=args.chain, active=True
        )
    except ChainNotRequested:
        return None
    if preview.out_of_scope is not None:
        return None
    if not args.json:
        if preview.decoded is not None:
            print(brief_text(preview.decoded), file=sys.stderr, flush=True)
        else:
            print(f"cannot say what it would do: {shown(str(preview.undecodable))}", file=sys.stderr, flush=True)
    return preview


async def _confirmed(args: argparse.Namespace, preview, decoded: dict[str, Any] | None) -> None:
    """Return when the request may be pushed; :class:`NotConfirmed` when it has warnings nobody confirmed.

    A request a policy would refuse goes on without asking: the policy gate refuses it (and audits it)."""
    from walletsync.commands.decode import brief_text
    from walletsync.commands.prompt import ask_on_terminal

    codes = [w.code for w in preview.decoded.warnings] if preview.decoded is not None else ["undecodable"]
    if not codes or preview.refusal is not None or args.yes:
        return
    flagged = f"the request has warnings ({', '.join(codes)})"
    if not _interactive():
        raise NotConfirmed(f"{flagged}; not sent: pass --yes to send it anyway", decoded)
    if args.json and preview.decoded is not None:  # the person answering sees what they confirm
        print(brief_text(preview.decoded), file=sys.stderr, flush=True)
    if not await ask_on_terminal(sys.stdin.fileno(), "Send anyway?"):
        raise NotConfirmed(f"{flagged}; not sent", decoded)


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # stdin closed
        return False


def _waiting(args: argparse.Namespace, method: str) -> None:
    if not args.json:
        print(f"Waiting for the phone… approve or reject {method} on the phone.", file=sys.stderr, flush=True)


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
