"""The outcome of each pairing this process offered: a future per proposal, settled as soon as it is known.

A phone's answer can come before anyone awaits it (the app shows the QR, the
user scans at once), or to another process sharing the data dir; either way the
future holds it until :meth:`PairingWaiters.wait` collects it.
"""

from __future__ import annotations

import asyncio

from walletsync.protocol import events as ev
from walletsync.protocol.state import SentProposal
from walletsync.service.outcomes import PairingFailed, RequestTimeout
from walletsync.store.db import Database, SessionRecord


class PairingWaiters:
    """One future per proposal this process sent; the companion feeds it every event and every adopted change."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._futures: dict[int, asyncio.Future[SessionRecord]] = {}
        self._settling: dict[str, int] = {}

    def expect(self, proposal_id: int) -> None:
        """Start waiting for ``proposal_id``'s outcome (call from the event loop, before the proposal goes out)."""
        self._futures[proposal_id] = asyncio.get_running_loop().create_future()

    async def wait(self, proposal_id: int, timeout: float | None = None) -> SessionRecord:
        """The session a phone settled for this pairing; :class:`PairingFailed` if it rejected or expired."""
        future = self._futures.get(proposal_id)
        if future is None:
            raise PairingFailed(f"no pairing {proposal_id} was offered by this process")
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise RequestTimeout(f"no phone answered within {timeout:g} s") from None
        finally:
            if future.done():
                self._futures.pop(proposal_id, None)

    def settle(self, event: ev.Event) -> None:
        """Resolve a pairing's outcome as soon as an event tells it, even if nobody awaits it yet."""
        if isinstance(event, ev.ProposalApproved):
            self._settling[event.session_topic] = event.proposal_id
            return
        if isinstance(event, ev.SessionSettled):
            proposal_id = self._settling.pop(event.session.topic, None)
            settled = self.db.session(event.session.topic)
            outcome: SessionRecord | Exception = settled or PairingFailed("the settled session is not in the store")
        elif isinstance(event, ev.ProposalRejected):
            proposal_id = event.proposal_id
            outcome = PairingFailed(f"the phone rejected the pairing ({event.error.code}: {event.error.message})")
        elif isinstance(event, ev.ProposalExpired):
            proposal_id = event.proposal_id
            outcome = PairingFailed("the pairing expired before a phone answered; run 'walletsync pair' again")
        else:
            return
        future = self._futures.get(proposal_id) if proposal_id is not None else None
        if future is not None and not future.done():
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def ended_elsewhere(self, sent: SentProposal) -> None:
        """Another process sharing our identity heard the phone's answer to our proposal (a relay delivers
        a message once per identity to a late subscriber); what it stored settles the outcome."""
        future = self._futures.get(sent.proposal.id)
        if future is None or future.done():
            return
        linked = [s for s in self.db.sessions(include_ended=False) if s.pairing_topic == sent.proposal.pairing_topic]
        if linked:
            future.set_result(linked[-1])
        else:
            future.set_exception(
                PairingFailed(
                    "the pairing was refused or expired (handled by another walletsync process; see 'walletsync audit')"
                )
            )
