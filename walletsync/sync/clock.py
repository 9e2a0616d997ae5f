"""The device group's clock: a hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).

Every change a device makes is stamped ``(wall ms, counter, device id)``. Stamps are totally ordered,
monotone on each device and never behind a stamp the device has seen, yet stay close to real time,
so "the last writer wins" means what the user expects even when two devices' clocks disagree a little.

A peer's stamp more than :data:`MAX_AHEAD_MS` ahead of our own time is refused (:class:`ClockSkew`):
otherwise one device with a clock years ahead would win every last-writer register for years.
Time comes in as an argument (sans-IO); the caller persists :attr:`HybridClock.last`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from walletsync.errors import WalletsyncError
from walletsync.sync.ids import is_device_id

MAX_AHEAD_MS = 86_400_000
"""How far (one day) a peer's stamp may be ahead of our wall clock before it is refused."""
MAX_WALL_MS = 2**53 - 1
"""Wall times stay exact in a JSON number (and in JavaScript)."""
MAX_COUNTER = 2**32 - 1
"""The logical counter's bound; when it would pass it, the clock moves one millisecond on instead."""

_ENCODED = re.compile(r"(0|[1-9][0-9]{0,15}):(0|[1-9][0-9]{0,9}):([0-9a-f]{32})")


class ClockError(WalletsyncError):
    """A stamp that is malformed (peer input) or a clock used with a time it cannot take."""

    code = "invalid_stamp"


class ClockSkew(ClockError):
    """A peer's stamp is too far ahead of our time: its clock is wrong (or it lies); the change is refused."""

    code = "clock_skew"


def _is_int(value: object, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


@dataclass(frozen=True, order=True)
class Stamp:
    """One event's place in the group's order: wall time first, then the counter, then the device id."""

    wall_ms: int
    counter: int
    device: str

    def __post_init__(self) -> None:
        if not _is_int(self.wall_ms, 0, MAX_WALL_MS):
            raise ClockError(f"a stamp's wall time is an integer from 0 to {MAX_WALL_MS}")
        if not _is_int(self.counter, 0, MAX_COUNTER):
            raise ClockError(f"a stamp's counter is an integer from 0 to {MAX_COUNTER}")
        if not is_device_id(self.device):
            raise ClockError("a stamp's device is a device id (32 lowercase hex characters)")

    def encode(self) -> str:
        """``wall:counter:device`` in decimal: compact, JSON-able, and one spelling per stamp."""
        return f"{self.wall_ms}:{self.counter}:{self.device}"

    @classmethod
    def decode(cls, value: object) -> Stamp:
        """Read an encoded stamp (peer input): exactly what :meth:`encode` writes, else :class:`ClockError`."""
        match = _ENCODED.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise ClockError("a stamp is 'wall_ms:counter:device' (decimal, decimal, device id)")
        return cls(int(match[1]), int(match[2]), match[3])


def check_not_ahead(stamp: Stamp, now_ms: int) -> None:
    """Refuse a peer's stamp more than :data:`MAX_AHEAD_MS` ahead of ``now_ms`` (:class:`ClockSkew`)."""
    if stamp.wall_ms > now_ms + MAX_AHEAD_MS:
        ahead_s = (stamp.wall_ms - now_ms) // 1000
        raise ClockSkew(f"a stamp from device {stamp.device} is {ahead_s} s ahead of this device's clock")


class HybridClock:
    """One device's clock. ``last`` is the newest stamp it issued (persist it; pass it back after a restart)."""

    def __init__(self, device: str, last: Stamp | None = None) -> None:
        if not is_device_id(device):
            raise ClockError("a clock's device is a device id (32 lowercase hex characters)")
        if last is not None and last.device != device:
            raise ClockError("a clock resumes from a stamp of its own device")
        self.device = device
        self.last = last

    def tick(self, now_ms: int) -> Stamp:
        """The stamp of a local event (a change this device makes): after every stamp issued or observed."""
        _check_now(now_ms)
        wall, counter = self._last_pair()
        if now_ms > wall:
            return self._issue(now_ms, 0)
        return self._issue(wall, counter + 1)

    def observe(self, stamp: Stamp, now_ms: int) -> Stamp:
        """Take in a peer's stamp on receiving its change; returns the receive event's stamp (after both).

        Raises :class:`ClockSkew` (and changes nothing) when ``stamp`` is too far ahead of ``now_ms``.
        """
        _check_now(now_ms)
        check_not_ahead(stamp, now_ms)
        wall, counter = self._last_pair()
        new_wall = max(wall, stamp.wall_ms, now_ms)
        if new_wall == wall == stamp.wall_ms:
            return self._issue(new_wall, max(counter, stamp.counter) + 1)
        if new_wall == wall:
            return self._issue(new_wall, counter + 1)
        if new_wall == stamp.wall_ms:
            return self._issue(new_wall, stamp.counter + 1)
        return self._issue(new_wall, 0)

    def _last_pair(self) -> tuple[int, int]:
        # Before the first event the clock is "behind everything": any time starts it at counter 0.
        return (self.last.wall_ms, self.last.counter) if self.last else (-1, -1)

    def _issue(self, wall_ms: int, counter: int) -> Stamp:
        if counter > MAX_COUNTER:  # only a flood of events inside one millisecond gets here
            wall_ms, counter = wall_ms + 1, 0
        self.last = Stamp(wall_ms, counter, self.device)
        return self.last


def _check_now(now_ms: int) -> None:
    if not _is_int(now_ms, 0, MAX_WALL_MS - MAX_AHEAD_MS):
        raise ClockError("the time is an integer count of milliseconds since the epoch")
