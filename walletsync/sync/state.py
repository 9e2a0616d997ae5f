"""The device group's shared state: registers every device merges the same way (a state-based CRDT).

Each device applies its own changes and its peers' (:meth:`GroupState.apply`), or takes in a whole
peer's state at once (:meth:`GroupState.merge` of a snapshot). Any order, duplication or delay of
those ends in the same state, byte for byte (:func:`walletsync.sync.changes.canonical` of
:meth:`GroupState.to_snapshot`), because:

- a field is a :class:`~walletsync.sync.registers.Register` and both applying a write and merging
  a snapshot are its ``join``;
- changes are applied per device in ``seq`` order only (a later one waits in a bounded hold until
  the gap fills), so what a device has applied is exactly what its version vector covers, and a
  snapshot's registers are exactly the changes its vector covers.

How the service drives it (it owns the clock, the time and the relay)::

    change = Change.from_json(body)           # a peer's change, after the envelope checked who sent it
    clock.observe(change.stamp, now_ms)       # ClockSkew: refused, nothing applied
    state.apply(change)                       # False: a duplicate, or held until state.missing() arrives

    peer = GroupState.from_snapshot(data)     # catching up after being offline past the relay's TTL
    if (newest := peer.newest_stamp()) is not None:
        clock.observe(newest, now_ms)         # one clock check covers every stamp in it
    state.merge(peer)

An ended entity (an ``end`` write in its field ``ended``) stays ended: later or concurrent ``set``
and ``max`` writes to it are still merged, so the state stays a function of the writes alone, but
:meth:`GroupState.is_ended` and :meth:`GroupState.entities` say it is ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from walletsync.sync.changes import (
    END_FIELD,
    MAX_SEQ,
    Change,
    HoldFull,
    InvalidChange,
    InvalidSnapshot,
    Kind,
    canonical,
    is_entity,
    is_field,
)
from walletsync.sync.clock import Stamp
from walletsync.sync.ids import is_device_id
from walletsync.sync.registers import Register, join

SNAPSHOT_VERSION = 1
MAX_HELD = 512
"""Changes waiting for an earlier change of their device, over all devices."""
MAX_HELD_BYTES = 4 * 1024 * 1024
"""Their total :attr:`Change.size`."""

Snapshot = dict[str, Any]


class GroupState:
    """Registers per (entity, field), the version vector, and the changes held until their gap fills."""

    def __init__(self) -> None:
        self._registers: dict[str, dict[str, Register]] = {}
        self._vector: dict[str, int] = {}
        self._held: dict[str, dict[int, Change]] = {}
        self._held_bytes = 0
        self._dirty: set[str] = set()

    # --- changes ---------------------------------------------------------------------------------

    def apply(self, change: Change) -> bool:
        """Apply ``change`` if it is its device's next; True when it (and any held ones it unblocked) applied now.

        A change already covered by the version vector is a no-op (False). One that comes early is held
        (False) until the changes before it arrive; :class:`HoldFull` when the hold is full (it is dropped:
        ask again later), :class:`InvalidChange` when a different change with its device and seq is held.
        """
        if not isinstance(change, Change):
            raise InvalidChange("apply takes a Change")
        applied = self._vector.get(change.device, 0)
        if change.seq <= applied:
            return False
        if change.seq > applied + 1:
            self._hold(change)
            return False
        self._write(change)
        self._release(change.device)
        return True

    def missing(self, heads: Mapping[str, int] | None = None) -> dict[str, int]:
        """Per device, the first seq still missing: what to ask peers for.

        Devices with held changes are missing something; so is any device whose seq in ``heads`` (what
        peers say exists, e.g. a peer snapshot's :attr:`vector`) is past ours: after a restart the hold
        is empty and only the peers know what this device never saw.
        """
        behind = {device for device, seq in (heads or {}).items() if seq > self._vector.get(device, 0)}
        return {device: self._vector.get(device, 0) + 1 for device in sorted(behind | set(self._held))}

    @property
    def vector(self) -> dict[str, int]:
        """Per device, the highest seq applied with none missing below (a copy)."""
        return dict(sorted(self._vector.items()))

    @property
    def held(self) -> int:
        """How many changes wait for an earlier one."""
        return sum(len(changes) for changes in self._held.values())

    def _write(self, change: Change) -> None:
        for write in change.writes:
            fields = self._registers.setdefault(write.entity, {})
            one = Register.written(write.kind, change.stamp, write.canonical)
            old = fields.get(write.field)
            joined = one if old is None else join(old, one)
            if joined != old:  # a write the register already holds (a second "once", say) changes nothing
                fields[write.field] = joined
                self._dirty.add(write.entity)
        self._vector[change.device] = change.seq

    def _hold(self, change: Change) -> None:
        waiting = self._held.setdefault(change.device, {})
        known = waiting.get(change.seq)
        if known is not None:
            if known != change:
                raise InvalidChange(f"device {change.device} sent two different changes numbered {change.seq}")
            return
        if self.held >= MAX_HELD or self._held_bytes + change.size > MAX_HELD_BYTES:
            if not waiting:
                del self._held[change.device]
            raise HoldFull(f"{MAX_HELD} changes or {MAX_HELD_BYTES} bytes already wait for earlier ones")
        waiting[change.seq] = change
        self._held_bytes += change.size

    def _release(self, device: str) -> None:
        """Drop what the vector now covers, then apply held changes while they follow on."""
        waiting = self._held.get(device)
        if waiting is None:
            return
        for seq in [seq for seq in waiting if seq <= self._vector.get(device, 0)]:
            self._held_bytes -= waiting.pop(seq).size
        while (following := waiting.pop(self._vector.get(device, 0) + 1, None)) is not None:
            self._held_bytes -= following.size
            self._write(following)
        if not waiting:
            del self._held[device]

    # --- snapshots ---------------------------------------------------------------------------------

    def merge(self, other: GroupState | Mapping[str, Any]) -> None:
        """Take in another device's state (a :class:`GroupState` or its snapshot, read as peer input).

        Register-wise join and the version vectors' maximum; held changes the result covers are
        dropped and those that now follow on are applied. A malformed snapshot raises
        :class:`InvalidSnapshot` and changes nothing.
        """
        peer = other if isinstance(other, GroupState) else GroupState.from_snapshot(other)
        for entity, fields in peer._registers.items():
            mine = self._registers.setdefault(entity, {})
            for name, register in fields.items():
                old = mine.get(name)
                joined = register if old is None else join(old, register)
                if joined != old:
                    mine[name] = joined
                    self._dirty.add(entity)
        for device, seq in peer._vector.items():
            self._vector[device] = max(seq, self._vector.get(device, 0))
        for device in list(self._held):
            self._release(device)

    def to_snapshot(self) -> Snapshot:
        """The state and version vector as plain JSON in sorted order (held changes are not part of it)."""
        return {
            "registers": {
                entity: {name: self._registers[entity][name].to_json() for name in sorted(self._registers[entity])}
                for entity in sorted(self._registers)
            },
            "v": SNAPSHOT_VERSION,
            "vector": self.vector,
        }

    def snapshot_text(self) -> str:
        """``canonical(self.to_snapshot())``, built from the values' canonical JSON as held (no parse and re-dump).

        Entity, field and stamp spellings are checked to need no JSON escaping (:func:`is_entity`,
        :func:`is_field`, :meth:`Stamp.encode`), so quoting them is their canonical JSON.
        """
        entities = ",".join(f'"{entity}":{self._fields_text(entity)}' for entity in sorted(self._registers))
        return f'{{"registers":{{{entities}}},"v":{SNAPSHOT_VERSION},"vector":{canonical(self.vector)}}}'

    def _fields_text(self, entity: str) -> str:
        fields = self._registers[entity]
        registers = []
        for name in sorted(fields):
            register = fields[name]
            entries = ",".join(f'["{stamp.encode()}",{text}]' for stamp, text in register.entries)
            registers.append(f'"{name}":{{"entries":[{entries}],"kind":"{register.kind}"}}')
        return f"{{{','.join(registers)}}}"

    # --- kept entity by entity (the service stores only what a change touched) ---------------------------

    @property
    def dirty(self) -> bool:
        """Has anything been written since the last :meth:`take_dirty`?"""
        return bool(self._dirty)

    def take_dirty(self) -> set[str]:
        """The entities written (or changed by a merge) since the last call: what to store and project."""
        dirty, self._dirty = self._dirty, set()
        return dirty

    def entity_text(self, entity: str) -> str:
        """One entity's registers as canonical JSON ``[entity, {field: register}]``: what :meth:`from_parts` reads."""
        return f'["{entity}",{self._fields_text(entity)}]'

    def vector_text(self) -> str:
        """The version vector as canonical JSON: what :meth:`from_parts` reads with the entities."""
        return canonical({"v": SNAPSHOT_VERSION, "vector": self.vector})

    @classmethod
    def from_parts(cls, vector: object, entities: Iterable[object]) -> GroupState:
        """Read a state kept entity by entity: :meth:`vector_text` and :meth:`entity_text` of each entity, parsed.

        Checked as a snapshot is (:class:`InvalidSnapshot`); nothing is dirty in the result."""
        if not (isinstance(vector, dict) and set(vector) == {"v", "vector"}):
            raise InvalidSnapshot("a kept state's vector is an object of v and vector")
        registers: dict[str, object] = {}
        for item in entities:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
                raise InvalidSnapshot("a kept entity is [entity, fields]")
            registers[item[0]] = item[1]
        return cls.from_snapshot({"registers": registers, **vector})

    @classmethod
    def from_snapshot(cls, data: object) -> GroupState:
        """Read a snapshot (a peer's, or this device's own saved one); :class:`InvalidSnapshot` if malformed."""
        if not (isinstance(data, dict) and set(data) == {"registers", "v", "vector"}):
            raise InvalidSnapshot("a snapshot is an object of registers, v and vector")
        if type(data["v"]) is not int or data["v"] != SNAPSHOT_VERSION:
            raise InvalidSnapshot(f"this device reads snapshots of version {SNAPSHOT_VERSION}")
        state = cls()
        vector, registers = data["vector"], data["registers"]
        if not isinstance(vector, dict) or not isinstance(registers, dict):
            raise InvalidSnapshot("a snapshot's vector and registers are objects")
        for device, seq in vector.items():
            if not is_device_id(device) or not (type(seq) is int and 1 <= seq <= MAX_SEQ):
                raise InvalidSnapshot("a snapshot's vector maps device ids to positive seqs")
            state._vector[device] = seq
        for entity, fields in registers.items():
            if not is_entity(entity) or not isinstance(fields, dict) or not fields:
                raise InvalidSnapshot("a snapshot's registers map entities to objects of fields")
            for name, register in fields.items():
                if not is_field(name):
                    raise InvalidSnapshot("a snapshot's field is a lowercase identifier")
                state._registers.setdefault(entity, {})[name] = Register.from_json(name, register)
        return state

    def newest_stamp(self) -> Stamp | None:
        """The newest stamp anywhere in the state: what the clock checks and observes before a merge."""
        return max((r.entries[0][0] for fields in self._registers.values() for r in fields.values()), default=None)

    # --- views for the service ---------------------------------------------------------------------

    def entities(self, prefix: str = "", *, ended: bool | None = None) -> list[str]:
        """Entities starting with ``prefix``, sorted; ``ended=False`` only live ones, ``True`` only ended ones."""
        return [
            entity
            for entity in sorted(self._registers)
            if entity.startswith(prefix) and (ended is None or self.is_ended(entity) == ended)
        ]

    def is_ended(self, entity: str) -> bool:
        """Has any device ended ``entity``? Then it stays ended whatever else was written to it."""
        return END_FIELD in self._registers.get(entity, {})

    def get(self, entity: str, field: str, default: Any = None) -> Any:
        """The field's winning value (``get(entity, "ended")``: who ended it and why), else ``default``."""
        register = self._registers.get(entity, {}).get(field)
        return default if register is None else register.value

    def stamp(self, entity: str, field: str) -> Stamp | None:
        """When the winning value was written (the newest write kept, for ``set``)."""
        register = self._registers.get(entity, {}).get(field)
        return None if register is None else register.stamp

    def history(self, entity: str, field: str) -> list[tuple[Stamp, Any]]:
        """A ``set`` field's losing values kept (newest first): "also named … on …"."""
        register = self._registers.get(entity, {}).get(field)
        return [] if register is None else register.history()

    def fields(self, entity: str) -> dict[str, Any]:
        """Every field of ``entity`` with its winning value, sorted by name."""
        fields = self._registers.get(entity, {})
        return {name: fields[name].value for name in sorted(fields)}

    def kind(self, entity: str, field: str) -> Kind | None:
        """How the field merges (None when nothing was written to it)."""
        register = self._registers.get(entity, {}).get(field)
        return None if register is None else register.kind
