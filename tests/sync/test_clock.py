"""The hybrid logical clock: monotone per device, never behind what it saw, close to real time, and
deaf to a stamp from a clock far in the future."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletsync.errors import WalletsyncError
from walletsync.sync.clock import MAX_AHEAD_MS, MAX_COUNTER, ClockError, ClockSkew, HybridClock, Stamp

A, B, C = "a" * 32, "b" * 32, "c" * 32
NOW = 1_800_000_000_000
PROPERTY = settings(max_examples=200, deadline=None, database=None, derandomize=True)


def test_ticks_follow_the_wall_clock_and_count_inside_one_millisecond():
    clock = HybridClock(A)
    assert clock.tick(NOW) == Stamp(NOW, 0, A)
    assert clock.tick(NOW) == Stamp(NOW, 1, A)
    assert clock.tick(NOW + 5) == Stamp(NOW + 5, 0, A)
    assert clock.last == Stamp(NOW + 5, 0, A)


def test_a_clock_that_steps_back_keeps_counting_from_its_last_stamp():
    clock = HybridClock(A)
    clock.tick(NOW)
    assert clock.tick(NOW - 60_000) == Stamp(NOW, 1, A)
    assert clock.tick(NOW - 1) == Stamp(NOW, 2, A)


def test_observing_moves_the_clock_past_the_peer_stamp():
    clock = HybridClock(A)
    clock.tick(NOW)
    ahead = Stamp(NOW + 1000, 7, B)
    received = clock.observe(ahead, NOW + 10)
    assert received == Stamp(NOW + 1000, 8, A) and received > ahead
    assert clock.tick(NOW + 20) == Stamp(NOW + 1000, 9, A)  # still behind the peer's wall time: counting
    assert clock.tick(NOW + 2000) == Stamp(NOW + 2000, 0, A)  # the wall clock caught up


@pytest.mark.parametrize(
    "last, seen, now, expected",
    [
        (Stamp(NOW, 3, A), Stamp(NOW, 5, B), NOW, (NOW, 6)),  # all three equal: past both counters
        (Stamp(NOW, 3, A), Stamp(NOW - 9, 50, B), NOW - 1, (NOW, 4)),  # our own last is newest
        (Stamp(NOW, 3, A), Stamp(NOW + 9, 2, B), NOW + 1, (NOW + 9, 3)),  # the peer's is newest
        (Stamp(NOW, 3, A), Stamp(NOW + 9, 2, B), NOW + 10, (NOW + 10, 0)),  # the wall clock is newest
    ],
)
def test_observe_follows_the_paper(last, seen, now, expected):
    clock = HybridClock(A, last)
    assert clock.observe(seen, now) == Stamp(*expected, A)


def test_a_stamp_more_than_a_day_ahead_is_refused_and_changes_nothing():
    clock = HybridClock(A)
    before = clock.tick(NOW)
    assert clock.observe(Stamp(NOW + MAX_AHEAD_MS, 0, B), NOW) > before  # exactly a day ahead: taken
    last = clock.last
    with pytest.raises(ClockSkew) as refused:
        clock.observe(Stamp(NOW + MAX_AHEAD_MS + 1, 0, C), NOW)
    assert clock.last == last
    assert refused.value.code == "clock_skew" and isinstance(refused.value, WalletsyncError)
    assert C in str(refused.value)


def test_a_flood_inside_one_millisecond_moves_the_wall_time_on():
    clock = HybridClock(A, Stamp(NOW, MAX_COUNTER, A))
    assert clock.tick(NOW) == Stamp(NOW + 1, 0, A)


def test_stamps_order_by_wall_time_then_counter_then_device():
    assert Stamp(1, 9, B) < Stamp(2, 0, A)
    assert Stamp(2, 0, B) < Stamp(2, 1, A)
    assert Stamp(2, 1, A) < Stamp(2, 1, B)


def test_a_clock_resumes_from_its_own_last_stamp_only():
    assert HybridClock(A, Stamp(NOW, 4, A)).tick(NOW) == Stamp(NOW, 5, A)
    with pytest.raises(ClockError):
        HybridClock(A, Stamp(NOW, 4, B))
    with pytest.raises(ClockError):
        HybridClock("A")
    with pytest.raises(ClockError):
        HybridClock(A).tick(-1)


@pytest.mark.parametrize(
    "args", [(-1, 0, A), (0, -1, A), (2**53, 0, A), (0, 2**32, A), (True, 0, A), (0, 0, "A" * 32), (0, 0, "a")]
)
def test_a_stamp_out_of_range_is_refused(args):
    with pytest.raises(ClockError):
        Stamp(*args)


def test_the_encoding_is_compact_and_round_trips():
    stamp = Stamp(NOW, 12, A)
    assert stamp.encode() == f"{NOW}:12:{A}"
    assert Stamp.decode(stamp.encode()) == stamp


@pytest.mark.parametrize(
    "text",
    [f"01:0:{A}", f"1:00:{A}", f"-1:0:{A}", f"1:0:{A.upper()}", f"1:0:{A} ", f"1:0:{A}:", "1:0", 17, None, [1, 0, A]],
)
def test_only_the_one_spelling_decodes(text):
    with pytest.raises(ClockError):
        Stamp.decode(text)


stamps = st.builds(Stamp, st.integers(0, 2**53 - 1), st.integers(0, MAX_COUNTER), st.sampled_from([A, B, C]))


@PROPERTY
@given(stamps)
def test_every_stamp_round_trips(stamp):
    assert Stamp.decode(stamp.encode()) == stamp


@PROPERTY
@given(st.one_of(st.text(max_size=80), st.text(alphabet="0123456789:abcdef", max_size=60)))
def test_decoding_any_text_gives_a_stamp_or_a_clock_error(text):
    try:
        stamp = Stamp.decode(text)
    except ClockError:
        return
    assert stamp.encode() == text


events = st.lists(
    st.tuples(
        st.integers(-5_000, 5_000),  # the wall clock's step (it may go back)
        st.none() | st.tuples(st.integers(-10_000, MAX_AHEAD_MS + 10_000), st.integers(0, 50)),  # a peer's stamp
    ),
    max_size=40,
)


@PROPERTY
@given(events)
def test_stamps_only_grow_and_pass_everything_observed(steps):
    clock = HybridClock(A)
    now, issued, newest_seen = NOW, [], None
    latest_now = now
    for step, peer in steps:
        now += step
        latest_now = max(latest_now, now)
        if peer is None:
            issued.append(clock.tick(now))
        else:
            seen = Stamp(now + peer[0], peer[1], B)
            try:
                issued.append(clock.observe(seen, now))
            except ClockSkew:
                assert peer[0] > MAX_AHEAD_MS
                continue
            newest_seen = max(newest_seen or seen, seen)
            assert issued[-1] > seen
        # close to real time: never ahead of both the latest wall time and everything seen
        assert issued[-1].wall_ms <= max(latest_now, newest_seen.wall_ms if newest_seen else 0)
    assert issued == sorted(issued) and len(set(issued)) == len(issued)
