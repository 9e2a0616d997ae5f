"""`walletsync sessions` reads the list in brief (``session_summaries``) and aligns it column by column; it prints the
text that reading every whole record and padding every cell printed.

The table below is the list as it was: the oracle. Sessions come from hostile phones (escapes, bidi controls, lone
surrogates, wide characters, a name that is no string or none at all), grant beyond the request or not, are active,
past their expiry or ended, and share their creation second so that the topic decides the order.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from walletsync.commands.sessions import BEYOND_MARK, PEER_CELLS, chain_labels, session_chains, table
from walletsync.names import MAX_CELLS
from walletsync.protocol.state import Session
from walletsync.service import Companion, Config
from walletsync.service.registry import load_registry
from walletsync.store.db import Database, SessionRecord
from walletsync.text import cells, pad, shown

STORAGE_KEY = bytes(range(32))
NOW = 1_800_000_000
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=60)  # lone surrogates included
STORABLE_TEXT = st.text(st.characters(codec="utf-8", categories=None), min_size=1, max_size=60)  # a column, not JSON
HOSTILE_NAMES = ["\x1b]0;pwned\x07\x1b[2J", "evil\u202e", "\ud800x", "\x00z", "日本語のウォレット" * 3, "a\\nb", ""]


# --- the list as it was: every whole record read, every cell padded ------------------------------------------------


def _expiry_as_it_was(s: SessionRecord, now: float) -> str:
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


def _short_accounts_as_it_was(accounts: list[str], limit: int = 2) -> str:
    more = f" and {len(accounts) - limit} more" if len(accounts) > limit else ""
    return ", ".join(shown(a.rsplit(":", 1)[-1][:10], 10) + "…" for a in accounts[:limit]) + more


REGISTRY = load_registry(None)


def table_as_it_was(records: list[SessionRecord], now: float) -> str:
    if not records:
        return "No sessions yet: run 'walletsync pair'."
    rows = [("NAME", "PEER", "ACCOUNTS", "CHAINS", "EXPIRES", "TOPIC")]
    notes = []
    for s in records:
        accounts = _short_accounts_as_it_was(s.accounts) or "-"
        chains = chain_labels(REGISTRY, session_chains(s), limit=2) or "-"
        name = shown(s.name, MAX_CELLS) + (f" {BEYOND_MARK}" if s.beyond_request else "")
        peer = shown(s.peer.get("name") or "?", PEER_CELLS)
        rows.append((name, peer, accounts, chains, _expiry_as_it_was(s, now), s.topic[:8]))
        if s.beyond_request:
            notes.append(
                f"{BEYOND_MARK} {shown(s.name, MAX_CELLS)}: granted beyond your request: {s.beyond_request.summary()}"
            )
    widths = [max(cells(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(["  ".join(pad(cell, w) for cell, w in zip(row, widths)).rstrip() for row in rows] + notes)


# --- sessions as phones grant them ----------------------------------------------------------------------------------

CHAINS = ["eip155:1", "eip155:10", "eip155:56"]
peer_names = st.one_of(
    st.sampled_from(HOSTILE_NAMES), ANY_TEXT, st.none(), st.integers(), st.booleans(), st.just({"a": [1]})
)
addresses = st.one_of(st.just("0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"), st.sampled_from(HOSTILE_NAMES), ANY_TEXT)
accounts = st.lists(addresses.filter(lambda a: a.strip() and ":" not in a), max_size=4)  # CAIP-10, as the engine checks


@st.composite
def stored_sessions(draw: st.DrawFn) -> dict[str, Any]:
    granted_chains = draw(st.lists(st.sampled_from(CHAINS), min_size=1, max_size=3, unique=True))
    asked_chains = draw(st.lists(st.sampled_from(CHAINS), max_size=3, unique=True))
    methods = ["personal_sign", *draw(st.lists(st.sampled_from(["eth_sign", "eth_sendTransaction"]), unique=True))]
    granted = {
        "eip155": {
            "chains": granted_chains,
            "accounts": [f"{granted_chains[0]}:{a}" for a in draw(accounts)],
            "methods": methods,
            "events": [],
        }
    }
    asked = {"eip155": {"chains": asked_chains, "methods": ["personal_sign"], "events": []}} if asked_chains else {}
    metadata: dict[str, Any] = {"description": "a phone", "url": "https://wallet.example"}
    name = draw(peer_names)
    if name is not None or draw(st.booleans()):  # a null name, or none at all
        metadata["name"] = name
    return {
        "topic": os.urandom(32).hex(),
        "name": draw(st.one_of(st.sampled_from(["desk", "phone 日本"]), STORABLE_TEXT)),
        "metadata": metadata,
        "granted": granted,
        "asked": asked,
        "expiry": NOW + draw(st.sampled_from([-60, 30, 5400, 86400 + 1800, 7 * 86400 + 1800])),
        "created_at": NOW - draw(st.integers(0, 3)),
        "ended": draw(st.sampled_from([None, None, "deleted", "revoked", "expired"])),
    }


def _store(db: Database, sessions: list[dict[str, Any]]) -> None:
    with db.transaction():
        for s in sessions:
            db.save_session(
                Session(
                    topic=s["topic"],
                    sym_key=os.urandom(32),
                    pairing_topic=os.urandom(32).hex(),
                    self_public_key="aa" * 32,
                    peer_public_key="bb" * 32,
                    peer_metadata=s["metadata"],
                    controller_public_key="bb" * 32,
                    namespaces=s["granted"],
                    expiry=s["expiry"],
                    is_controller=False,
                    acknowledged=True,
                    optional_namespaces=s["asked"],
                ),
                name=s["name"],
                now=s["created_at"],
            )
            if s["ended"]:
                db.end_session(s["topic"], s["ended"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(stored_sessions(), max_size=12, unique_by=lambda s: s["name"]))  # one active session a name
@example([])
def test_the_list_in_brief_prints_what_the_whole_records_printed(sessions):
    """Whatever the phones sent, the summaries hold what the records hold (the phone's name exactly as sent), in the
    same order, and the table is the same text to the character."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "walletsync.db", STORAGE_KEY)
        try:
            _store(db, sessions)
            records, summaries = db.sessions(), db.session_summaries()
            assert [
                (s.topic, s.name, s.peer_name, s.expiry, s.status, list(s.accounts), list(s.chains), s.beyond_request)
                for s in summaries
            ] == [
                (
                    r.topic,
                    r.name,
                    r.peer.get("name"),
                    r.expiry,
                    r.status,
                    r.accounts,
                    session_chains(r),
                    r.beyond_request,
                )
                for r in records
            ]
            assert table(summaries, REGISTRY, NOW) == table_as_it_was(records, NOW)
        finally:
            db.close()


def test_the_sessions_command_prints_the_list_as_it_was(cli):
    """`walletsync sessions --offline` on a data dir of many sessions, a few from hostile phones: the same lines as
    before, peer text escaped. (Active sessions expire days and half an hour from now: the countdowns the command
    and the oracle print agree whatever the second each one reads the clock.)"""

    async def written() -> list[SessionRecord]:
        companion = await Companion.open(Config(data_dir=str(cli.home)), offline=True)
        try:
            now, sessions = int(time.time()), []
            for n in range(40):
                hostile = HOSTILE_NAMES[n % len(HOSTILE_NAMES)] if n % 3 == 0 else f"Wallet {n}"
                sessions.append(
                    {
                        "topic": os.urandom(32).hex(),
                        "name": f"wallet-{n:02d}" if n % 4 else f"日本 {n}",
                        "metadata": {"name": hostile, "url": "https://wallet.example"},
                        "granted": {
                            "eip155": {
                                "chains": CHAINS[: 1 + n % 3],
                                "accounts": [f"eip155:1:0x{n:040x}", f"eip155:1:{hostile}"][: 1 + n % 2],
                                "methods": ["personal_sign"],
                                "events": [],
                            }
                        },
                        "asked": {"eip155": {"chains": CHAINS[:1], "methods": ["personal_sign"], "events": []}},
                        "expiry": now + (1 + n % 5) * 86400 + 1800 if n % 7 else now - 60,
                        "created_at": now - 40 + n // 2,
                        "ended": "revoked" if n % 6 == 5 else None,
                    }
                )
            _store(companion.db, sessions)
            return companion.sessions()
        finally:
            await companion.close()

    records = asyncio.run(written())
    out = cli.run("sessions", "--offline")
    assert out.returncode == 0, out.stderr
    assert out.stdout == table_as_it_was(records, time.time()) + "\n"
    assert "\x1b" not in out.stdout and "\u202e" not in out.stdout and "\\x1b]0;pwned" in out.stdout
