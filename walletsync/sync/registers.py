"""One field of the shared state and the one way two copies of it merge (:func:`join`).

``join`` is commutative, associative and idempotent, and applying a write is joining the register
that write alone would make: so a field's value depends only on the set of writes a device has,
never on their order or on how many times one arrived. The kinds:

- ``set``: the newest write by stamp wins; the next :data:`HISTORY` newest stay as its history.
- ``max``: the largest integer wins (a session's expiry); equal values keep the newer stamp.
- ``once``: the oldest write by stamp wins (a session's keys, a request's body, its answer).
- ``end``: like ``once``, on the field ``ended``: the entity's tombstone, who ended it and why.

Should peers ever write one field with two kinds, the kind later in ``set, max, once, end`` wins
and the other writes are dropped: still the same answer everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from walletsync.sync.changes import END_FIELD, KINDS, MAX_INT, InvalidSnapshot, Kind, canonical_value
from walletsync.sync.clock import ClockError, Stamp

HISTORY = 8
"""Losing ``set`` values a field keeps (the newest by stamp)."""

Entry = tuple[Stamp, str]
"""A stamp and the canonical JSON of the value written with it."""

_RANK: dict[Kind, int] = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Register:
    """A field's merged writes; ``entries[0]`` is the winner (``set`` keeps its history after it, newest first)."""

    kind: Kind
    entries: tuple[Entry, ...]

    @classmethod
    def written(cls, kind: Kind, stamp: Stamp, canonical: str) -> Register:
        """The register one write alone makes."""
        return cls(kind, ((stamp, canonical),))

    @property
    def stamp(self) -> Stamp:
        return self.entries[0][0]

    @property
    def value(self) -> Any:
        """The winning value (a fresh copy: the register itself never changes)."""
        return json.loads(self.entries[0][1])

    def history(self) -> list[tuple[Stamp, Any]]:
        """The losing values kept (``set`` only), newest first."""
        return [(stamp, json.loads(text)) for stamp, text in self.entries[1:]]

    def to_json(self) -> dict[str, Any]:
        return {"entries": [[stamp.encode(), json.loads(text)] for stamp, text in self.entries], "kind": self.kind}

    @classmethod
    def from_json(cls, field: str, data: object) -> Register:
        """Read a register of a snapshot (peer input) and fold its entries as writes; else :class:`InvalidSnapshot`."""
        if not (isinstance(data, dict) and set(data) == {"kind", "entries"} and data["kind"] in KINDS):
            raise InvalidSnapshot(f"a register is an object of kind ({', '.join(KINDS)}) and entries")
        kind: Kind = data["kind"]
        entries = data["entries"]
        if (kind == "end") != (field == END_FIELD):
            raise InvalidSnapshot(f"an 'end' register, and only it, is the field {END_FIELD!r}")
        most = HISTORY + 1 if kind == "set" else 1
        if not (isinstance(entries, list) and 1 <= len(entries) <= most):
            raise InvalidSnapshot(f"a {kind!r} register has 1 to {most} entries")
        register: Register | None = None
        for entry in entries:
            if not (isinstance(entry, list) and len(entry) == 2):
                raise InvalidSnapshot("a register's entry is [stamp, value]")
            try:
                stamp = Stamp.decode(entry[0])
            except ClockError as error:
                raise InvalidSnapshot(f"a register's stamp: {error}") from None
            if kind == "max" and not (type(entry[1]) is int and -MAX_INT <= entry[1] <= MAX_INT):
                raise InvalidSnapshot("a 'max' register's value is an integer")
            one = cls.written(kind, stamp, canonical_value(entry[1], InvalidSnapshot))
            register = one if register is None else join(register, one)
        assert register is not None
        return register


def join(a: Register, b: Register) -> Register:
    """The register holding both ``a``'s and ``b``'s writes (the least upper bound of the two)."""
    if a.kind != b.kind:
        return a if _RANK[a.kind] > _RANK[b.kind] else b
    if a.kind == "set":
        # Newest first; equal stamps (a device that reused one) fall back to the value, so the order is total.
        return Register("set", tuple(sorted(set(a.entries) | set(b.entries), reverse=True)[: HISTORY + 1]))
    if a.kind == "max":
        return max(a, b, key=lambda r: (int(r.entries[0][1]), r.entries[0]))
    return min(a, b, key=lambda r: r.entries[0])
