"""The façade's half for the signer bridge (``walletsync rpc``): what a local JSON-RPC endpoint asks of the companion.

:class:`~walletsync.service.companion.Companion` inherits these. The bridge pushes its signing requests through
:meth:`Companion.request` (with ``via``, so the request's audit row names the client) like every other request:
the policies judge them and the audit log keeps them. What it needs besides is here: the session's chains and
accounts, the chain's RPC node, and the audit rows that only the bridge can write (a refused client, a mined
transaction that differs from what was asked).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from walletsync.broadcast import Broadcast
from walletsync.eth import checksum_address
from walletsync.protocol import events as ev
from walletsync.protocol.namespaces import chain_of_account, granted_chains
from walletsync.service.clients import client_fields
from walletsync.service.config import configured_rpc
from walletsync.service.events import StoreChanged
from walletsync.service.journal import Journal
from walletsync.service.naming import find_active, find_session
from walletsync.service.outcomes import SessionInactive, SessionNotFound
from walletsync.store.db import Database, SessionRecord


@dataclass(frozen=True)
class BridgeScope:
    """What a session offers a tool: ``chains`` it may use (asked for by the user and granted by the phone, in
    account order), ``granted`` (every chain the phone granted, some perhaps never asked for), and its accounts."""

    session: SessionRecord
    chains: tuple[str, ...]
    granted: tuple[str, ...]

    def accounts(self, chain_id: str) -> list[str]:
        """The session's addresses on ``chain_id`` (EIP-55 checksummed, in the phone's order; none off its chains)."""
        found = [account.split(":")[2] for account in self.session.accounts if chain_of_account(account) == chain_id]
        return [checksum_address(address) for address in dict.fromkeys(a.lower() for a in found)]


class BridgeMethods:
    """The bridge's methods of the façade (the attributes and calls below are the Companion's)."""

    db: Database
    home: Path
    journal: Journal
    clock: Callable[[], float]
    _events: Broadcast[ev.Event]

    async def session_end(self, topic: str) -> SessionInactive | SessionNotFound:
        """Waits until session ``topic`` can no longer carry requests — the phone deleted it, it expired, it was revoked
        here, in another process or on another device — and returns the error that says so (an endpoint stops then)."""
        listener = self._events.listener()  # before the first check: an end between the two is not missed
        try:
            while True:
                try:
                    record = find_active(self.db, topic, self.clock())
                except (SessionInactive, SessionNotFound) as exc:
                    return exc
                ends_in = max(record.expiry - self.clock(), 0.0) + 0.001
                try:
                    while not _may_end(await asyncio.wait_for(anext(listener), ends_in), topic):
                        pass
                except TimeoutError:
                    pass  # its expiry: checked again above
        finally:
            listener.close()

    def bridge_scope(self, ref: str) -> BridgeScope:
        """The chains and accounts session ``ref`` offers now; :class:`SessionNotFound` / :class:`SessionInactive`
        when it cannot carry requests."""
        record = find_active(self.db, ref, self.clock())
        return BridgeScope(record, tuple(record.requested_chains), tuple(granted_chains(record.namespaces)))

    def chain_rpc(self, chain_id: str) -> str | None:
        """The RPC node to ask about ``chain_id``: ``config.json``'s ``rpc`` for it, else the registry's first (the
        user's own first, ``chains rpc add|prefer``; none with a ``${...}`` placeholder); None when neither has one."""
        configured = configured_rpc(self.home, chain_id)
        if configured:
            return configured
        from walletsync.service.registry import load_registry

        return next(iter(load_registry(self.home).rpcs(chain_id)), None)

    def audit_bridge_refusal(self, reason: str, message: str, client: Mapping[str, Any]) -> None:
        """An audit row for a request the bridge refused before reading it (a foreign ``Host`` or ``Origin``, a
        missing token): ``reason`` is the guard's word for it, ``client`` where it came from."""
        with self.db.transaction():
            self.journal.audit("bridge_refused", None, reason=reason, message=message, **client_fields(client))

    def audit_bridge_reads(self, client: Mapping[str, Any], counts: Mapping[str, int]) -> None:
        """An audit row for what one client read through the bridge in a period (answered by the bridge or passed to
        the upstream node): ``counts`` is its number of requests per method (:mod:`walletsync.bridge.reads`)."""
        with self.db.transaction():
            self.journal.audit("bridge_reads", None, counts=dict(counts), **client_fields(client))

    def audit_altered(
        self, ref: str, tx_hash: str, differences: Sequence[Mapping[str, Any]], client: Mapping[str, Any]
    ) -> None:
        """An audit row for a transaction the phone sent that was mined other than asked: ``differences`` is one
        ``{"field", "asked", "mined"}`` per field; ``client`` is the tool that asked."""
        record = find_session(self.db, ref)  # the session may have ended since the transaction was sent
        with self.db.transaction():
            self.journal.audit(
                "transaction_altered",
                record.topic,
                hash=tx_hash,
                differences=[dict(d) for d in differences],
                **client_fields(client),
            )


def _may_end(event: ev.Event, topic: str) -> bool:
    """Whether ``event`` may have ended session ``topic``: its deletion or expiry here, or another process's change."""
    if isinstance(event, (ev.SessionDeleted, ev.SessionExpired)):
        return event.topic == topic
    return isinstance(event, StoreChanged)
