"""What members publish, applied: the receiving half of :class:`~walletsync.service.group_sync.GroupSync`.

A batch of sync messages is opened (current members only), applied to the shared state in one
transaction and projected into this device's rows; ``hello``, ``entry`` and ``snapshot`` messages get
the replies they call for (sent after the transaction). Anything refused is audited, up to a bound.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from walletsync.errors import WalletsyncError
from walletsync.service.devices import DeviceGroup
from walletsync.service.shared_rows import project
from walletsync.store.db import Database
from walletsync.sync import envelope
from walletsync.sync.changes import Change, StateError, canonical
from walletsync.sync.clock import ClockError, HybridClock, Stamp
from walletsync.sync.keys import EpochKey
from walletsync.sync.membership import Entry
from walletsync.sync.state import GroupState
from walletsync.transport.runner import EngineRunner

log = logging.getLogger("walletsync.sync")

BATCH = 2_000
SNAPSHOT_PART = 80 * 1024
"""Bytes of snapshot (ASCII JSON) per message: sent as a JSON string, whose escapes at most double it, then
sealed and in base64, it stays under the relay's 256 KiB."""
MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
MAX_PARTS_BYTES = 64 * 1024 * 1024
"""Bytes of half-received snapshots held at once."""
MAX_REFUSED_AUDITS = 50
ENTRIES_EVERY = 10
"""Seconds between two answers to hellos whose membership heads differ (an entry one side refuses must
not make the two trade entries forever)."""
RESEND_AT_MOST = 256
"""A member further behind on this device's changes gets a snapshot instead (a few parts, not thousands of
messages the relay would rate-limit)."""
ANSWER_EVERY = 10
"""Seconds during which the same answer is not sent again to the same member (it is on its way)."""
ANSWER_TTL = 3600
"""What is sent again for a member that said hello is for a device online now: kept an hour, not a month
(the group topic's bytes on the relay are bounded, and count until a message expires)."""

Reply = Callable[[], Coroutine[Any, Any, None]]


