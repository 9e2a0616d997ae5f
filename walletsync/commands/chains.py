"""``walletsync chains [--all] | chains add | remove | token add | remove | list``: the chain registry.

The registry is the bundled list of chains and major tokens with the user's additions (config.json) over it.
None of these commands opens the device's keys or the relay: they read and write config.json only.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from walletsync.commands.output import emit_json
from walletsync.redact import url_shown
from walletsync.text import cells, pad, shown

if TYPE_CHECKING:
    from walletsync.service import Chain, Token

NAME_CELLS, URL_CELLS = 40, 48


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    chains = commands.add_parser(
        "chains",
        parents=[common],
        help="list the chains walletsync names; add or remove yours and their tokens",
        description="Without an action: the major chains (mainnets with bundled tokens, their testnets) and the "
        "ones you added or changed; --all lists every chain walletsync knows.",
    )
    chains.add_argument("--all", action="store_true", help="every known chain, not only the major ones and yours")
    chains.set_defaults(run=_list)
    actions = chains.add_subparsers(dest="action", metavar="ACTION")

    add = actions.add_parser(
        "add",
        parents=[common],
        help="add a chain, or change a bundled one's name, currency, explorers or RPCs",
        description="A chain walletsync does not know needs --name and --currency; for a known one, each option "
        "given replaces its value (repeat --explorer / --rpc for several, best first).",
    )
    add.add_argument("chain", metavar="CHAIN", help="CAIP-2 chain id (eip155:137), or an EVM chain's number")
    add.add_argument("--name", help="the chain's name as walletsync shows it")
    add.add_argument("--currency", metavar="SYMBOL", help="its native currency's symbol (ETH, POL)")
    add.add_argument("--decimals", type=str, help="its native currency's decimals (default 18)")
    add.add_argument("--explorer", action="append", metavar="URL", help="an EIP-3091 block explorer (…/tx/HASH)")
    add.add_argument("--rpc", action="append", metavar="URL", help="an http(s) RPC URL")
    add.set_defaults(run=_add)

    remove = actions.add_parser(
        "remove", parents=[common], help="remove a chain you added (or your changes to a bundled one)"
    )
    remove.add_argument("chain", metavar="CHAIN")
    remove.set_defaults(run=_remove)

    rpc = actions.add_parser(
        "rpc",
        parents=[common],
        help="add, remove or prefer an RPC of a chain (balances read the preferred first)",
        description="Your RPCs come before the bundled ones: 'add' puts one last among yours, 'prefer' first, "
        "'remove' takes one of yours out. A chain walletsync does not know is added with its first RPC (as 'Chain N', "
        "currency ETH: 'walletsync chains add CHAIN --name … --currency …' changes them).",
    )
    rpc.add_argument("chain", metavar="CHAIN", help="CAIP-2 chain id (eip155:137), or an EVM chain's number")
    rpc.add_argument("rpc_action", metavar="ACTION", choices=["add", "remove", "prefer"], help="add, remove or prefer")
    rpc.add_argument("url", metavar="URL", help="an http(s) RPC URL")
    rpc.set_defaults(run=_rpc)

    token = actions.add_parser("token", parents=[common], help="add, remove or list a chain's tokens")
    token_actions = token.add_subparsers(dest="token_action", metavar="ACTION", required=True)
    token_add = token_actions.add_parser("add", parents=[common], help="add a token (or change a bundled one)")
    token_add.add_argument("chain", metavar="CHAIN")
    token_add.add_argument("address", metavar="ADDRESS", help="the token contract (EIP-55 checksummed, or one case)")
    token_add.add_argument("--symbol", required=True)
    token_add.add_argument("--decimals", required=True, type=str)
    token_add.add_argument("--name")
    token_add.set_defaults(run=_add_token)
    token_remove = token_actions.add_parser("remove", parents=[common], help="remove a token you added")
    token_remove.add_argument("chain", metavar="CHAIN")
    token_remove.add_argument("address", metavar="ADDRESS")
    token_remove.set_defaults(run=_remove_token)
    token_list = token_actions.add_parser("list", parents=[common], help="a chain's tokens, yours first")
    token_list.add_argument("chain", metavar="CHAIN")
    token_list.set_defaults(run=_list_tokens)


def _data_dir(args: argparse.Namespace) -> str | None:
    return getattr(args, "data_dir", None)


def _list(args: argparse.Namespace) -> int:
    from walletsync.service import load_registry

    registry = load_registry(_data_dir(args))
    listed = registry.chains(major_only=not args.all)
    if args.json:
        emit_json(args, [chain.to_json() for chain in listed], "")
        return 0
    rows = [("CHAIN", "NAME", "CURRENCY", "EXPLORER", "")]
    rows += [
        (
            chain.id,
            shown(chain.name, NAME_CELLS),
            shown(chain.currency),
            shown(chain.explorers[0], URL_CELLS) if chain.explorers else "-",
            "yours" if chain.user else "",
        )
        for chain in listed
    ]
    widths = [max(cells(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(pad(cell, width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    if not args.all:
        lines.append(
            f"{len(listed)} shown: the major chains and yours; 'walletsync chains --all' lists all "
            f"{len(registry.chains())}."
        )
    print("\n".join(lines), flush=True)
    return 0


def _add(args: argparse.Namespace) -> int:
    from walletsync.service import add_chain

    chain = add_chain(
        _data_dir(args),
        args.chain,
        name=args.name,
        currency=args.currency,
        decimals=args.decimals,
        explorers=args.explorer,
        rpcs=args.rpc,
    )
    emit_json(args, chain.to_json(), f"Added {describe(chain)}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from walletsync.service import remove_chain

    removed, now = remove_chain(_data_dir(args), args.chain)
    text = (
        f"Removed {shown(removed.label())}"
        if now is None
        else f"Removed your changes to {shown(now.label())}: walletsync's own entry again"
    )
    emit_json(args, {"removed": removed.to_json(), "now": None if now is None else now.to_json()}, text)
    return 0


def _rpc(args: argparse.Namespace) -> int:
    from walletsync.service import change_rpc, load_registry

    chain, added = change_rpc(_data_dir(args), args.chain, args.rpc_action, args.url)
    rpcs = load_registry(_data_dir(args)).rpcs(chain.id)
    done = {"add": "Added", "remove": "Removed", "prefer": "Preferred"}[args.rpc_action]
    text = f"{done} {shown(url_shown(args.url), URL_CELLS)} for {shown(chain.label())}"
    if added:
        text += f" (a new chain: {describe(chain)})"
    order = ", ".join(shown(url_shown(u), URL_CELLS) for u in rpcs) or "none"
    emit_json(
        args,
        {**chain.to_json(), "rpcs": rpcs, "added": added},
        f"{text}\nRPCs, in the order balances ask them: {order}",
    )
    return 0


def _add_token(args: argparse.Namespace) -> int:
    from walletsync.service import add_token, load_registry

    token = add_token(
        _data_dir(args), args.chain, args.address, symbol=args.symbol, decimals=args.decimals, name=args.name
    )
    on = load_registry(_data_dir(args)).label(token.chain_id)
    emit_json(args, token.to_json(), f"Added {token_line(token)} on {shown(on)}")
    return 0


def _remove_token(args: argparse.Namespace) -> int:
    from walletsync.service import remove_token

    token = remove_token(_data_dir(args), args.chain, args.address)
    emit_json(args, token.to_json(), f"Removed {shown(token.label())} ({token.address}) from {token.chain_id}")
    return 0


def _list_tokens(args: argparse.Namespace) -> int:
    from walletsync.service import chain_id_of, load_registry

    registry = load_registry(_data_dir(args))
    chain_id = chain_id_of(args.chain)
    tokens = sorted(registry.tokens(chain_id), key=lambda t: not t.user)
    if args.json:
        emit_json(args, [t.to_json() for t in tokens], "")
        return 0
    if not tokens:
        print(f"No tokens known on {shown(registry.label(chain_id))}: add one with 'walletsync chains token add'.")
        return 0
    rows = [("SYMBOL", "ADDRESS", "DECIMALS", "NAME", "")]
    rows += [
        (shown(t.symbol), t.address, str(t.decimals), shown(t.name, NAME_CELLS), "yours" if t.user else "")
        for t in tokens
    ]
    widths = [max(cells(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"Tokens on {shown(registry.label(chain_id))}:")
    print("\n".join("  ".join(pad(c, w) for c, w in zip(row, widths)).rstrip() for row in rows), flush=True)
    return 0


def describe(chain: Chain) -> str:
    """One line about a chain: its label, currency, first explorer and RPC (escaped: the user typed them)."""
    explorer = shown(chain.explorers[0], URL_CELLS) if chain.explorers else "none"
    rpc = shown(url_shown(chain.rpcs[0]), URL_CELLS) if chain.rpcs else "none"
    return (
        f"{shown(chain.label())}: {shown(chain.currency)} ({chain.decimals} decimals), explorer {explorer}, RPC {rpc}"
    )


def token_line(token: Token) -> str:
    return f"{shown(token.label())} ({token.address}, {token.decimals} decimals)"
