"""``walletsync decode --tx JSON | --typed-data FILE [--chain C] [--session S]``: what a request would do, with warnings.

Nothing is sent. Without ``--session`` no data dir or device key is opened: the command reads the request, decodes
it and prints it. With ``--session`` it opens the companion offline (so the device's keys) to read the session's
chain and account and the policies: their warnings, and whether one would refuse the request.
"""

from __future__ import annotations

import argparse
import asyncio

from walletsync.commands.output import emit_json
from walletsync.text import shown

INDENT = "  "


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    decode = commands.add_parser(
        "decode", parents=[common], help="say what a transaction or typed data would do, with warnings (sends nothing)"
    )
    what = decode.add_mutually_exclusive_group(required=True)
    what.add_argument("--tx", metavar="JSON", help="transaction object, as 'sign --tx' takes it")
    what.add_argument("--typed-data", metavar="FILE", help="EIP-712 typed data JSON file (- for stdin)")
    decode.add_argument(
        "--chain",
        help="CAIP-2 chain (default: the session's, as 'sign' picks it; else the transaction's chainId or the "
        "typed data's domain chainId, else eip155:1)",
    )
    decode.add_argument(
        "--session",
        metavar="SESSION",
        help="decode as 'sign SESSION' would send it, with the policies' warnings (opens the data dir and its keys)",
    )
    decode.add_argument(
        "--keyring-file",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="with --session: the device keys' passphrase-protected file ($WALLETSYNC_KEYRING_FILE)",
    )
    decode.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from walletsync.service import read_input_file
    from walletsync.service.decoding import decode_request
    from walletsync.service.registry import load_registry

    typed_data = None if args.typed_data is None else read_input_file(args.typed_data, "--typed-data")
    if args.session is not None:
        return asyncio.run(_for_session(args, typed_data))
    decoded = decode_request(
        tx=args.tx, typed_data=typed_data, chain_id=args.chain, lookup=load_registry(getattr(args, "data_dir", None))
    )
    emit_json(args, decoded.to_json(), text_of(decoded))
    return 0


async def _for_session(args: argparse.Namespace, typed_data: str | None) -> int:
    """The request as ``sign`` would send it on the session, judged by the policies (offline: nothing is sent)."""
    from walletsync.commands.common import open_companion
    from walletsync.service import MalformedRequest, is_chain_id, read_request

    read_request(tx=args.tx, typed_data=typed_data)  # bad input is said before the data dir is opened
    if args.chain is not None and not is_chain_id(args.chain):
        raise MalformedRequest(f"--chain: {args.chain[:60]!r} is not a CAIP-2 chain id (like eip155:1)")
    async with open_companion(args, connect=False) as companion:
        preview = companion.preview(args.session, tx=args.tx, typed_data=typed_data, chain_id=args.chain)
    if preview.decoded is None:
        assert preview.undecodable is not None
        raise preview.undecodable
    document = preview.decoded.to_json()
    document.update(refusal=refusal_json(preview.refusal), out_of_scope=preview.out_of_scope)
    text = [text_of(preview.decoded), refusal_text(preview.refusal)]
    if preview.out_of_scope is not None:
        text.append(f"scope: the session cannot carry it ({shown(preview.out_of_scope)})")
    emit_json(args, document, "\n".join(text))
    return 0


def refusal_json(refusal) -> dict | None:
    """``decode --session``'s ``refusal``: the policy that would refuse the request now (None: none would)."""
    return None if refusal is None else {"rule": refusal.rule, "message": refusal.message}


def refusal_text(refusal) -> str:
    if refusal is None:
        return "policy: no policy would refuse it now"
    return f"policy: would refuse it ({refusal.rule}): {shown(refusal.message)}"


def brief_text(decoded) -> str:
    """What ``sign`` shows before pushing: the summary, the chain and the warnings (``decode`` shows it all)."""
    return "\n".join([shown(decoded.summary), f"chain: {shown(_chain(decoded.chain))}", *_warning_lines(decoded)])


def _warning_lines(decoded) -> list[str]:
    lines = ["warnings:" if decoded.warnings else "warnings: none"]
    return lines + [f"{INDENT}{w.code}: {shown(w.message)}" for w in decoded.warnings]


def text_of(decoded) -> str:
    """For people: the summary, each call (nested ones indented), the effects, then the warnings, all escaped."""
    lines = [shown(decoded.summary), f"chain: {shown(_chain(decoded.chain))}"]
    if decoded.calls:
        lines.append("calls:")
        for call in decoded.calls:
            lines += _call_lines(call, 1)
    if decoded.tree is not None and decoded.kind == "typed_data":
        lines.append("message:")
        lines += _tree_lines(decoded.tree, 1)
    if decoded.effects:
        lines.append("effects:")
        lines += [INDENT + shown(_effect(e)) for e in decoded.effects]
    return "\n".join(lines + _warning_lines(decoded))


def _chain(chain) -> str:
    return chain.id if chain.name is None else f"{chain.name} ({chain.id})"


def _call_lines(call, depth: int) -> list[str]:
    lines = [INDENT * depth + shown(call.summary)]
    if call.function is None and call.data != "0x":
        data = call.data if len(call.data) <= 138 else call.data[:137] + "…"
        lines.append(INDENT * (depth + 1) + f"data: {shown(data)}")
    for inner in call.calls:
        lines += _call_lines(inner, depth + 1)
    return lines


def _tree_lines(node, depth: int) -> list[str]:
    label = f"{shown(node['name'])} ({shown(node['type'])})"
    if "fields" in node:
        lines = [INDENT * depth + label + ":"]
        for field in node["fields"]:
            lines += _tree_lines(field, depth + 1)
        return lines
    return [INDENT * depth + f"{label}: {shown(node['value'], 200)}"]


def _effect(effect) -> str:
    amount = "unlimited" if effect.amount is None else str(effect.amount)
    token = "" if effect.token_id is None else f" #{effect.token_id}"
    until = "" if effect.expiry is None else f" until {effect.expiry}"
    to = "" if effect.counterparty is None else f" → {effect.counterparty}"
    return f"{effect.kind} {amount} of {effect.asset}{token}{to}{until}"
