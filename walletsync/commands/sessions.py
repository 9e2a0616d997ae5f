"""``walletsync sessions | rename | extend | ping | revoke``: the linked sessions and their lifecycle."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TYPE_CHECKING

from walletsync.commands.common import open_companion, share_with_devices
from walletsync.commands.output import emit_json, quoted
from walletsync.names import MAX_CELLS
from walletsync.text import aligned, shown

if TYPE_CHECKING:
    from walletsync.service import Registry, SessionRecord, SessionSummary

PEER_CELLS, URL_CELLS, ACCOUNT_CELLS, CHAIN_CELLS = 40, 60, 110, 48
"""How much of what the phone chose a line shows (``--json`` has all of it)."""
ACCOUNTS_LISTED = 4


def peer_of(s: SessionRecord) -> str:
    """The phone's own name and URL, escaped and clipped: shown apart from the local name, as "peer"."""
    return f"peer {quoted(s.peer.get('name') or '?', PEER_CELLS)}, {shown(s.peer.get('url') or 'no url', URL_CELLS)}"


def _listed(items: list[str], width: int, limit: int = ACCOUNTS_LISTED) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown(item, width) for item in items[:limit]) + more


BEYOND_MARK = "!"
"""Marks a session whose phone granted chains, methods or events the user never asked for."""


def session_chains(s: SessionRecord) -> list[str]:
    """The chains of a session: those of its accounts and those its namespaces list (ids the phone chose)."""
    chains = {":".join(a.split(":")[:2]) for a in s.accounts}
    for namespace in s.namespaces.values():
        chains.update(c for c in namespace.get("chains") or [] if isinstance(c, str))
    return sorted(chains)


def chain_labels(registry: Registry, chains: list[str], limit: int = ACCOUNTS_LISTED) -> str:
    """``Ethereum (eip155:1), Polygon (eip155:137)``: each chain by name (an unknown one by its id, escaped)."""
    return _listed([registry.label(c) for c in chains], CHAIN_CELLS, limit)


def chain_names(registry: Registry, chains: list[str]) -> dict[str, str | None]:
    """What ``--json`` documents add beside a session's chain ids: each one's name, None when unknown."""
    return {chain: registry.name(chain) for chain in chains}


def session_document(s: SessionRecord, registry: Registry) -> dict:
    """The DESIGN.md session object, with ``chain_names`` added."""
    return {**s.to_json(), "chain_names": chain_names(registry, session_chains(s))}


def describe(s: SessionRecord, registry: Registry) -> str:
    accounts = _listed(s.accounts, ACCOUNT_CELLS) or "no accounts"
    chains = chain_labels(registry, session_chains(s)) or "no chains"
    beyond = s.beyond_request
    extra = f"; granted beyond your request: {beyond.summary()}" if beyond else ""
    return (
        f"{quoted(s.name, MAX_CELLS)} ({peer_of(s)}) — topic {s.topic[:8]}, {s.status}, on {chains}, "
        f"accounts {accounts}{extra}"
    )


def _expiry(s: SessionSummary, now: float) -> str:
    left = s.expiry - now
    if s.status != "active":
        return s.status
    if left <= 0:
        return "expired"
    return (
        f"{int(left // 86400)}d {int(left % 86400 // 3600)}h"
        if left >= 86400
        else f"{int(left // 3600)}h {int(left % 3600 // 60)}m"
    )


def _short_accounts(accounts: tuple[str, ...], limit: int = 2) -> str:
    """The first addresses cut to 10 characters and "…" (escaped: the phone chose them), and how many more."""
    more = f" and {len(accounts) - limit} more" if len(accounts) > limit else ""
    return ", ".join(shown(a.rsplit(":", 1)[-1][:10], 10) + "…" for a in accounts[:limit]) + more


