"""Keeping the device group's shared state in step over the relay (docs/SYNC.md, "Sync messages").

This device's changes are recorded inside the transaction of the rows they describe (the store calls
:meth:`GroupSync.before_commit`), then sealed with the current epoch's key and published on its topic.
What members publish arrives through the runner's taps, is opened (current members only), applied to
the shared state in one transaction per batch, and projected into this device's rows. A ``hello``
carries a device's version vector: whoever holds what the sender lacks sends it (its own changes
again, or a snapshot of the whole state), so a device that was away longer than the relay keeps
messages still catches up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from walletsync.protocol.relay_rpc import MessageData, Publish
from walletsync.service.devices import DeviceGroup
from walletsync.service.group_inbound import ENTRIES_EVERY, SNAPSHOT_PART, GroupInbound
from walletsync.service.shared_rows import writes_for
from walletsync.store.db import Database
from walletsync.sync import envelope
from walletsync.sync.changes import MAX_WRITES, Change, Write, canonical
from walletsync.sync.clock import HybridClock, Stamp
from walletsync.sync.keys import EpochKey
from walletsync.sync.sibling import is_sibling, nonce_for
from walletsync.sync.state import GroupState
from walletsync.transport.runner import EngineRunner

log = logging.getLogger("walletsync.sync")

SYNC_TAG = 7700
CHANGE_TTL = 30 * 24 * 3600
"""How long the relay keeps a change (the relay's own limit is 30 days); past it, snapshots carry it."""
SNAPSHOT_TTL = 30 * 24 * 3600
HELLO_TTL = 3600
MAX_INBOX = 20_000
MAX_INBOX_BYTES = 64 * 1024 * 1024
"""Sync messages (and their bytes) waiting to be applied; past it they are dropped (a hello gets them again)."""
PUBLISH_RETRY, PUBLISH_RETRY_MAX = 1.0, 60.0
"""Seconds before publishing again after the relay refused (doubling up to the most)."""
CLOSE_FLUSH_TIMEOUT = 5.0
"""Seconds closing waits for the relay to take this device's unpublished changes."""


@dataclass(frozen=True)
class SyncStatus:
    """What ``walletsync sync`` reports: the devices with their status, and this device's changes some
    member has not confirmed yet."""

    devices: list[Any]
    pending: int

    def to_json(self) -> dict[str, Any]:
        return {"devices": [d.to_json() for d in self.devices], "pending": self.pending}


class Mark:
    """The engine's :class:`~walletsync.protocol.core.Siblings`: this group's mark on session messages.

    It seals with the oldest epoch's mark key, which every member holds (the welcome carries all keys),
    so a message marked just after a revoke is still known as a sibling's by a member that has not yet
    heard of the revoke. A revoked device knows that key too; all it gains is that members ignore
    what it sends on a session, which is no loss (it could only pretend to be the phone otherwise)."""

    def __init__(self, keys: list[EpochKey]) -> None:
        self._current = min(keys, key=lambda k: k.epoch).mark_key
        self._all = [k.mark_key for k in keys]

    def nonce(self, plaintext: bytes) -> bytes:
        return nonce_for(self._current, plaintext)

    def is_sibling(self, nonce: bytes, plaintext: bytes) -> bool:
        return is_sibling(self._all, nonce, plaintext)


class GroupSync(GroupInbound):
    """The shared state of this device's group, kept in ``db`` and exchanged over the runner's relay."""

    def __init__(
        self,
        db: Database,
        group: DeviceGroup,
        audit: Callable[..., None],
        clock: Callable[[], float],
        random: Callable[[int], bytes],
        *,
        change_ttl: int = CHANGE_TTL,
        snapshot_ttl: int = SNAPSHOT_TTL,
    ) -> None:
        self.db, self.group, self.audit, self.clock, self.random = db, group, audit, clock, random
        self.change_ttl, self.snapshot_ttl = change_ttl, snapshot_ttl
        self.runner: EngineRunner | None = None
        self.on_applied: Callable[[], None] | None = None
        """Called after a batch changed this device's rows (the companion reloads its engine)."""
        self._cache: tuple[bytes | None, GroupState] | None = None
        self._inbox: asyncio.Queue[str] = asyncio.Queue(maxsize=MAX_INBOX)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._topics: set[str] = set()
        self._parts: dict[str, dict[int, bytes]] = {}
        self._refused = 0
        self._busy = False
        self._entries_sent_at = -ENTRIES_EVERY
        self._inbox_bytes = 0
        self._answered: dict[str, tuple[int, str]] = {}
        self._hello_due = False
        self._greeting: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        db.before_commit = self.before_commit

    # --- the state in the store ------------------------------------------------------------------

    def state(self) -> GroupState:
        """The shared state as stored, kept in memory while no save (by this or another process) follows.

        Callers change it in place inside a transaction and :meth:`_save` it there; :meth:`_changing`
        drops it if the transaction fails, and a rolled-back save leaves the stored mark behind, so the
        next call reads the store again."""
        mark = self.db.group_state_mark()
        if self._cache is None or self._cache[0] != mark:
            self._cache = (mark, self._load())
        return self._cache[1]

    def _load(self) -> GroupState:
        data = self.db.group_state()
        if data is None:
            return GroupState()
        kept = json.loads(data)
        if "registers" in kept:  # kept whole by an earlier version: merged into an empty state, all of it is
            state = GroupState()  # dirty, so the next save keeps it entity by entity
            state.merge(kept)
            return state
        return GroupState.from_parts(kept, (json.loads(row) for row in self.db.group_registers()))

    @contextmanager
    def _changing(self) -> Iterator[GroupState]:
        """The state to change in place (inside the caller's transaction); forgotten if anything fails."""
        try:
            yield self.state()
        except BaseException:
            self._cache = None
            raise

    def _save(self, state: GroupState) -> set[str]:
        """Keep what changed in ``state`` (the caller holds the transaction); returns the entities it wrote."""
        dirty = state.take_dirty()
        self.db.save_group_state(
            state.vector_text().encode("utf-8"), {entity: state.entity_text(entity).encode("utf-8") for entity in dirty}
        )
        self._cache = (self.db.group_state_mark(), state)
        return dirty

    def _epoch_keys(self) -> list[EpochKey]:
        return [EpochKey(epoch, key) for epoch, key in sorted(self.db.epoch_keys().items())]

    def current_key(self) -> EpochKey | None:
        """The data key new messages are sealed with (the current epoch's), or None outside a group."""
        membership = self.group.membership
        keys = {k.epoch: k for k in self._epoch_keys()}
        epoch = membership.current_epoch() if membership else None
        if epoch is not None and epoch.number in keys:
            return keys[epoch.number]
        return keys[max(keys)] if keys else None

    def mark(self) -> Mark | None:
        """The sibling mark for the engine, or None outside a group."""
        keys = self._epoch_keys()
        return Mark(keys) if keys else None

    # --- recording this device's changes (inside the caller's transaction) ----------------------------

    def before_commit(self, touched: set[tuple[str, str]]) -> None:
        """Record what the transaction changed as this device's next change(s) (the store calls this)."""
        row = self.db.group()
        if row is None:
            return
        with self._changing() as state:
            writes = writes_for(self.db, state, touched, self.me)
            if writes:
                self._record(state, writes, row)

    def record(self, writes: list[Write]) -> None:
        """Record ``writes`` as this device's change (the caller holds the transaction)."""
        row = self.db.group()
        if row is not None and writes:
            with self._changing() as state:
                self._record(state, writes, row)

    def _record(self, state: GroupState, writes: list[Write], row: Any) -> None:
        clock = HybridClock(self.me, Stamp.decode(json.loads(row.clock)) if row.clock else None)
        seq = row.next_seq
        for start in range(0, len(writes), MAX_WRITES):
            stamp = clock.tick(int(self.clock() * 1000))
            change = Change(self.me, seq, stamp, tuple(writes[start : start + MAX_WRITES]))
            state.apply(change)
            self.db.add_outbox(seq, canonical(change.to_json()).encode("utf-8"))
            seq += 1
        self._save(state)
        assert clock.last is not None
        self.db.save_group(replace(row, next_seq=seq, clock=json.dumps(clock.last.encode())))
        self._poke()

    def _poke(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # --- the relay side ------------------------------------------------------------------------------

    async def start(self, runner: EngineRunner) -> None:
        """Before the runner connects: its client will subscribe to the group's topics; once online, say hello
        and publish what is not yet published. Outside a group only the background tasks start."""
        self.runner = runner
        self._loop = asyncio.get_running_loop()
        runner.client.topics |= self._adopt_topics()
        self._greeting = asyncio.create_task(self._greet(), name="sync-hello")
        self._tasks = [
            asyncio.create_task(self._publisher(), name="sync-publish"),
            asyncio.create_task(self._drain(), name="sync-apply"),
            self._greeting,
        ]

    async def settled(self) -> None:
        """Return once what arrived is applied and answered, and the hello said on connecting has gone out."""
        if self._greeting is not None:
            await asyncio.wait([self._greeting])  # its failure is its own (logged by the task), not the caller's
        await self._inbox.join()

    def _adopt_topics(self) -> set[str]:
        """Route every epoch topic this device holds a key for to this object; returns those new to it."""
        runner = self.runner
        if runner is None or not self.group.joined or self.group.revoked_here:
            return set()  # a revoked device reads nothing more of the group
        runner.engine.siblings = self.mark()
        fresh = {k.topic for k in self._epoch_keys()} - self._topics
        for topic in fresh:
            runner.taps[topic] = self._tap
        self._topics |= fresh
        return fresh

    async def _greet(self) -> None:
        if self.runner is None or not self._topics:
            return
        await self.runner.client.wait_online(None)
        await self.hello()
        self._poke()

    async def listen(self) -> None:
        """After linking or joining (online): subscribe to the group's topics, say hello, publish what is queued."""
        runner = self.runner
        if runner is None:
            return
        fresh = self._adopt_topics()
        if runner.client.status.state != "online":
            runner.client.topics |= fresh  # subscribed when the link comes up; the hello follows then
            return
        for topic in fresh:
            await runner.client.subscribe(topic)
        await self.hello()
        self._poke()

    async def close(self) -> None:
        """Stop; first publish what this device recorded and has not published (a command that changed something
        just before it exits, ``pair`` or ``sign``, still shares it), if the relay is up."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        runner = self.runner
        if runner is None or runner.client.status.state != "online":
            return
        try:
            async with asyncio.timeout(CLOSE_FLUSH_TIMEOUT):
                await self.publish_pending()
        except Exception:
            log.warning("this device's last changes were not published; they stay queued for the next run")

    async def _tap(self, data: MessageData) -> None:
        size = len(data.message)
        if not self._inbox.full() and self._inbox_bytes + size <= MAX_INBOX_BYTES:
            self._inbox_bytes += size
            self._inbox.put_nowait(data.message)

    async def _send(
        self, body: dict[str, Any], seq: int, ttl: int, key: EpochKey | None = None, *, compress: bool = True
    ) -> None:
        key, runner = key or self.current_key(), self.runner
        if key is None or runner is None or self.group.revoked_here:
            return  # a revoked device says nothing to the group (the members would refuse it anyway)
        data = canonical(body).encode("utf-8")
        sealed = envelope.seal_b64(key, self.group.keys, seq, data, self.random, compress=compress)
        await runner.client.publish(Publish(key.topic, sealed, ttl, SYNC_TAG))

    def _published(self) -> int:
        seen = self.db.devices_seen().get(self.me)
        return int(seen[1]) if seen and seen[1] else 0

    async def _publisher(self) -> None:
        retry: float | None = None
        while True:
            try:
                async with asyncio.timeout(retry):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.publish_pending()
                retry = None
            except Exception as exc:  # the relay refused (full, rate-limited) or went away: try again later
                retry = min(2 * (retry or PUBLISH_RETRY), PUBLISH_RETRY_MAX)
                log.warning(
                    "publishing this device's changes failed (%s); they stay queued, next try in %.0f s", exc, retry
                )

    async def publish_pending(self, since: int | None = None, ttl: int | None = None) -> None:
        """Publish this device's changes numbered above ``since`` (default: above what was published, or what
        every other member said it applied, whichever is further), kept ``ttl`` seconds on the relay."""
        if not self.group.joined:
            return
        start = max(self._published(), self._confirmed()) if since is None else since
        for seq, data in self.db.outbox(start):
            await self._send({"t": "change", "change": json.loads(data)}, seq, ttl or self.change_ttl)
            if since is None:
                with self.db.transaction():
                    self.db.device_seen(self.me, int(self.clock()), str(seq))

    def _confirmed(self) -> int:
        """How many of this device's changes every other member said it applied (0 with no other member)."""
        membership = self.group.membership
        others = [d for d in membership.members() if d != self.me] if membership else []
        seen = self.db.devices_seen()
        return min((_vector(seen.get(d)).get(self.me, 0) for d in others), default=0)

    async def hello(self) -> None:
        """Tell the members what this device has applied (they send what it lacks) and the membership entries it
        holds (a device another member linked becomes known to all)."""
        row = self.db.group()
        if row is None:
            return
        vector = self.state().vector
        heads = list(self.group.membership.heads()) if self.group.membership else []
        body = {"t": "hello", "vector": vector, "heads": heads, "at": int(self.clock() * 1000)}
        await self._send(body, 0, HELLO_TTL)

    async def publish_entries(self, key: EpochKey | None = None) -> None:
        """Publish every membership entry (a member that missed an add or a revoke learns it), sealed with
        ``key`` (default: the current epoch's)."""
        membership = self.group.membership
        for entry in membership.entries() if membership else []:
            await self._send({"t": "entry", "entry": entry.to_json()}, 0, self.change_ttl, key)

    async def rekey(self) -> None:
        """Start an epoch every current member holds (concurrent revokes left none that only members hold):
        the entry goes out under the previous key, where the members still listen."""
        previous = self.current_key()
        with self.db.transaction():
            self.group.rekey()
            self.audit("group_rekeyed", device=None, by=self.me)
        await self.publish_entries(previous)
        await self.listen()

    async def publish_snapshot(self, ttl: int | None = None) -> None:
        """Publish the whole shared state (in parts) for members that were away too long, kept ``ttl`` seconds."""
        data = self.state().snapshot_text().encode("utf-8")
        ident = self.random(8).hex()
        parts = [data[i : i + SNAPSHOT_PART] for i in range(0, len(data), SNAPSHOT_PART)] or [b""]
        for index, part in enumerate(parts):
            body = {"t": "snapshot", "id": ident, "part": index, "parts": len(parts), "data": part.decode("ascii")}
            # every session's key next to what every phone sent: no compressed lengths (docs/SYNC.md)
            await self._send(body, 0, ttl or self.snapshot_ttl, compress=False)

    # --- status -------------------------------------------------------------------------------------------

    def pending(self) -> int:
        """This device's changes some current member has not said it applied."""
        membership = self.group.membership
        row = self.db.group()
        if membership is None or row is None:
            return 0
        mine = row.next_seq - 1
        seen = self.db.devices_seen()
        others = [d for d in membership.members() if d != self.me]
        behind = [mine - _vector(seen.get(d)).get(self.me, 0) for d in others]
        return max([0, *behind])


def _vector(seen: tuple[int, str | None] | None) -> dict[str, int]:
    if not seen or not seen[1]:
        return {}
    try:
        value = json.loads(seen[1])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
