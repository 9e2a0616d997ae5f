"""Keeping the engine and the store in step, when several processes share one data dir.

The app and CLI commands (or two apps) may run on one data dir at once: they share the
device identity, so the relay pushes a phone's message to each of them. The store's
replay memory decides which one journals it (the first to record the envelope, in
:meth:`StoreSync.on_step`); each polls the store for the others' commits and adopts
them (:class:`StoreChanged`), and the companion catches up before acting on a session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from walletsync.protocol import events as ev
from walletsync.protocol.engine import Action, SignEngine
from walletsync.protocol.relay_rpc import Subscribe, Unsubscribe
from walletsync.service.events import StoreChanged
from walletsync.service.journal import Journal, answered_elsewhere, handled_elsewhere
from walletsync.service.pairing_waiters import PairingWaiters
from walletsync.store.db import Database
from walletsync.transport.runner import EngineRunner

STORE_POLL = 0.5
"""Seconds between looks at the store for other processes' changes."""
log = logging.getLogger("walletsync.service")


class StoreSync:
    """The engine's link to the store: each step journaled once, the store's view restored and caught up with.

    The :class:`~walletsync.service.companion.Companion` owns one; ``broadcast`` streams
    events to its listeners.
    """

    def __init__(
        self,
        db: Database,
        engine: SignEngine,
        journal: Journal,
        pairing_waiters: PairingWaiters,
        broadcast: Callable[[list[ev.Event]], None],
        clock: Callable[[], float],
    ) -> None:
        self.db, self.engine, self.journal, self.clock = db, engine, journal, clock
        self.pairing_waiters = pairing_waiters
        self._broadcast = broadcast
        self._data_version = -1
        self.on_adopt: Callable[[], Awaitable[None]] | None = None
        """Called before adopting other processes' commits (the device group re-reads its membership)."""

    def restore(self, *, only_due: bool = False) -> None:
        """Start the engine on what the store holds: replay memory past keeping forgotten, all loaded, what is due expired.

        ``only_due`` (a companion opened offline, which never talks to a phone): of the sessions, load only those
        with something to expire (the session, or a pending request); with thousands of sessions, loading them all
        is most of an offline command's time."""
        with self.db.transaction():
            self.db.purge_replay(now=int(self.clock()))
        self.load(adopt_pairings=True, due_by=int(self.clock()) if only_due else None)
        self.on_step(self.engine.expire(self.clock()))

    def load(self, *, adopt_pairings: bool, due_by: int | None = None) -> list[Action]:
        """Give the engine the store's view (sessions, requests, replay memory; pairings and proposals).

        Returns the relay calls for the topics gained and lost. Requests this process has
        in flight that the store does not hold (pings, extends; a request not yet persisted) stay.
        Without ``adopt_pairings`` only this process's own pairings and proposals are kept, those
        the store still has: a pairing belongs to the process showing its QR. ``due_by``: only the sessions
        with something to expire by then.
        """
        db, engine = self.db, self.engine
        with db.snapshot():
            self._data_version = db.data_version()
            sessions, pairings, proposals = db.active_sessions(due_by=due_by), db.pairings(), db.sent_proposals()
            if not adopt_pairings:
                pairings = [p for p in pairings if p.topic in engine.pairings]
                proposals = [p for p in proposals if p.proposal.id in engine.sent_proposals]
            topics = {s.topic for s in sessions} | {p.topic for p in pairings}
            topics |= {p.session_topic for p in proposals if p.session_topic}
            in_flight = [  # ours, not (yet) in the store: pings, extends, a request being sent
                r
                for r in engine.requests.values()
                if r.wire_method != "wc_sessionRequest" or not db.has_request(r.topic, r.id)
            ]
            requests = [*db.pending_requests(), *in_flight]
            replay = db.replay_memory(topics)
        kept = {p.proposal.id for p in proposals}
        ended = [sent for proposal_id, sent in engine.sent_proposals.items() if proposal_id not in kept]
        still = {(r.topic, r.id) for r in requests}
        finished = [
            r
            for key, r in engine.requests.items()
            if r.wire_method == "wc_sessionRequest" and r.direction == "outgoing" and key not in still
        ]
        actions = engine.restore(
            sessions=sessions, pairings=pairings, sent_proposals=proposals, requests=requests, replay=replay
        )
        for sent in ended:
            self.pairing_waiters.ended_elsewhere(sent)
        self._broadcast(answered_elsewhere(db, finished))
        return actions

    async def catch_up(self, runner: EngineRunner | None, *, force: bool = False) -> bool:
        """Adopt what other processes committed since the last look; True (and :class:`StoreChanged` sent) if any.

        ``force``: adopt even if no other process committed (this one's device group wrote what members shared).
        The relay calls for the topics gained and lost go out through ``runner`` (none when offline).
        """
        if not force and self.db.data_version() == self._data_version:
            return False
        if self.on_adopt is not None:
            await self.on_adopt()
        actions = self.load(adopt_pairings=False)
        self._broadcast([StoreChanged()])
        if runner is not None and actions:
            await runner.run(actions)
        return True

    def adopt_soon(self) -> None:
        """Have the next :meth:`catch_up` adopt the store even if no other process committed (this one wrote rows
        behind the engine: a restored backup's sessions)."""
        self._data_version = -1

    async def watch(self, runner: EngineRunner | None) -> None:
        """Catch up every :data:`STORE_POLL` seconds, until cancelled."""
        while True:
            await asyncio.sleep(STORE_POLL)
            try:
                await self.catch_up(runner)
            except Exception:  # a busy or briefly locked store must not stop the watching
                log.exception("reading other processes' changes failed")

    def on_step(self, actions: list[Action]) -> list[Action]:
        """Persist and audit one engine step in one transaction, then tell the watchers; returns the relay calls to make.

        The step's replay memory is recorded in the same transaction. If its message was
        already recorded (another process sharing the store handled it, or this one before
        a restart), nothing is journaled or answered again; local waiters still hear the events.
        A step that only refused its message (unknown request, unknown topic) records nothing:
        a process that knows more may still handle that message.
        """
        events = [a for a in actions if isinstance(a, ev.Event)]
        changes = self.engine.take_replay_changes()
        handled = any(not isinstance(a, ev.MessageRejected) for a in actions)
        if not events and not (changes and handled):
            return actions
        now = int(self.clock())
        extra: list[ev.Event] = []
        with self.db.transaction():
            fresh = self.db.remember(changes, now=now) if handled else True
            if fresh:
                for event in events:
                    extra += self.journal.record(event, now)
        if not fresh:
            actions = [a for a in actions if isinstance(a, (Subscribe, Unsubscribe))]
            extra = handled_elsewhere(self.db, events)
        for event in events:
            self.pairing_waiters.settle(event)
        self._broadcast(events + extra)
        return actions