def table(sessions: list[SessionSummary], registry: Registry, now: float | None = None) -> str:
    """The session list: a line per session in aligned columns, then a note per session granted beyond its request.

    Thousands of sessions are listed in tens of milliseconds: what many share (their accounts, their chains) is
    worked out once, and the columns are aligned whole (:func:`~walletsync.text.aligned`)."""
    if not sessions:
        return "No sessions yet: run 'walletsync pair'."
    now = time.time() if now is None else now
    rows = [("NAME", "PEER", "ACCOUNTS", "CHAINS", "EXPIRES", "TOPIC")]
    notes = []
    accounts_cell: dict[tuple[str, ...], str] = {}
    chains_cell: dict[tuple[str, ...], str] = {}
    for s in sessions:
        accounts = accounts_cell.get(s.accounts)
        if accounts is None:
            accounts = accounts_cell[s.accounts] = _short_accounts(s.accounts) or "-"
        chains = chains_cell.get(s.chains)
        if chains is None:
            chains = chains_cell[s.chains] = chain_labels(registry, list(s.chains), limit=2) or "-"
        name = shown(s.name, MAX_CELLS)
        if s.beyond_request:
            notes.append(f"{BEYOND_MARK} {name}: granted beyond your request: {s.beyond_request.summary()}")
            name += f" {BEYOND_MARK}"
        rows.append((name, shown(s.peer_name or "?", PEER_CELLS), accounts, chains, _expiry(s, now), s.topic[:8]))
    return "\n".join([*aligned(rows), *notes])


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    sessions = commands.add_parser("sessions", parents=[common, companion], help="list linked sessions")
    sessions.add_argument(
        "--offline", action="store_true", help="list what is stored without asking the relay for news"
    )
    sessions.set_defaults(run=_list)
    rename = commands.add_parser("rename", parents=[common, companion], help="give a session a local name")
    rename.add_argument("session", help="name or topic prefix")
    rename.add_argument("name")
    rename.set_defaults(run=lambda args: _run(args, _rename, connect=False))
    for name, what, handler in (
        ("extend", "push a session's expiry 7 days out", _extend),
        ("ping", "check that the phone answers", _ping),
    ):
        sub = commands.add_parser(name, parents=[common, companion], help=what)
        sub.add_argument("session", help="name or topic prefix")
        sub.set_defaults(run=lambda args, handler=handler: _run(args, handler))
    revoke = commands.add_parser("revoke", parents=[common, companion], help="end a session (tells the phone)")
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("session", nargs="?", help="name or topic prefix")
    target.add_argument("--all", action="store_true", help="every active session")
    revoke.set_defaults(run=lambda args: _run(args, _revoke))


def _list(args: argparse.Namespace) -> int:
    """Sessions as the relay last told us; when it cannot be reached, what is stored (and say so)."""
    from walletsync.service import LocalRelayError

    if args.offline:
        return _run(args, _sessions, connect=False)
    try:
        return _run(args, _sessions, offline_ok=STORED)
    except LocalRelayError as exc:
        print(f"walletsync: {shown(exc)}; {STORED}", file=sys.stderr)
        return _run(args, _sessions, connect=False)


STORED = "showing the sessions stored here"


def _run(args: argparse.Namespace, handler, *, connect: bool = True, offline_ok: str | None = None) -> int:
    async def main() -> int:
        async with open_companion(args, connect=connect, offline_ok=offline_ok) as companion:
            return await handler(args, companion)

    return asyncio.run(main())


async def _sessions(args, companion) -> int:
    registry = companion.registry()
    also = companion.also_named() if companion.in_group else {}
    if args.json:
        documents = [
            {
                **session_document(s, registry),
                **({"also_named": [n for n, _ in also[s.topic]]} if s.topic in also else {}),
            }
            for s in companion.sessions()
        ]
        emit_json(args, documents, "")
        return 0
    listed = companion.session_summaries()  # what the table shows, not every session's whole record
    notes = [
        f"{shown(s.name, MAX_CELLS)} was also named "
        + ", ".join(f"{quoted(name, MAX_CELLS)} (on {shown(device, 24)})" for name, device in also[s.topic][:3])
        for s in listed
        if s.topic in also
    ]
    print("\n".join([table(listed, registry), *notes]), flush=True)
    from walletsync.commands.backup_note import backup_note

    note = backup_note(companion.backup_age(), has_sessions=any(s.status == "active" for s in listed))
    if note is not None:
        print(f"walletsync: {note}", file=sys.stderr, flush=True)
    return 0


async def _rename(args, companion) -> int:
    record, registry = companion.rename(args.session, args.name), companion.registry()
    emit_json(args, session_document(record, registry), f"Renamed to {describe(record, registry)}")
    if companion.in_group:
        await share_with_devices(args)
    return 0


async def _extend(args, companion) -> int:
    record = await companion.extend(args.session)
    emit_json(
        args,
        session_document(record, companion.registry()),
        f"Extended {quoted(record.name)}: expires {time.strftime('%Y-%m-%d %H:%M', time.localtime(record.expiry))}",
    )
    return 0


async def _ping(args, companion) -> int:
    record, seconds = await companion.ping(args.session)
    emit_json(
        args,
        {**session_document(record, companion.registry()), "rtt_ms": round(seconds * 1000, 1)},
        f"{quoted(record.name)} answered in {seconds * 1000:.0f} ms",
    )
    return 0


async def _revoke(args, companion) -> int:
    if not args.all:
        record = await companion.revoke(args.session)
        emit_json(
            args, session_document(record, companion.registry()), f"Revoked {quoted(record.name)} ({record.topic[:8]})"
        )
        return 0
    outcomes = await companion.revoke_all()
    if args.json:
        registry = companion.registry()
        documents = [
            {
                **session_document(r, registry),
                **({"error": {"code": error.code, "message": str(error)}} if error else {}),
            }
            for r, error in outcomes
        ]
        emit_json(args, documents, "")
    else:
        lines = [
            f"Revoked {quoted(r.name)} ({r.topic[:8]})"
            if error is None
            else f"Failed {quoted(r.name)} ({r.topic[:8]}): {shown(error)}"
            for r, error in outcomes
        ]
        print("\n".join(lines) or "No active sessions.")
    return 1 if any(error is not None for _, error in outcomes) else 0
