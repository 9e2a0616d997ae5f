"""Hypothesis drives three or four devices editing the shared state while the relay misbehaves.

Each device renames, extends and ends sessions, pairs new ones, makes and answers requests and
writes audit rows, with its own clock running a little fast or slow. Changes are delivered to each
other device in any order, some twice, some never (a partition; a mailbox that expired while the
device was offline) and then caught up from another device's snapshot, or asked for again through
``missing()``; devices restart from their saved snapshot, losing what they held. Whatever happens:

- each device's state is what a plain reference fold of the changes its version vector covers gives;
- an entity a device saw ended stays ended there;
- once everything reaches everyone, all snapshots are the same bytes, every entity any device ended
  is ended everywhere, and no ``set`` value is lost unless enough newer ones pushed it out of the history.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from walletsync.sync.changes import (
    Change,
    Write,
    audit_entity,
    canonical,
    device_entity,
    request_entity,
    session_entity,
)
from walletsync.sync.clock import HybridClock, Stamp
from walletsync.sync.registers import HISTORY
from walletsync.sync.state import GroupState

DEVICES = ["a" * 32, "b" * 32, "c" * 32, "d" * 32]
NOW = 1_800_000_000_000
TOPICS = ["1" * 64, "2" * 64, "3" * 64]

topics = st.sampled_from(TOPICS)
request_ids = st.integers(1, 3)
names = st.sampled_from(["desk", "laptop", "work", "home", "trading"]) | st.text(max_size=6)

# One strategy per user action: (entity, field, kind, value). Each field always has one kind.
renames = st.builds(lambda t, n: (session_entity(t), "name", "set", n), topics, names)
extends = st.builds(lambda t, s: (session_entity(t), "expiry", "max", s), topics, st.integers(0, 10**6))
ends = st.builds(
    lambda t, why: (session_entity(t), "ended", "end", {"why": why}), topics, st.sampled_from(["delete", "revoke"])
)
pairings = st.builds(
    lambda t, k: (session_entity(t), "keys", "once", {"sym_key": k}), topics, st.binary(max_size=4).map(bytes.hex)
)
new_requests = st.builds(
    lambda t, i, m: (request_entity(t, i), "body", "once", {"method": m}),
    topics,
    request_ids,
    st.sampled_from(["personal_sign", "eth_sendTransaction"]),
)
answers = st.builds(
    lambda t, i, r: (request_entity(t, i), "answer", "once", r),
    topics,
    request_ids,
    st.sampled_from([{"result": "0xsig"}, {"error": {"code": 5000}}]),
)
ended_requests = st.builds(lambda t, i: (request_entity(t, i), "ended", "end", "expired"), topics, request_ids)
device_names = st.builds(lambda d, n: (device_entity(d), "name", "set", n), st.sampled_from(DEVICES), names)
edits = st.lists(
    st.one_of(renames, extends, ends, pairings, new_requests, answers, ended_requests, device_names),
    min_size=1,
    max_size=3,
    unique_by=lambda w: (w[0], w[1]),
)


@dataclass
class Device:
    id: str
    state: GroupState
    clock: HybridClock
    skew_ms: int


def reference(changes):
    """What each (entity, field) must hold, folded the obvious way: {(entity, field): (kind, [(stamp, value)])}."""
    writes = defaultdict(list)
    for change in changes:
        for write in change.writes:
            writes[(write.entity, write.field)].append((write.kind, change.stamp, write.canonical))
    expected = {}
    for key, found in writes.items():
        kind = found[0][0]
        assert all(k == kind for k, _, _ in found)  # the actions above keep one kind per field
        entries = sorted({(stamp, text) for _, stamp, text in found})
        if kind == "set":
            kept = entries[::-1][: HISTORY + 1]
        elif kind == "max":
            kept = [max(entries, key=lambda e: (json.loads(e[1]), e[0]))]
        else:  # once, end: the first by stamp
            kept = [entries[0]]
        expected[key] = (kind, [(stamp, json.loads(text)) for stamp, text in kept])
    return expected


class DeviceGroup(RuleBasedStateMachine):
    @initialize(count=st.integers(3, 4), skews=st.lists(st.integers(-3_600_000, 3_600_000), min_size=4, max_size=4))
    def start(self, count, skews):
        self.now = NOW
        self.devices = {d: Device(d, GroupState(), HybridClock(d), skew) for d, skew in zip(DEVICES[:count], skews)}
        self.published: dict[tuple[str, int], Change] = {}
        self.in_flight: list[tuple[str, Change]] = []  # (to whom, what)
        self.cut: set[frozenset[str]] = set()
        self.seen_ended: dict[str, set[str]] = {d: set() for d in self.devices}

    # --- helpers -----------------------------------------------------------------------------

    def local_now(self, device: Device) -> int:
        return self.now + device.skew_ms

    def reachable(self, a: str, b: str) -> bool:
        return frozenset((a, b)) not in self.cut

    def receive(self, device: Device, change: Change) -> None:
        before = device.state.vector.get(change.device, 0)
        device.clock.observe(change.stamp, self.local_now(device))
        applied = device.state.apply(change)
        assert applied == (change.seq == before + 1), (change.seq, before, applied)

    def pick(self, data, items, label):
        return data.draw(st.sampled_from(sorted(items)), label=label)

    # --- what devices do -------------------------------------------------------------------------

    @rule(data=st.data(), writes=edits, audited=st.booleans())
    def a_device_edits(self, data, writes, audited):
        device = self.devices[self.pick(data, self.devices, "author")]
        seq = device.state.vector.get(device.id, 0) + 1
        if audited:  # its audit row travels with it (grow-only: one entity per row)
            writes = [*writes, (audit_entity(device.id, seq), "row", "once", {"event": "edited", "n": len(writes)})]
        change = Change(device.id, seq, device.clock.tick(self.local_now(device)), tuple(Write(*w) for w in writes))
        assert device.state.apply(change) is True
        self.published[(device.id, seq)] = change
        self.in_flight += [(other, change) for other in self.devices if other != device.id]

    @rule(data=st.data(), count=st.integers(1, HISTORY + 4))
    def a_device_renames_over_and_over(self, data, count):
        """Enough renames of one session to push old names out of its history."""
        for n in range(count):
            self.a_device_edits(data, [(session_entity(TOPICS[0]), "name", "set", f"name {n}")], audited=False)

    @rule(data=st.data())
    def a_device_restarts(self, data):
        """From what it saved: its snapshot and its clock's last stamp. What it held is gone."""
        device = self.devices[self.pick(data, self.devices, "restarting")]
        saved = json.loads(canonical(device.state.to_snapshot()))
        device.state = GroupState.from_snapshot(saved)
        device.clock = HybridClock(device.id, device.clock.last)

    @rule(ms=st.sampled_from([0, 1, 7, 1_000, 60_000, 3_600_000]))
    def time_passes(self, ms):
        self.now += ms

    # --- what the relay does -----------------------------------------------------------------------

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data(), duplicate=st.booleans())
    def the_relay_delivers(self, data, duplicate):
        index = data.draw(st.integers(0, len(self.in_flight) - 1), label="delivery")
        to, change = self.in_flight[index]
        if not self.reachable(to, change.device):
            return
        if not duplicate:
            del self.in_flight[index]
        self.receive(self.devices[to], change)

    @rule(data=st.data())
    def a_partition(self, data):
        a, b = data.draw(st.lists(st.sampled_from(sorted(self.devices)), min_size=2, max_size=2, unique=True))
        self.cut.add(frozenset((a, b)))

    @precondition(lambda self: self.cut)
    @rule(data=st.data())
    def a_partition_heals(self, data):
        self.cut.discard(self.pick(data, self.cut, "healed"))

    @rule(data=st.data())
    def a_mailbox_expires(self, data):
        """The device was offline longer than the relay keeps messages: what was on its way is gone."""
        gone = self.pick(data, self.devices, "offline")
        self.in_flight = [(to, change) for to, change in self.in_flight if to != gone]

    @rule(data=st.data())
    def a_device_catches_up_from_a_snapshot(self, data):
        to = self.devices[self.pick(data, self.devices, "catching up")]
        source = self.devices[self.pick(data, self.devices, "from")]
        if not self.reachable(to.id, source.id):
            return
        peer = GroupState.from_snapshot(json.loads(canonical(source.state.to_snapshot())))
        if (newest := peer.newest_stamp()) is not None:
            to.clock.observe(newest, self.local_now(to))
        to.state.merge(peer)

    @rule(data=st.data(), told=st.booleans())
    def a_device_asks_for_what_is_missing(self, data, told):
        """Each author sends again, in order, its changes from the first one the asker misses (``told``: a peer's
        version vector says what exists, as after a restart nothing is held to show a gap)."""
        asker = self.devices[self.pick(data, self.devices, "asker")]
        heads = self.devices[self.pick(data, self.devices, "peer")].state.vector if told else None
        for author, first in asker.state.missing(heads).items():
            if self.reachable(asker.id, author):
                for (device, seq), change in sorted(self.published.items()):
                    if device == author and seq >= first:
                        self.receive(asker, change)

    @rule(data=st.data())
    def everything_reaches_everyone(self, data):
        self.cut.clear()
        self.in_flight.clear()
        order = data.draw(st.permutations(sorted(self.published)), label="order")
        for device in self.devices.values():
            for key in order:
                self.receive(device, self.published[key])
        self.check_converged()

    # --- invariants ---------------------------------------------------------------------------------

    @invariant()
    def each_device_holds_the_reference_fold_of_what_it_covers(self):
        for device in self.devices.values():
            vector = device.state.vector
            covered = [c for (d, seq), c in self.published.items() if seq <= vector.get(d, 0)]
            assert len(covered) == sum(vector.values())  # the vector only covers changes that exist
            expected = reference(covered)
            assert device.state.entities() == sorted({entity for entity, _ in expected})
            for (entity, field), (kind, kept) in expected.items():
                assert device.state.kind(entity, field) == kind
                assert (device.state.stamp(entity, field), device.state.get(entity, field)) == kept[0]
                assert device.state.history(entity, field) == kept[1:]

    @invariant()
    def ended_stays_ended(self):
        for device in self.devices.values():
            ended = set(device.state.entities(ended=True))
            assert self.seen_ended[device.id] <= ended
            self.seen_ended[device.id] = ended
            assert all(device.state.is_ended(e) for e in ended)

    @invariant()
    def missing_names_the_gap(self):
        for device in self.devices.values():
            for author, first in device.state.missing().items():
                assert first == device.state.vector.get(author, 0) + 1
                assert (author, first) in self.published

    def check_converged(self):
        snapshots = {canonical(device.state.to_snapshot()) for device in self.devices.values()}
        assert len(snapshots) == 1, "replicas differ after everything reached everyone"
        tops = defaultdict(int)
        for device, seq in self.published:
            tops[device] = max(tops[device], seq)
        ever_ended = set().union(*self.seen_ended.values())
        for device in self.devices.values():
            assert device.state.vector == dict(sorted(tops.items()))
            assert device.state.held == 0 and device.state.missing() == {}
            assert all(device.state.is_ended(entity) for entity in ever_ended)
        self.check_no_set_write_lost(next(iter(self.devices.values())).state)

    def check_no_set_write_lost(self, state: GroupState) -> None:
        written: dict[tuple[str, str], set[tuple[Stamp, str]]] = defaultdict(set)
        for change in self.published.values():
            for write in change.writes:
                if write.kind == "set":
                    written[(write.entity, write.field)].add((change.stamp, write.canonical))
        for (entity, field), entries in written.items():
            kept = {(state.stamp(entity, field), canonical(state.get(entity, field)))}
            kept |= {(stamp, canonical(value)) for stamp, value in state.history(entity, field)}
            for entry in entries:
                newer = sum(1 for other in entries if other > entry)
                if newer <= HISTORY:  # the winner and HISTORY losers are kept: only more newer ones push it out
                    assert entry in kept, (entity, field, entry)

    def teardown(self):
        if hasattr(self, "devices"):
            self.cut.clear()
            for device in self.devices.values():
                for key in sorted(self.published, reverse=True):  # newest first: everything waits, then applies
                    self.receive(device, self.published[key])
            self.check_converged()


DeviceGroup.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestDeviceGroup = DeviceGroup.TestCase
