"""The engine's duplicate caches: what it remembers to refuse a replayed or stale message.

Kept apart from the state machine so the engine reads as transitions: it asks
:class:`ReplayGuard` "seen before?" and "older than what was applied?", and the guard
keeps the bounded per-topic memories and the record of what changed since a store last
asked (:meth:`ReplayGuard.take_changes`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Literal

from walletsync.protocol.state import ReplayMemory

SEEN_PER_TOPIC = 500
"""How many envelopes (and request ids) are remembered per topic; the oldest go first."""

Bucket = dict[str, OrderedDict[Any, None]]


class ReplayGuard:
    """Envelopes seen and request ids handled per topic, the send times of the newest update and events applied."""

    def __init__(self) -> None:
        self._seen: Bucket = {}
        self._handled_ids: Bucket = {}
        self._fire_and_forget: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._last_update_ms: dict[str, int] = {}
        self._last_event_ms: dict[tuple[str, str], int] = {}
        # What changed since take_changes() last asked (a store persists it).
        self._unsaved: dict[Literal["seen", "ids"], Bucket] = {"seen": {}, "ids": {}}
        self._unsaved_clocks: set[tuple[str, str | None]] = set()

    # --- duplicates -----------------------------------------------------------------------

    def first_envelope(self, topic: str, digest: str) -> bool:
        """Record an envelope (sha256 hex) sent or received on ``topic``; False when it was seen before."""
        return self._remember(self._seen, "seen", topic, digest)

    def first_request(self, topic: str, request_id: int) -> bool:
        """Record a peer's request id on ``topic``; False when that request was handled before."""
        return self._remember(self._handled_ids, "ids", topic, request_id)

    def _remember(self, bucket: Bucket, unsaved: Literal["seen", "ids"], topic: str, key: Any) -> bool:
        if not _bounded_add(bucket, topic, key):
            return False
        _bounded_add(self._unsaved[unsaved], topic, key)
        return True

    def note_fire_and_forget(self, topic: str, request_id: int) -> None:
        """Requests the SDK does not answer; a spec-following peer may answer ``true`` anyway."""
        self._fire_and_forget[(topic, request_id)] = None
        if len(self._fire_and_forget) > SEEN_PER_TOPIC:
            self._fire_and_forget.popitem(last=False)

    def is_fire_and_forget(self, topic: str, request_id: int) -> bool:
        return (topic, request_id) in self._fire_and_forget

    # --- clocks of updates and events -------------------------------------------------------

    def update_is_stale(self, topic: str, sent_ms: int) -> bool:
        """Was a namespace update sent later than ``sent_ms`` already applied on ``topic``?"""
        return sent_ms < self._last_update_ms.get(topic, 0)

    def applied_update(self, topic: str, sent_ms: int) -> None:
        self._last_update_ms[topic] = sent_ms
        self._unsaved_clocks.add((topic, None))

    def event_is_stale(self, topic: str, name: str, sent_ms: int) -> bool:
        """Was an event ``name`` sent later than ``sent_ms`` already applied on ``topic``?"""
        return sent_ms < self._last_event_ms.get((topic, name), 0)

    def applied_event(self, topic: str, name: str, sent_ms: int) -> None:
        self._last_event_ms[(topic, name)] = sent_ms
        self._unsaved_clocks.add((topic, name))

    # --- lifetime and persistence -----------------------------------------------------------

    def forget(self, topic: str) -> None:
        """Drop a topic's memories once its key is gone (nothing on it decrypts any more)."""
        self._last_update_ms.pop(topic, None)
        self._seen.pop(topic, None)
        self._handled_ids.pop(topic, None)

    def merge(self, replay: ReplayMemory) -> None:
        """Add what a store kept to what is remembered, so a message handled before stays a duplicate."""
        for topic, digests in replay.seen.items():
            for digest in digests:
                _bounded_add(self._seen, topic, digest)
        for topic, ids in replay.handled_ids.items():
            for request_id in ids:
                _bounded_add(self._handled_ids, topic, request_id)
        for topic, ms in replay.last_update_ms.items():
            self._last_update_ms[topic] = max(ms, self._last_update_ms.get(topic, 0))
        for key, ms in replay.last_event_ms.items():
            self._last_event_ms[key] = max(ms, self._last_event_ms.get(key, 0))

    def memory(self) -> ReplayMemory:
        """Everything remembered, as plain data."""
        return ReplayMemory(
            seen={t: tuple(d) for t, d in self._seen.items() if d},
            handled_ids={t: tuple(i) for t, i in self._handled_ids.items() if i},
            last_update_ms=dict(self._last_update_ms),
            last_event_ms=dict(self._last_event_ms),
        )

    def take_changes(self) -> ReplayMemory:
        """What was added since the last call (kept even when the topic was forgotten meanwhile)."""
        seen, ids = self._unsaved["seen"], self._unsaved["ids"]
        clocks = self._unsaved_clocks
        updates, events = self._last_update_ms, self._last_event_ms
        changes = ReplayMemory(
            seen={t: tuple(d) for t, d in seen.items()},
            handled_ids={t: tuple(i) for t, i in ids.items()},
            last_update_ms={t: updates[t] for t, name in clocks if name is None and t in updates},
            last_event_ms={(t, n): events[(t, n)] for t, n in clocks if n is not None and (t, n) in events},
        )
        self._unsaved = {"seen": {}, "ids": {}}
        self._unsaved_clocks = set()
        return changes


def _bounded_add(bucket: Bucket, topic: str, key: Any) -> bool:
    """Add ``key`` to ``topic``'s memory, dropping the oldest past :data:`SEEN_PER_TOPIC`; False if it was there."""
    seen = bucket.setdefault(topic, OrderedDict())
    if key in seen:
        return False
    seen[key] = None
    if len(seen) > SEEN_PER_TOPIC:
        seen.popitem(last=False)
    return True
