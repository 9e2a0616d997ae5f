"""An in-memory relay for wiring engines together: tests, benchmarks, examples.

It executes engine actions the way the real relay does — mailbox per topic,
delivery on subscribe, no echo to the publisher, dedup by message hash, the
implicit subscriptions of ``wc_proposeSession`` / ``wc_approveSession`` — but
deliveries wait in :attr:`LoopbackRelay.in_flight` until the caller delivers
them, so a test decides the order (and may duplicate or reorder them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from walletsync.protocol.crypto import sha256_hex
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.events import Action, Event
from walletsync.protocol.methods import SESSION_PROPOSE_RESPONSE_TAG, SESSION_PROPOSE_TAG, SESSION_SETTLE_TAG
from walletsync.protocol.relay_rpc import ApproveSession, Params, ProposeSession, Publish, Subscribe, Unsubscribe


@dataclass(frozen=True)
class Delivery:
    client: str
    topic: str
    message: str
    tag: int


@dataclass
class _Stored:
    message: str
    publisher: str
    tag: int
    acked_by: set[str] = field(default_factory=set)


class LoopbackRelay:
    """Route actions between named engines. ``events[name]`` collects what each engine reported."""

    def __init__(self, **engines: SignEngine) -> None:
        self.engines = dict(engines)
        self.events: dict[str, list[Event]] = {name: [] for name in engines}
        self.subscribers: dict[str, set[str]] = {}
        self.mailbox: dict[str, dict[str, _Stored]] = {}
        self.in_flight: list[Delivery] = []
        self.calls: dict[str, list[Params]] = {name: [] for name in engines}

    def execute(self, client: str, actions: Iterable[Action]) -> list[Action]:
        """Carry out ``client``'s actions; returns them so calls can be chained."""
        actions = list(actions)
        for action in actions:
            if isinstance(action, Event):
                self.events[client].append(action)
                continue
            self.calls[client].append(action)
            if isinstance(action, Subscribe):
                self._subscribe(client, action.topic)
            elif isinstance(action, Unsubscribe):
                self.subscribers.get(action.topic, set()).discard(client)
            elif isinstance(action, Publish):
                self._publish(client, action.topic, action.message, action.tag)
            elif isinstance(action, ProposeSession):
                self._subscribe(client, action.pairing_topic)
                self._publish(client, action.pairing_topic, action.session_proposal, SESSION_PROPOSE_TAG)
            elif isinstance(action, ApproveSession):
                self._subscribe(client, action.session_topic)
                self._publish(
                    client, action.pairing_topic, action.session_proposal_response, SESSION_PROPOSE_RESPONSE_TAG
                )
                self._publish(client, action.session_topic, action.session_settlement_request, SESSION_SETTLE_TAG)
        return actions

    def _subscribe(self, client: str, topic: str) -> None:
        self.subscribers.setdefault(topic, set()).add(client)
        for stored in self.mailbox.get(topic, {}).values():
            if stored.publisher != client and client not in stored.acked_by:
                self.in_flight.append(Delivery(client, topic, stored.message, stored.tag))

    def _publish(self, client: str, topic: str, message: str, tag: int) -> None:
        box = self.mailbox.setdefault(topic, {})
        digest = sha256_hex(message.encode("ascii"))
        if digest in box:
            return
        box[digest] = _Stored(message, client, tag)
        for subscriber in sorted(self.subscribers.get(topic, ())):
            if subscriber != client:
                self.in_flight.append(Delivery(subscriber, topic, message, tag))

    def deliver(self, index: int, now: float, *, keep: bool = False) -> list[Action]:
        """Deliver ``in_flight[index]`` (keep it queued too with ``keep=True``: a duplicate)."""
        delivery = self.in_flight[index] if keep else self.in_flight.pop(index)
        stored = self.mailbox.get(delivery.topic, {}).get(sha256_hex(delivery.message.encode("ascii")))
        if stored is not None:
            stored.acked_by.add(delivery.client)
        engine = self.engines[delivery.client]
        return self.execute(delivery.client, engine.receive(delivery.topic, delivery.message, now, tag=delivery.tag))

    def run(self, now: float, limit: int = 10_000) -> None:
        """Deliver everything in order until nothing is left in flight."""
        for _ in range(limit):
            if not self.in_flight:
                return
            self.deliver(0, now)
        raise RuntimeError("deliveries did not settle (a message loop?)")

    def do(self, client: str, method: str, *args: Any, **kwargs: Any) -> list[Action]:
        """Call an engine intent and execute what it returns: ``relay.do("dapp", "ping", topic, now)``."""
        return self.execute(client, getattr(self.engines[client], method)(*args, **kwargs))

    def last(self, client: str, kind: type[Event]) -> Event:
        """The latest event of ``kind`` that ``client`` reported."""
        for event in reversed(self.events[client]):
            if isinstance(event, kind):
                return event
        raise LookupError(f"{client} reported no {kind.__name__}")