class SyncRefused(WalletsyncError):
    """A sync message that decrypted and was signed by a member, but is not one this device can use."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class GroupInbound:
    """The receiving half; :class:`GroupSync` sets these attributes and provides the sending calls."""

    db: Database
    group: DeviceGroup
    audit: Callable[..., None]
    clock: Callable[[], float]
    runner: EngineRunner | None
    on_applied: Callable[[], None] | None
    _inbox: asyncio.Queue[str]
    _inbox_bytes: int
    _busy: bool
    _parts: dict[str, dict[int, bytes]]
    _refused: int
    _entries_sent_at: int
    _answered: dict[str, tuple[int, str]]
    _hello_due: bool
    _topics: set[str]
    state: Callable[[], GroupState]
    _save: Callable[[GroupState], set[str]]
    _changing: Callable[[], AbstractContextManager[GroupState]]
    _epoch_keys: Callable[[], list[EpochKey]]
    hello: Reply
    listen: Reply
    publish_entries: Callable[..., Coroutine[Any, Any, None]]
    publish_pending: Callable[..., Coroutine[Any, Any, None]]
    publish_snapshot: Callable[..., Coroutine[Any, Any, None]]
    change_ttl: int
    rekey: Reply

    @property
    def me(self) -> str:
        return self.group.keys.id

    # --- applying what members publish ------------------------------------------------------------------

    async def _drain(self) -> None:
        while True:
            batch = [await self._inbox.get()]
            while not self._inbox.empty() and len(batch) < BATCH:
                batch.append(self._inbox.get_nowait())
            self._inbox_bytes -= sum(len(m) for m in batch)
            self._busy = True
            try:
                for reply in self.apply(batch):
                    if reply == self.hello:  # said once the inbox is empty: one hello for a whole catch-up,
                        self._hello_due = True  # not one per batch that every member would answer
                    else:
                        await reply()
                if self._hello_due and self._inbox.empty():
                    self._hello_due = False
                    await self.hello()
            except Exception as exc:
                log.warning("applying or answering %d sync messages failed: %s", len(batch), exc)
            finally:
                self._busy = self._inbox.qsize() > 0
                for _ in batch:
                    self._inbox.task_done()

    @property
    def idle(self) -> bool:
        """Nothing received is waiting to be applied, or being applied and answered."""
        return self._inbox.empty() and not self._busy

    def apply(self, messages: list[str]) -> list[Callable[[], Any]]:
        """Apply a batch of sync messages in one transaction; returns the replies to send afterwards."""
        membership = self.group.membership
        if membership is None:
            return []
        keys = envelope.keyring(self._epoch_keys())
        senders, revoked = membership.signing_keys(), membership.revoked()
        now = int(self.clock())
        replies: list[Callable[[], Any]] = []
        changed_rows, moved, entities = False, False, set[str]()
        with self.db.transaction():
            row = self.db.group()
            if row is None:
                return []
            with self._changing() as state:
                clock = HybridClock(self.me, Stamp.decode(json.loads(row.clock)) if row.clock else None)
                vector_before = state.vector
                for message in messages:
                    try:
                        replies += self._one(message, state, clock, now, keys, senders, revoked)
                        senders, revoked = membership.signing_keys(), membership.revoked()
                    except (
                        envelope.EnvelopeError,
                        StateError,
                        ClockError,
                        SyncRefused,
                        ValueError,
                        KeyError,
                        TypeError,
                    ) as exc:
                        self._refuse(exc)
                moved = state.vector != vector_before
                entities = self._save(state) if moved or state.dirty else set()
                if entities:
                    changed_rows, refusals = project(self.db, state, entities, self.me)
                    for refusal in refusals:
                        self._refuse(refusal)
            if clock.last is not None:
                self.db.save_group(replace(row, clock=json.dumps(clock.last.encode())))
        if changed_rows and self.on_applied is not None:
            self.on_applied()
        if (entities or moved) and not any(r == self.hello for r in replies):
            replies.append(self.hello)  # tell the members what this device has now (their status of it)
        return replies

    def _one(
        self,
        message: str,
        state: GroupState,
        clock: HybridClock,
        now: int,
        keys: envelope.EpochKeys,
        senders: dict[str, bytes],
        revoked: frozenset[str],
    ) -> list[Callable[[], Any]]:
        """Open one message and apply it to ``state``; the replies it calls for."""
        opened = envelope.open_b64(message, keys=keys, senders=senders, revoked=revoked)
        if opened.sender == self.me:
            return []
        body = json.loads(opened.body)
        kind = body.get("t") if isinstance(body, dict) else None
        if kind == "change":
            change = Change.from_json(body["change"])
            if change.device != opened.sender or change.seq != opened.seq:
                raise SyncRefused("malformed", "a change came from a device that did not make it")
            clock.observe(change.stamp, now * 1000)
            state.apply(change)
            self.db.device_seen(opened.sender, now, None)
            return []
        if kind == "hello":
            return self._on_hello(opened.sender, body, state, now)
        if kind == "entry":
            return self._on_entry(body)
        if kind == "snapshot":
            peer = self._on_part(body)
            if peer is not None:
                newest = peer.newest_stamp()
                if newest is not None:
                    clock.observe(newest, now * 1000)
                state.merge(peer)
            return []
        raise SyncRefused("malformed", "unknown sync message")

    def _on_entry(self, body: dict[str, Any]) -> list[Callable[[], Any]]:
        fresh = self.group.accept(Entry.from_json(body["entry"]))
        if not fresh:
            return []
        kinds = {"add": "device_added", "revoke": "device_revoked", "rekey": "group_rekeyed"}
        for entry in fresh:
            if entry.kind in kinds:
                self.audit(kinds[entry.kind], device=entry.device, by=entry.author)
        if self.group.revoked_here:
            return [self._left]
        replies: list[Callable[[], Any]] = []
        if any(e.kind in ("revoke", "rekey") for e in fresh):
            replies.append(self.listen)
        if self.group.should_rekey():
            replies.append(self.rekey)
        return replies

    async def _left(self) -> None:
        """This device was revoked: stop reading the group (nothing new would open anyway)."""
        runner = self.runner
        for topic in list(self._topics):
            if runner is not None:
                runner.taps.pop(topic, None)
                await runner.client.unsubscribe(topic)
        self._topics.clear()
        if runner is not None:
            runner.engine.siblings = None

    def _on_hello(self, sender: str, body: dict[str, Any], state: GroupState, now: int) -> list[Callable[[], Any]]:
        vector = body.get("vector")
        if not isinstance(vector, dict):
            raise SyncRefused("malformed", "a hello carries a version vector")
        membership = self.group.membership
        heads_differ = membership is not None and body.get("heads") != list(membership.heads())
        if heads_differ and now - self._entries_sent_at >= ENTRIES_EVERY:
            self._entries_sent_at = now
            # one of us lacks membership entries (a device another member linked): send ours, and our
            # hello so that they send theirs; each entry is checked by the membership rules on arrival
            replies_entries: list[Callable[[], Any]] = [self.publish_entries, self.hello]
        else:
            replies_entries = []
        self.db.device_seen(sender, now, canonical(vector))
        mine = state.vector
        replies: list[Callable[[], Any]] = []
        theirs_of_me = vector.get(self.me, 0)
        gap = mine.get(self.me, 0) - theirs_of_me if isinstance(theirs_of_me, int) else 0
        others = any(seq > vector.get(d, 0) for d, seq in mine.items() if d not in (self.me, sender))
        if others or gap > RESEND_AT_MOST:
            if self._may_answer("snapshot", now, ""):  # one snapshot serves every member; what follows it goes out
                # as changes anyway, so a second one within ANSWER_EVERY would only repeat it
                replies.append(functools.partial(self.publish_snapshot, ttl=min(ANSWER_TTL, self.change_ttl)))
        elif gap > 0 and self._may_answer(sender, now, canonical(mine.get(self.me, 0))):
            replies.append(
                functools.partial(self.publish_pending, since=theirs_of_me, ttl=min(ANSWER_TTL, self.change_ttl))
            )
        if any(isinstance(seq, int) and seq > mine.get(d, 0) for d, seq in vector.items()):
            replies.append(self.hello)  # they hold more: our hello makes them send it
        return replies_entries + replies

    def _may_answer(self, whom: str, now: int, what: str) -> bool:
        """False when ``what`` went to ``whom`` less than :data:`ANSWER_EVERY` seconds ago (it is on its way)."""
        last = self._answered.get(whom)
        if last is not None and last[1] == what and now - last[0] < ANSWER_EVERY:
            return False
        self._answered[whom] = (now, what)  # keyed by member (or "snapshot"): bounded by the membership
        return True

    def _on_part(self, body: dict[str, Any]) -> GroupState | None:
        ident, index, count, text = body["id"], body["part"], body["parts"], body["data"]
        if not (isinstance(ident, str) and len(ident) <= 32 and isinstance(index, int) and isinstance(count, int)):
            raise SyncRefused("malformed", "a snapshot part is malformed")
        if not (isinstance(text, str) and text.isascii()):
            raise SyncRefused("malformed", "a snapshot part is malformed")
        if not (0 <= index < count <= MAX_SNAPSHOT_BYTES // SNAPSHOT_PART + 1):
            raise SyncRefused("oversized", "a snapshot has too many parts")
        parts = self._parts.setdefault(ident, {})
        parts[index] = text.encode("ascii")
        while len(self._parts) > 8 or sum(len(p) for ps in self._parts.values() for p in ps.values()) > MAX_PARTS_BYTES:
            self._parts.pop(next(iter(self._parts)))  # the oldest half-received snapshot goes first
        if ident not in self._parts:
            return None
        if len(parts) < count:
            return None
        del self._parts[ident]
        return GroupState.from_snapshot(json.loads(b"".join(parts[i] for i in range(count))))

    def _refuse(self, exc: Exception) -> None:
        self._refused += 1
        if self._refused <= MAX_REFUSED_AUDITS:
            code = getattr(exc, "code", type(exc).__name__)
            self.audit("sync_message_refused", code=str(code), reason=str(exc)[:200])

    def take_welcome(self, snapshot: dict[str, Any]) -> None:
        """Merge the shared state a member sent with the welcome and write it into this device's rows."""
        peer = GroupState.from_snapshot(snapshot)
        with self.db.transaction(), self._changing() as state:
            state.merge(peer)
            for refusal in project(self.db, state, self._save(state), self.me)[1]:
                self._refuse(refusal)
