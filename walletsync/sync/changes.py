"""What devices send each other: a change is a few register writes stamped by its author.

Everything here may come from a peer, so everything is checked when it is built (entity and field
spelling, value size, the number of writes) and a broken one is a typed :class:`StateError`, never a
crash. Values are kept as their canonical JSON, which is also how they are compared and measured:
two devices holding the same writes hold the same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal, get_args

from walletsync.errors import WalletsyncError
from walletsync.sync.clock import ClockError, Stamp
from walletsync.sync.ids import is_device_id

Kind = Literal["set", "max", "once", "end"]
KINDS: tuple[Kind, ...] = get_args(Kind)

END_FIELD = "ended"
"""The field an ``end`` write goes to (and the only one it may): an entity's tombstone, who ended it and why."""
MAX_VALUE_BYTES = 16 * 1024
"""A write's value, as canonical JSON."""
MAX_WRITES = 64
"""Writes in one change."""
MAX_SEQ = 2**53 - 1
MAX_DEPTH = 32
"""Nesting of lists and objects inside one value."""
MAX_INT = 2**63 - 1

_ENTITY = re.compile(r"[a-z][a-z0-9_]{0,31}(/[A-Za-z0-9._:-]{1,128}){0,4}")
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_ENTITY_CHARS = 256


class StateError(WalletsyncError):
    """The shared state refused something: a malformed change or snapshot, or too much held back."""

    code = "sync_state"


class InvalidChange(StateError):
    """A change (or one of its writes) that breaks the rules: spelling, sizes, kinds, its author's stamp."""

    code = "invalid_change"


class InvalidSnapshot(StateError):
    """A snapshot that is not one :meth:`GroupState.to_snapshot` could have written."""

    code = "invalid_snapshot"


class HoldFull(StateError):
    """Too many changes (or bytes) are waiting for an earlier one; this one was not kept."""

    code = "hold_full"


# --- entity keys ---------------------------------------------------------------------------------


def session_entity(topic: str) -> str:
    return f"session/{topic}"


def request_entity(topic: str, request_id: int) -> str:
    return f"request/{topic}/{request_id}"


def device_entity(device: str) -> str:
    return f"device/{device}"


def audit_entity(device: str, seq: int) -> str:
    return f"audit/{device}/{seq}"


def watch_entity(address: str) -> str:
    """A watched address (lower-case: one entity per account, whatever case a device typed)."""
    return f"watch/{address.lower()}"


def is_entity(value: object) -> bool:
    """``kind/part[/part…]``: a lowercase kind, then up to four parts of letters, digits and ``._:-``."""
    return isinstance(value, str) and len(value) <= MAX_ENTITY_CHARS and _ENTITY.fullmatch(value) is not None


def is_field(value: object) -> bool:
    """A lowercase identifier of at most 64 characters."""
    return isinstance(value, str) and _FIELD.fullmatch(value) is not None


# --- values ----------------------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, ASCII only: one spelling per JSON value (``value`` must already be checked)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def canonical_value(value: object, error: type[StateError] = InvalidChange) -> str:
    """Check that ``value`` is plain JSON of bounded depth and size; its canonical JSON, else ``error``."""
    _check_json(value, 0, error)
    text = canonical(value)
    if len(text) > MAX_VALUE_BYTES:
        raise error(f"a value is at most {MAX_VALUE_BYTES} bytes of JSON")
    return text


def _check_json(value: object, depth: int, error: type[StateError]) -> None:
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise error("an integer in a value fits in 64 bits")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise error("a number in a value is finite")
    elif isinstance(value, (list, tuple, dict)):
        if depth >= MAX_DEPTH:
            raise error(f"a value nests at most {MAX_DEPTH} lists and objects")
        if isinstance(value, dict):
            if not all(isinstance(key, str) for key in value):
                raise error("an object's keys in a value are strings")
            value = list(value.values())
        for item in value:
            _check_json(item, depth + 1, error)
    else:
        raise error(f"a value is JSON, not {type(value).__name__}")


