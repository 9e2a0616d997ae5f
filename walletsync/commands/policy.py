"""``walletsync policy``: the user's limits on sessions, enforced before the phone is asked.

``set SESSION|--all`` replaces that scope's policy with exactly the limits given and attests the file in one
step; ``show`` prints what is in force; ``clear`` removes a policy (every policy without SESSION or --all);
``attest`` puts a hand-edited ``policies.json`` in force.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit_json, quoted
from walletsync.errors import WalletsyncError
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.service import PolicyView


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    policy = commands.add_parser(
        "policy", parents=[common, companion], help="limits on what sessions may ask the phone (checked first)"
    )
    policy.set_defaults(run=run_show, session=None)
    actions = policy.add_subparsers(dest="action", metavar="ACTION")

    set_ = actions.add_parser(
        "set",
        parents=[common, companion],
        help="replace a session's policy (or the one for all sessions) with these limits",
        description="Every option is a limit; an option not given sets no limit of that kind. Unlimited "
        "approvals are refused unless --allow-unlimited-approvals. The file is written and attested in one step.",
    )
    scope = set_.add_mutually_exclusive_group(required=True)
    scope.add_argument("session", nargs="?", help="name or topic prefix")
    scope.add_argument(
        "--all", action="store_true", help="the policy for every session (each session's own adds to it)"
    )
    set_.add_argument("--chains", type=_csv, metavar="CHAIN,…", help="the only CAIP-2 chains requests may use")
    set_.add_argument("--methods", type=_csv, metavar="METHOD,…", help="the only methods requests may use")
    set_.add_argument(
        "--max-native-per-day",
        action="append",
        default=[],
        metavar="AMOUNT",
        help="native value sent per rolling 24 h: 0.1 (each chain, in its own currency) or eip155:137=50 (repeatable)",
    )
    set_.add_argument(
        "--max-token-per-day",
        action="extend",
        nargs="+",
        default=[],
        metavar="SYMBOL_OR_ADDRESS=AMOUNT",
        help="tokens sent, approved or permitted per rolling 24 h, like USDC=500 or eip155:1:0xA0b8…=500",
    )
    set_.add_argument(
        "--recipients",
        type=_csv,
        metavar="ADDR,…",
        help="the only addresses value may go to or be approved for (token recipients and spenders included)",
    )
    set_.add_argument("--max-requests-per-hour", type=int, metavar="N", help="requests pushed to the phone per hour")
    set_.add_argument(
        "--allow-unlimited-approvals",
        action="store_true",
        help="let unlimited approvals and setApprovalForAll through (never for a token with a cap)",
    )
    set_.set_defaults(run=run_set)

    show = actions.add_parser("show", parents=[common, companion], help="the policies in force (one session's, or all)")
    show.add_argument("session", nargs="?", help="name or topic prefix")
    show.set_defaults(run=run_show)

    clear = actions.add_parser(
        "clear",
        parents=[common, companion],
        help="remove a session's policy, the all-sessions one (--all), or every one",
    )
    which = clear.add_mutually_exclusive_group()
    which.add_argument("session", nargs="?", help="name or topic prefix")
    which.add_argument("--all", action="store_true", help="the policy for every session")
    clear.set_defaults(run=run_clear)

    attest = actions.add_parser(
        "attest", parents=[common, companion], help="put the policy file as it is now in force (after a hand edit)"
    )
    attest.set_defaults(run=run_attest)


def _run(args: argparse.Namespace, act: Any) -> int:
    async def main() -> int:
        async with open_companion(args, connect=False) as companion:
            view = act(companion)
        emit_json(args, view.to_json(), text_of(view))
        return 0

    return asyncio.run(main())


def run_set(args: argparse.Namespace) -> int:
    if args.max_requests_per_hour is not None and args.max_requests_per_hour < 0:
        raise WalletsyncError("--max-requests-per-hour must be 0 or more")
    return _run(
        args,
        lambda companion: companion.set_policy(
            None if args.all else args.session,
            chains=args.chains,
            methods=args.methods,
            max_native_per_day=args.max_native_per_day,
            max_token_per_day=args.max_token_per_day,
            recipients=args.recipients,
            max_requests_per_hour=args.max_requests_per_hour,
            allow_unlimited_approvals=args.allow_unlimited_approvals,
        ),
    )


def run_show(args: argparse.Namespace) -> int:
    return _run(args, lambda companion: companion.policy(args.session))


def run_clear(args: argparse.Namespace) -> int:
    return _run(args, lambda companion: companion.clear_policy(args.session, all_sessions=args.all))


def run_attest(args: argparse.Namespace) -> int:
    return _run(args, lambda companion: companion.attest_policy())


def text_of(view: PolicyView) -> str:
    """The policies for people: the file's state first (refusing everything is said loudly), then each scope."""
    status = view.status
    digest = f", sha256 {status.sha256[:12]}…" if status.sha256 else ""
    lines = [f"Policy file {shown(status.path)} ({'in force' if status.in_force else 'NOT IN FORCE'}{digest})"]
    if status.problem:
        lines.append(f"Every request is refused: {shown(status.problem)}")
    if view.session is not None:
        lines += _scope(f"Session {quoted(view.session.name)}", view.own)
        lines += _scope("All sessions (applies too)", view.all)
        return "\n".join(lines)
    lines += _scope("All sessions", view.all)
    for topic, policy in sorted(view.status.policies.sessions.items()):
        name = view.names.get(topic)
        lines += _scope(f"Session {quoted(name) if name else topic[:8]} ({topic[:8]})", policy)
    if view.all is None and not view.status.policies.sessions:
        lines.append("No policies: requests are limited only by what each session's phone granted.")
    return "\n".join(lines)


def _scope(title: str, policy: Any) -> list[str]:
    if policy is None:
        return [f"{title}: no policy"]
    document = policy.to_json()
    natives = [
        f"{shown(c['per_day'])} {'on every chain' if c['chain'] == '*' else 'on ' + shown(c['chain'])}"
        for c in document.get("max_native_per_day", [])
    ]
    tokens = [
        f"{shown(c['per_day'])} {shown(c['symbol'])} {c['token']} on {shown(c['chain'])}"
        for c in document.get("max_token_per_day", [])
    ]
    rate = document.get("max_requests_per_hour")
    return [
        f"{title}:",
        f"  chains: {_listed(document.get('chains'))}",
        f"  methods: {_listed(document.get('methods'))}",
        f"  native value per 24 h: {'; '.join(natives) or 'no cap'}",
        f"  tokens per 24 h: {'; '.join(tokens) or 'no cap'}",
        f"  recipients: {_listed(document.get('recipients'))}",
        f"  requests per hour: {'no limit' if rate is None else rate}",
        f"  unlimited approvals: {'allowed' if document['allow_unlimited_approvals'] else 'refused'}",
    ]


def _listed(items: list[str] | None) -> str:
    if items is None:
        return "any"
    return ", ".join(shown(i) for i in items) or "none"
