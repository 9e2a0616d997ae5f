"""Policy budgets: one row per request let through to the phone while policies exist, with what it reserved and
how that ended.

A row is **reserved** when the policy check passes (in the same ``BEGIN IMMEDIATE`` transaction as the
check, so two tasks or two processes on one data dir cannot both take the last of a cap), **spent** when the
phone approves, **released** when it rejects or fails (the row stays: the per-hour request limit counts it).
A row its sender never settled (the process ended, the answer came late) is read through its request's row:
an answer recorded by any process spends it, a rejection releases it; without either it counts until its
request expires. Rows older than 24 h count for nothing and are pruned; at most :data:`MAX_USES` are kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, cast

if TYPE_CHECKING:
    from walletsync.policy.evaluate import Key, Use
    from walletsync.store.db import _Serialized

MAX_USES = 10_000
"""Rows kept for the last 24 h: past this, policies refuse (see :mod:`walletsync.service.policies`)."""

State = Literal["reserved", "spent", "released"]
_ANSWERED = ("answered", "late")
_FAILED = ("rejected", "cancelled")


class BudgetQueries:
    """The :class:`~walletsync.store.db.Database` methods on the ``budget_uses`` table (inside a transaction)."""

    _db: _Serialized

    def add_use(self, session: str, at: int, expiry: int, amounts: Mapping[Key, int]) -> int:
        """Reserve ``amounts`` for a request on ``session``; returns the row's id for :meth:`attach_use`/:meth:`settle_use`."""
        from walletsync.policy.evaluate import MAX_ASSETS  # the policy rules load when a policy is used, not at start

        rows = [[chain, asset, str(amount)] for (chain, asset), amount in list(amounts.items())[:MAX_ASSETS]]
        cursor = self._db.execute(
            "INSERT INTO budget_uses (session, at, expiry, state, amounts) VALUES (?, ?, ?, 'reserved', ?)",
            (session, at, expiry, json.dumps(rows, separators=(",", ":"))),
        )
        return cast(int, cursor.lastrowid)

    def attach_use(self, use_id: int, request_id: int, expiry: int) -> None:
        """The request the row reserved for is on its way: its id (to read a late answer) and its real expiry."""
        self._db.execute("UPDATE budget_uses SET request_id = ?, expiry = ? WHERE id = ?", (request_id, expiry, use_id))

    def settle_use(self, use_id: int, state: State) -> None:
        """The phone answered: ``spent`` (approved) or ``released`` (rejected, failed, never sent)."""
        self._db.execute("UPDATE budget_uses SET state = ? WHERE id = ? AND state = 'reserved'", (state, use_id))

    def uses_since(self, since: int) -> list[Use]:
        """Every row reserved after ``since``, its state read through its request's answer when not settled."""
        from walletsync.policy.evaluate import Use

        rows = self._db.execute(
            """SELECT b.session, b.at, b.expiry, b.state, b.amounts, r.status FROM budget_uses b
               LEFT JOIN requests r ON r.topic = b.session AND r.id = b.request_id
               WHERE b.at > ? ORDER BY b.id""",
            (since,),
        ).fetchall()
        return [
            Use(session, at, expiry, _state(state, status), _amounts(text))
            for session, at, expiry, state, text, status in rows
        ]

    def prune_uses(self, now: int) -> int:
        """Drop the rows that can no longer count (reserved 24 h ago or more); returns how many rows remain."""
        from walletsync.policy.evaluate import DAY

        self._db.execute("DELETE FROM budget_uses WHERE at <= ?", (now - DAY,))
        return cast(int, self._db.execute("SELECT count(*) FROM budget_uses").fetchone()[0])


_PARSED: dict[str, Mapping[Key, int]] = {}
_PARSED_KEPT = 4096


def _amounts(text: str) -> Mapping[Key, int]:
    """A row's amounts, parsed once per distinct text (a policy check reads every row of the last 24 h)."""
    parsed = _PARSED.get(text)
    if parsed is None:
        if len(_PARSED) >= _PARSED_KEPT:
            _PARSED.clear()
        parsed = _PARSED[text] = MappingProxyType({(c, a): int(n) for c, a, n in json.loads(text)})
    return parsed


def _state(state: str, request_status: str | None) -> State:
    if state == "reserved" and request_status in _ANSWERED:
        return "spent"
    if state == "reserved" and request_status in _FAILED:
        return "released"
    return cast(State, state)