# --- writes and changes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """One register write: ``kind`` says how concurrent writes to ``entity``'s ``field`` merge."""

    entity: str
    field: str
    kind: Kind
    value: Any = dataclass_field(compare=False)
    canonical: str = dataclass_field(init=False, repr=False)
    """``value`` as canonical JSON: what is stored, compared and sent."""

    def __post_init__(self) -> None:
        if not is_entity(self.entity):
            raise InvalidChange("an entity is 'kind/part[/part…]' in letters, digits and ._:- (at most 256)")
        if not is_field(self.field):
            raise InvalidChange("a field is a lowercase identifier of at most 64 characters")
        if self.kind not in KINDS:
            raise InvalidChange(f"a write's kind is one of {', '.join(KINDS)}")
        if (self.kind == "end") != (self.field == END_FIELD):
            raise InvalidChange(f"an 'end' write, and only it, goes to the field {END_FIELD!r}")
        if self.kind == "max" and not (type(self.value) is int and -MAX_INT <= self.value <= MAX_INT):
            raise InvalidChange("a 'max' write's value is an integer")
        object.__setattr__(self, "canonical", canonical_value(self.value))

    def to_json(self) -> list[Any]:
        return [self.entity, self.field, self.kind, json.loads(self.canonical)]

    @classmethod
    def from_json(cls, data: object) -> Write:
        """Read ``[entity, field, kind, value]`` (peer input); :class:`InvalidChange` if it is anything else."""
        if not (isinstance(data, list) and len(data) == 4):
            raise InvalidChange("a write is [entity, field, kind, value]")
        entity, field_, kind, value = data
        if kind not in KINDS:
            raise InvalidChange(f"a write's kind is one of {', '.join(KINDS)}")
        return cls(entity, field_, kind, value)


@dataclass(frozen=True)
class Change:
    """Writes one device made at once: its ``seq``-th change, stamped by its clock."""

    device: str
    seq: int
    stamp: Stamp
    writes: tuple[Write, ...]
    size: int = dataclass_field(init=False, repr=False, compare=False)
    """About how many bytes it takes to send or hold (what the hold's byte bound counts)."""

    def __post_init__(self) -> None:
        if not is_device_id(self.device):
            raise InvalidChange("a change's device is a device id (32 lowercase hex characters)")
        if not (type(self.seq) is int and 1 <= self.seq <= MAX_SEQ):
            raise InvalidChange("a change's seq is a positive integer")
        if not isinstance(self.stamp, Stamp) or self.stamp.device != self.device:
            raise InvalidChange("a change is stamped by its own device's clock")
        writes = self.writes
        if not (isinstance(writes, tuple) and all(isinstance(w, Write) for w in writes)):
            raise InvalidChange("a change's writes are a tuple of Write")
        if len(writes) > MAX_WRITES:
            raise InvalidChange(f"a change has at most {MAX_WRITES} writes")
        if len({(w.entity, w.field) for w in writes}) != len(writes):
            raise InvalidChange("a change writes each field once")
        size = 64 + sum(len(w.entity) + len(w.field) + len(w.canonical) + 16 for w in writes)
        object.__setattr__(self, "size", size)

    def to_json(self) -> dict[str, Any]:
        """What a device sends: a JSON object :meth:`from_json` reads back."""
        return {
            "device": self.device,
            "seq": self.seq,
            "stamp": self.stamp.encode(),
            "writes": [w.to_json() for w in self.writes],
        }

    @classmethod
    def from_json(cls, data: object) -> Change:
        """Read a peer's change; :class:`InvalidChange` for anything :meth:`to_json` could not have written."""
        if not (isinstance(data, dict) and set(data) == {"device", "seq", "stamp", "writes"}):
            raise InvalidChange("a change is an object of device, seq, stamp and writes")
        writes = data["writes"]
        if not isinstance(writes, list) or len(writes) > MAX_WRITES:
            raise InvalidChange(f"a change's writes are a list of at most {MAX_WRITES}")
        try:
            stamp = Stamp.decode(data["stamp"])
        except ClockError as error:
            raise InvalidChange(f"a change's stamp: {error}") from None
        return cls(data["device"], data["seq"], stamp, tuple(Write.from_json(w) for w in writes))
