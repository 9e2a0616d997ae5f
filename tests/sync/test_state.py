"""The shared state's registers, version vector, hold and snapshots, one rule at a time; and the readers
of peer input (changes, snapshots) on arbitrary JSON: they read it or raise the typed error, nothing else."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from walletsync.errors import WalletsyncError
from walletsync.sync import state as state_module
from walletsync.sync.changes import (
    MAX_VALUE_BYTES,
    MAX_WRITES,
    Change,
    HoldFull,
    InvalidChange,
    InvalidSnapshot,
    StateError,
    Write,
    audit_entity,
    canonical,
    device_entity,
    request_entity,
    session_entity,
)
from walletsync.sync.clock import Stamp
from walletsync.sync.registers import HISTORY
from walletsync.sync.state import GroupState

A, B, C = "a" * 32, "b" * 32, "c" * 32
T = "9df7ceabd1efee9db9191cfcd158269c69e739f313ad73799d10b4247c227f96"
SESSION = session_entity(T)
NOW = 1_800_000_000_000
FUZZ = settings(
    max_examples=300, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def change(device, seq, ms, *writes, counter=0):
    return Change(device, seq, Stamp(ms, counter, device), tuple(Write(*w) for w in writes))


def applied(*changes):
    state = GroupState()
    for c in changes:
        state.apply(c)
    return state


def both_orders(*changes):
    """The state after applying ``changes`` in order and in reverse order (one per device, so nothing waits)."""
    forward, backward = applied(*changes), applied(*reversed(changes))
    assert canonical(forward.to_snapshot()) == canonical(backward.to_snapshot())
    return forward


# --- registers --------------------------------------------------------------------------------


def test_set_the_newest_stamp_wins_and_the_others_stay_in_history():
    state = both_orders(
        change(A, 1, NOW, (SESSION, "name", "set", "desk")),
        change(B, 1, NOW + 5, (SESSION, "name", "set", "laptop")),
        change(C, 1, NOW + 5, (SESSION, "name", "set", "phone-side"), counter=1),
    )
    assert state.get(SESSION, "name") == "phone-side"
    assert state.stamp(SESSION, "name") == Stamp(NOW + 5, 1, C)
    assert state.history(SESSION, "name") == [(Stamp(NOW + 5, 0, B), "laptop"), (Stamp(NOW, 0, A), "desk")]


def test_set_equal_stamps_fall_back_to_the_value():
    state = both_orders(
        change(A, 1, NOW, (SESSION, "name", "set", "b")),
        change(A, 2, NOW, (SESSION, "name", "set", "a")),  # a device reusing a stamp: still one answer
    )
    assert state.get(SESSION, "name") == "b"
    assert [v for _, v in state.history(SESSION, "name")] == ["a"]


def test_set_history_keeps_the_newest_few():
    writes = [change(A, n, NOW + n, (SESSION, "name", "set", f"name {n}")) for n in range(1, 21)]
    state = applied(*writes)
    assert state.get(SESSION, "name") == "name 20"
    assert [v for _, v in state.history(SESSION, "name")] == [f"name {n}" for n in range(19, 19 - HISTORY, -1)]
    shuffled = GroupState()
    for c in writes[::2] + writes[1::2]:  # out of order: the odd ones wait, then all apply
        shuffled.apply(c)
    assert shuffled.to_snapshot() == state.to_snapshot()


def test_max_the_larger_value_wins_whatever_its_stamp():
    state = both_orders(
        change(A, 1, NOW + 9, (SESSION, "expiry", "max", 1_000)),
        change(B, 1, NOW, (SESSION, "expiry", "max", 2_000)),
    )
    assert state.get(SESSION, "expiry") == 2_000 and state.history(SESSION, "expiry") == []


def test_max_equal_values_keep_the_newer_stamp():
    state = both_orders(
        change(A, 1, NOW, (SESSION, "expiry", "max", 5)), change(B, 1, NOW + 1, (SESSION, "expiry", "max", 5))
    )
    assert state.stamp(SESSION, "expiry") == Stamp(NOW + 1, 0, B)


def test_once_the_first_write_wins():
    state = both_orders(
        change(A, 1, NOW + 1, (request_entity(T, 7), "answer", "once", {"result": "0xlate"})),
        change(B, 1, NOW, (request_entity(T, 7), "answer", "once", {"result": "0xfirst"})),
    )
    assert state.get(request_entity(T, 7), "answer") == {"result": "0xfirst"}


def test_end_wins_over_concurrent_and_later_writes():
    state = both_orders(
        change(A, 1, NOW, (SESSION, "ended", "end", {"by": A, "why": "revoked"})),
        change(B, 1, NOW + 9, (SESSION, "ended", "end", {"by": B, "why": "deleted"}), (SESSION, "name", "set", "x")),
        change(C, 1, NOW + 50, (SESSION, "expiry", "max", 99), (SESSION, "name", "set", "renamed later")),
    )
    assert state.is_ended(SESSION)
    assert state.get(SESSION, "ended") == {"by": A, "why": "revoked"}  # the first end says who and why
    assert state.get(SESSION, "name") == "renamed later"  # still merged: state is a function of the writes
    assert state.entities("session/", ended=True) == [SESSION]
    assert state.entities("session/", ended=False) == []


def test_an_end_write_goes_to_the_ended_field_only():
    with pytest.raises(InvalidChange):
        Write(SESSION, "name", "end", None)
    with pytest.raises(InvalidChange):
        Write(SESSION, "ended", "set", "x")


def test_two_kinds_on_one_field_resolve_the_same_everywhere():
    state = both_orders(
        change(A, 1, NOW + 9, (SESSION, "keys", "set", "newer")),
        change(B, 1, NOW, (SESSION, "keys", "once", "older")),
        change(C, 1, NOW + 5, (SESSION, "keys", "max", 3)),
    )
    assert state.kind(SESSION, "keys") == "once" and state.get(SESSION, "keys") == "older"


def test_views():
    state = applied(
        change(A, 1, NOW, (SESSION, "name", "set", "desk"), (device_entity(B), "name", "set", "laptop")),
        change(B, 1, NOW, (request_entity(T, 1), "body", "once", {"method": "personal_sign"})),
        change(B, 2, NOW, (audit_entity(B, 1), "row", "once", {"event": "x"})),
    )
    assert state.entities() == sorted([SESSION, device_entity(B), request_entity(T, 1), audit_entity(B, 1)])
    assert state.entities("request/") == [request_entity(T, 1)]
    assert state.fields(SESSION) == {"name": "desk"}
    assert state.get(SESSION, "nothing", "default") == "default" and state.get("session/none", "name") is None
    assert state.stamp(SESSION, "nothing") is None and state.history(SESSION, "nothing") == []
    assert not state.is_ended(SESSION) and state.kind(SESSION, "nothing") is None
    body = state.get(request_entity(T, 1), "body")
    body["method"] = "changed by the caller"
    assert state.get(request_entity(T, 1), "body") == {"method": "personal_sign"}  # views hand out copies


# --- version vector and hold ---------------------------------------------------------------------


def test_changes_apply_in_seq_order_per_device_and_wait_for_gaps():
    one, two, three = (change(A, n, NOW + n, (SESSION, "name", "set", f"n{n}")) for n in (1, 2, 3))
    state = GroupState()
    assert state.apply(three) is False and state.apply(two) is False
    assert state.missing() == {A: 1} and state.held == 2 and state.get(SESSION, "name") is None
    assert state.apply(one) is True
    assert state.vector == {A: 3} and state.missing() == {} and state.held == 0
    assert state.get(SESSION, "name") == "n3"


def test_missing_also_names_what_peers_say_exists():
    state = applied(change(A, 1, NOW, (SESSION, "name", "set", "x")), change(B, 3, NOW, (SESSION, "expiry", "max", 1)))
    assert state.missing() == {B: 1}
    assert state.missing({A: 4, B: 2, C: 1}) == {A: 2, B: 1, C: 1}
    assert state.missing({A: 1}) == {B: 1}  # nothing newer than what is applied


def test_duplicates_are_no_ops():
    one, three = change(A, 1, NOW, (SESSION, "name", "set", "x")), change(A, 3, NOW + 3, (SESSION, "name", "set", "z"))
    state = applied(one, three)
    before = state.to_snapshot()
    assert state.apply(one) is False and state.apply(three) is False
    assert state.to_snapshot() == before and state.held == 1


def test_two_different_changes_with_one_seq_are_refused_while_held():
    state = applied(change(A, 3, NOW, (SESSION, "name", "set", "x")))
    with pytest.raises(InvalidChange):
        state.apply(change(A, 3, NOW, (SESSION, "name", "set", "y")))
    assert state.held == 1


def test_the_hold_is_bounded_by_count(monkeypatch):
    monkeypatch.setattr(state_module, "MAX_HELD", 3)
    state = GroupState()
    for seq in (2, 3, 4):
        state.apply(change(A, seq, NOW, (SESSION, "name", "set", seq)))
    with pytest.raises(HoldFull) as full:
        state.apply(change(B, 2, NOW, (SESSION, "name", "set", "b")))
    assert full.value.code == "hold_full" and state.held == 3 and state.missing() == {A: 1}
    state.apply(change(A, 1, NOW, (SESSION, "name", "set", 1)))
    assert state.held == 0 and state.vector == {A: 4}


def test_the_hold_is_bounded_by_bytes():
    big = "x" * (MAX_VALUE_BYTES - 100)
    state = GroupState()
    with pytest.raises(HoldFull):
        for seq in range(2, 1000):
            state.apply(change(A, seq, NOW, *[(f"session/s{n}", "name", "set", big) for n in range(MAX_WRITES)]))
    assert 0 < state.held < 10


def test_a_snapshot_covering_held_changes_drops_them_and_releases_the_rest():
    ahead = applied(*(change(A, n, NOW + n, (SESSION, "name", "set", f"n{n}")) for n in (1, 2, 3)))
    behind = applied(change(A, 3, NOW + 3, (SESSION, "name", "set", "n3")))
    behind.apply(change(A, 4, NOW + 4, (SESSION, "name", "set", "n4")))
    assert behind.held == 2
    behind.merge(ahead.to_snapshot())
    assert behind.held == 0 and behind.vector == {A: 4} and behind.get(SESSION, "name") == "n4"


def test_merge_joins_registers_and_takes_the_vector_maximum():
    left = applied(
        change(A, 1, NOW, (SESSION, "name", "set", "left")), change(B, 1, NOW, (SESSION, "expiry", "max", 5))
    )
    right = applied(change(C, 1, NOW + 1, (SESSION, "name", "set", "right")))
    snapshot = copy.deepcopy(right.to_snapshot())
    left.merge(snapshot)
    assert snapshot == right.to_snapshot()  # merge never writes into its argument
    assert left.vector == {A: 1, B: 1, C: 1}
    assert left.fields(SESSION) == {"expiry": 5, "name": "right"}
    right.merge(
        applied(change(A, 1, NOW, (SESSION, "name", "set", "left")), change(B, 1, NOW, (SESSION, "expiry", "max", 5)))
    )
    assert canonical(left.to_snapshot()) == canonical(right.to_snapshot())
    assert left.newest_stamp() == Stamp(NOW + 1, 0, C) and GroupState().newest_stamp() is None


def test_merging_a_bad_snapshot_changes_nothing():
    state = applied(change(A, 1, NOW, (SESSION, "name", "set", "x")))
    before = canonical(state.to_snapshot())
    bad = applied(change(B, 1, NOW, (SESSION, "name", "set", "y"))).to_snapshot()
    bad["registers"]["session/zzz"] = {"name": {"kind": "set", "entries": []}}
    with pytest.raises(InvalidSnapshot):
        state.merge(bad)
    assert canonical(state.to_snapshot()) == before


# --- checking what peers send --------------------------------------------------------------------


@pytest.mark.parametrize(
    "entity, field, kind, value",
    [
        ("", "name", "set", 1),
        ("Session/x", "name", "set", 1),
        ("session/with space", "name", "set", 1),
        ("session/" + "x" * 129, "name", "set", 1),
        ("session/a/b/c/d/e", "name", "set", 1),
        ("session/x", "Name", "set", 1),
        ("session/x", "n" * 65, "set", 1),
        ("session/x", "name", "add", 1),
        ("session/x", "expiry", "max", "soon"),
        ("session/x", "expiry", "max", True),
        ("session/x", "expiry", "max", 2**63),
        ("session/x", "name", "set", "x" * MAX_VALUE_BYTES),
        ("session/x", "name", "set", float("nan")),
        ("session/x", "name", "set", {1: "not a string key"}),
        ("session/x", "name", "set", b"bytes"),
        ("session/x", "name", "set", 10**30),
        ("session/x", "name", "set", json.loads("[" * 40 + "]" * 40)),
    ],
)
def test_a_bad_write_is_an_invalid_change(entity, field, kind, value):
    with pytest.raises(InvalidChange) as refused:
        Write(entity, field, kind, value)
    assert isinstance(refused.value, WalletsyncError) and refused.value.code == "invalid_change"


def test_a_change_is_checked_as_a_whole():
    write = Write(SESSION, "name", "set", "x")
    with pytest.raises(InvalidChange):
        Change(A, 1, Stamp(NOW, 0, B), (write,))  # stamped by another device's clock
    with pytest.raises(InvalidChange):
        Change(A, 0, Stamp(NOW, 0, A), (write,))
    with pytest.raises(InvalidChange):
        Change(A, 1, Stamp(NOW, 0, A), (write, Write(SESSION, "name", "set", "y")))  # one field twice
    with pytest.raises(InvalidChange):
        Change(A, 1, Stamp(NOW, 0, A), tuple(Write(f"session/s{n}", "name", "set", n) for n in range(MAX_WRITES + 1)))


def test_a_change_round_trips_through_json():
    original = change(
        A, 7, NOW, (SESSION, "name", "set", "desk"), (SESSION, "expiry", "max", 9), (SESSION, "ended", "end", None)
    )
    wire = json.loads(json.dumps(original.to_json()))
    assert Change.from_json(wire) == original
    assert Write(SESSION, "x", "set", (1, 2)) == Write(SESSION, "x", "set", [1, 2])  # values compare as JSON


def test_a_snapshot_round_trips_and_is_canonical():
    state = applied(
        change(B, 1, NOW, (SESSION, "name", "set", "b"), (SESSION, "expiry", "max", 3)),
        change(A, 1, NOW + 1, (SESSION, "name", "set", "a"), (SESSION, "ended", "end", {"by": A})),
    )
    snapshot = state.to_snapshot()
    text = canonical(snapshot)
    assert json.dumps(snapshot, separators=(",", ":")) == text  # built in sorted order already
    again = GroupState.from_snapshot(json.loads(text))
    assert canonical(again.to_snapshot()) == text and again.vector == {A: 1, B: 1}


def test_errors_are_typed_with_codes():
    for error, code in [
        (StateError, "sync_state"),
        (InvalidChange, "invalid_change"),
        (InvalidSnapshot, "invalid_snapshot"),
    ]:
        assert issubclass(error, WalletsyncError) and error.code == code


# --- fuzz: arbitrary JSON, and valid input with one thing changed --------------------------------------


def json_of(integers):
    return st.recursive(
        st.none() | st.booleans() | integers | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=30,
    )


json_values = json_of(st.integers())
value_json = json_of(st.integers(-(2**63) + 1, 2**63 - 1))  # what a write may hold
devices = st.sampled_from([A, B, C])
writes = st.tuples(
    st.sampled_from([SESSION, "session/other", request_entity(T, 1)]),
    st.sampled_from(["name", "expiry", "keys", "ended"]),
    value_json,
).map(
    lambda t: (
        Write(t[0], t[1], "end", t[2])
        if t[1] == "ended"
        else Write(t[0], t[1], "max", len(repr(t[2])))
        if t[1] == "expiry"
        else Write(t[0], t[1], "set" if t[1] == "name" else "once", t[2])
    )
)
changes = st.builds(
    lambda device, seq, ms, ws: Change(
        device, seq, Stamp(ms, 0, device), tuple({(w.entity, w.field): w for w in ws}.values())
    ),
    devices,
    st.integers(1, 3),
    st.integers(0, 10),
    st.lists(writes, max_size=4),
)


def _snapshot_of(cs):
    state = GroupState()
    for c in {(c.device, c.seq): c for c in cs}.values():  # one change per device and seq, as honest devices send
        state.apply(c)
    return state.to_snapshot()


def _mutations(value):
    """Every place in a JSON value, as (path) lists, so a strategy can pick one to change."""
    paths = [[]]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += [[key, *p] for p in _mutations(item)]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += [[index, *p] for p in _mutations(item)]
    return paths


def _replace(value, path, new):
    if not path:
        return new
    value = copy.deepcopy(value)
    target = value
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return value


def _reads_or_refuses(reader, data, error):
    try:
        result = reader(data)
    except error:
        return None
    return result


@FUZZ
@given(json_values)
def test_a_snapshot_of_arbitrary_json_reads_or_is_refused(data):
    state = _reads_or_refuses(GroupState.from_snapshot, data, InvalidSnapshot)
    if state is not None:
        assert canonical(GroupState.from_snapshot(state.to_snapshot()).to_snapshot()) == canonical(state.to_snapshot())


@FUZZ
@given(st.lists(changes, max_size=6), st.data())
def test_a_valid_snapshot_with_one_part_changed_reads_or_is_refused(cs, data):
    snapshot = _snapshot_of(cs)
    path = data.draw(st.sampled_from(_mutations(snapshot)), label="path")
    new = data.draw(json_values | st.sampled_from([f"1:0:{A}", A, "set", "end", 0, -1, 2**53]), label="new")
    mutated = _replace(snapshot, path, new)
    state = _reads_or_refuses(GroupState.from_snapshot, mutated, InvalidSnapshot)
    if state is not None:  # whatever was read merges like any snapshot
        merged = GroupState.from_snapshot(snapshot)
        merged.merge(state)
        state.merge(GroupState.from_snapshot(snapshot))
        assert canonical(merged.to_snapshot()) == canonical(state.to_snapshot())


@FUZZ
@given(json_values)
def test_a_change_of_arbitrary_json_reads_or_is_refused(data):
    _reads_or_refuses(Change.from_json, data, InvalidChange)


@FUZZ
@given(changes, st.data())
def test_a_valid_change_with_one_part_changed_reads_or_is_refused(original, data):
    wire = original.to_json()
    path = data.draw(st.sampled_from(_mutations(wire)), label="path")
    new = data.draw(json_values | st.sampled_from([f"1:0:{A}", B, "max", "end", 0, 2**53]), label="new")
    read = _reads_or_refuses(Change.from_json, _replace(wire, path, new), InvalidChange)
    if read is not None:
        assert Change.from_json(read.to_json()) == read


@FUZZ
@given(st.lists(changes, max_size=8), st.lists(changes, max_size=4))
def test_what_is_kept_entity_by_entity_reads_back_as_the_round_trip_through_json(cs, later):
    """The service keeps ``vector_text()`` and the ``entity_text()`` of what each commit made dirty: read back
    with ``from_parts`` it is the state ``to_snapshot()`` describes, whatever was saved when."""
    state, kept = GroupState(), {}
    vector = state.vector_text()
    for batch in (cs, later):
        for c in {(c.device, c.seq): c for c in batch}.values():  # in the drawn order: some wait in the hold
            try:
                state.apply(c)
            except StateError:
                pass
        kept |= {entity: state.entity_text(entity) for entity in state.take_dirty()}
        vector = state.vector_text()
        assert not state.dirty
    text = canonical(state.to_snapshot())
    assert state.snapshot_text() == text
    again = GroupState.from_parts(json.loads(vector), [json.loads(t) for t in kept.values()])
    assert again.snapshot_text() == text and not again.dirty
    assert again.held == 0 and again.vector == state.vector  # held changes stay behind, as in a snapshot


_A, _B = "a" * 32, "b" * 32
_ONCE = (Write(entity="session/other", field="keys", kind="once", value=None),)


@given(st.lists(changes, max_size=6), st.lists(changes, max_size=6))
@example(  # a held change, released by the merge, writes what a "once" register already holds: nothing changed
    [Change(_A, 1, Stamp(0, 0, _A), _ONCE), Change(_B, 2, Stamp(0, 0, _B), _ONCE)],
    [Change(_B, 1, Stamp(0, 0, _B), ())],
)
def test_a_merge_makes_dirty_only_the_entities_it_changed(mine, theirs):
    state, peer = GroupState(), GroupState()
    for c in {(c.device, c.seq): c for c in mine}.values():
        try:
            state.apply(c)
        except StateError:
            pass
    for c in {(c.device, c.seq): c for c in theirs}.values():
        try:
            peer.apply(c)
        except StateError:
            pass
    state.take_dirty()
    before = {e: state.entity_text(e) for e in state.entities()}
    state.merge(peer)
    after = {e: state.entity_text(e) for e in state.entities()}
    assert state.take_dirty() == {e for e in after if before.get(e) != after[e]}
