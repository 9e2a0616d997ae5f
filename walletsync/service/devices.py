"""This device's place in its device group (docs/SYNC.md): the membership and data keys, kept in the store.

A device that never linked is in no group. Showing a link founds a group of one (a genesis entry
and epoch 1's data key); joining replaces that with the group the member sent. The membership rules
are :mod:`walletsync.sync.membership`'s; this module keeps their entries and keys in the store and
turns them into what the user sees.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from walletsync.audit import AuditEntry
from walletsync.errors import WalletsyncError
from walletsync.store.db import Database
from walletsync.store.group_rows import GroupRow
from walletsync.store.keys import DeviceSecrets
from walletsync.sync.keys import DeviceCard, DeviceKeys, EpochKey, check_device_name
from walletsync.sync.membership import Entry, Membership, MembershipError, found

WELCOME_VERSION = 1
MAX_DEVICE_NAME = 64


class DeviceGroupError(WalletsyncError):
    """A device-group action that cannot be done as asked (already in a group, unknown device, …)."""

    code = "device_group"


class WelcomeInvalid(DeviceGroupError):
    """The group a member sent does not hold together (bad entries, no key, this device not a member)."""

    code = "welcome_invalid"


@dataclass(frozen=True)
class DeviceAuditEntry:
    """One audit row of some device of the group, with the device it came from."""

    device: str
    device_name: str
    this_device: bool
    entry: AuditEntry

    def to_json(self) -> dict[str, Any]:
        return {**self.entry.to_json(), "device": self.device, "device_name": self.device_name}


@dataclass(frozen=True)
class DeviceRecord:
    """A member of the group as ``walletsync devices`` shows it."""

    name: str
    id: str
    this_device: bool
    linked_at: int
    """Unix seconds: when the device joined (its ``add`` entry, or the genesis)."""
    last_seen: int | None
    """Unix seconds: when this device last heard from it (None: never; always now for this device)."""
    status: str
    """``this device``, ``in sync``, ``N changes behind`` or ``not heard from``."""
    behind: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.id,
            "this_device": self.this_device,
            "linked_at": self.linked_at,
            "last_seen": self.last_seen,
            "status": self.status,
            "behind": self.behind,
        }


def default_device_name() -> str:
    """The machine's host name, as a starting point the user can rename."""
    try:
        return check_device_name(socket.gethostname()[:MAX_DEVICE_NAME] or "this device")
    except WalletsyncError:
        return "this device"


class DeviceGroup:
    """The membership this device holds, loaded from and saved to ``db`` (no relay here)."""

    def __init__(
        self, db: Database, secrets: DeviceSecrets, clock: Callable[[], float], random: Callable[[int], bytes]
    ):
        self.db, self.clock, self.random = db, clock, random
        self.keys = DeviceKeys(secrets.identity_seed)
        self.membership = self._load()

    def reload(self) -> bool:
        """Re-read the membership if another process changed it (linked, joined, revoked); True if it did."""
        stored = len(self.db.group_entries())
        known = len(self.membership.entries()) if self.membership else 0
        if stored == known:
            return False
        self.membership = self._load()
        return True

    def _load(self) -> Membership | None:
        bodies = self.db.group_entries()
        if not bodies:
            return None
        return _membership_of([Entry.from_bytes(body) for body in bodies])

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    @property
    def joined(self) -> bool:
        """True once this device is in a group (it founded one by showing a link, or joined one)."""
        return self.membership is not None

    @property
    def alone(self) -> bool:
        """True when no other device is a member (or there is no group yet)."""
        return self.membership is None or set(self.membership.members()) == {self.keys.id}

    def card(self) -> DeviceCard:
        """This device's public card under its name in the group."""
        row = self.db.group()
        return self.keys.card(row.device_name if row else default_device_name())

    def found(self, name: str | None = None) -> Membership:
        """The group this device is in, founded now (a group of one) if there is none."""
        if self.membership is not None:
            return self.membership
        name = check_device_name(name or default_device_name())
        membership, key = found(self.keys, name, at=self._now_ms(), random=self.random)
        with self.db.transaction():
            self._keep(membership.entries())
            self.db.save_epoch_key(key.epoch, key.key)
            self.db.save_group(GroupRow(membership.group_id, name, int(self.clock()), 1, None))
        self.membership = membership
        return membership

    def _keep(self, entries: list[Entry]) -> None:
        now = int(self.clock())
        for entry in entries:
            self.db.add_group_entry(entry.hash, entry.to_bytes(), now)

    def add(self, card: DeviceCard) -> Entry:
        """Make ``card``'s device a member (after both users confirmed the code); the entry is stored."""
        membership = self.found()
        entry = membership.add(self.keys, card, at=self._now_ms())
        with self.db.transaction():
            self._keep([entry])
        return entry

    def accept(self, entry: Entry) -> list[Entry] | None:
        """Keep a membership entry a member published; returns the entries newly accepted (it, and held ones it
        released), or None if it was known or waits for its parents. A revoke or rekey that wraps a key to
        this device stores that key. The caller holds the transaction."""
        membership = self.membership
        if membership is None or membership.entry(entry.hash) is not None:
            return None
        if not membership.add_entry(entry):
            refusals = membership.take_refusals()
            if refusals:
                raise refusals[0]
            return None  # held until its parents arrive
        fresh = [e for e in membership.entries() if self.db.add_group_entry(e.hash, e.to_bytes(), int(self.clock()))]
        for kept in fresh:
            if kept.kind in ("revoke", "rekey") and self.keys.id in kept.wraps:
                key = membership.epoch_key_for(self.keys, kept)
                self.db.save_epoch_key(key.epoch, key.key)
        return fresh

    def revoke(self, device: str) -> tuple[Entry, EpochKey]:
        """Remove ``device`` from the group: a new epoch whose key only the remaining members get (stored)."""
        membership = self.membership
        if membership is None or not membership.is_member(device):
            raise DeviceGroupError("that device is not a member of this group")
        if device == self.keys.id:
            raise DeviceGroupError("a device cannot revoke itself: revoke it from another device of the group")
        entry, key = membership.revoke(self.keys, device, at=self._now_ms(), random=self.random)
        self._keep([entry])
        self.db.save_epoch_key(key.epoch, key.key)
        return entry, key

    def should_rekey(self) -> bool:
        """True when no epoch is held by members only (concurrent revokes) and this device is the one to fix it:
        the member with the lowest id, so that one device, not all, issues the ``rekey``."""
        membership = self.membership
        if membership is None or self.revoked_here or not membership.needs_rekey():
            return False
        return self.keys.id == min(membership.members())

    def rekey(self) -> EpochKey:
        """A new epoch whose key every current member gets (stored); the caller holds the transaction."""
        assert self.membership is not None
        entry, key = self.membership.rekey(self.keys, at=self._now_ms(), random=self.random)
        self._keep([entry])
        self.db.save_epoch_key(key.epoch, key.key)
        return key

    @property
    def revoked_here(self) -> bool:
        """True when a member revoked this device: it is out of the group and reads nothing new."""
        return self.membership is not None and self.keys.id in self.membership.revoked()

    def find(self, ref: str, names: dict[str, str]) -> str:
        """A member's id by its name (as shown) or a unique id prefix (at least 4 characters)."""
        members = set(self.membership.members()) if self.membership else {self.keys.id}
        named = [d for d in members if names.get(d, "").casefold() == ref.casefold()]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise DeviceGroupError(f"several devices are named {ref!r}: use the id")
        prefixed = [d for d in members if len(ref) >= 4 and d.startswith(ref.lower())]
        if len(prefixed) == 1:
            return prefixed[0]
        raise DeviceGroupError(f"no device of the group is named {ref!r} (walletsync devices lists them)")

    def welcome(self, state: dict[str, Any]) -> bytes:
        """What a new member needs: every membership entry, the data keys this device holds (secret) and the
        shared ``state`` (a snapshot)."""
        membership = self.found()
        keys = {str(epoch): base64.b64encode(key).decode("ascii") for epoch, key in self.db.epoch_keys().items()}
        entries = [e.to_json() for e in membership.entries()]
        document = {"v": WELCOME_VERSION, "entries": entries, "keys": keys, "state": state}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def install(self, payload: bytes, name: str) -> dict[str, Any]:
        """Join the group a member sent (:meth:`welcome`): keep its entries and keys, replacing a group of one.

        Returns the shared state's snapshot it carried, for the caller to merge."""
        if not self.alone:
            raise DeviceGroupError("this device is already in a group with other devices")
        try:
            document = json.loads(payload)
            if not isinstance(document, dict) or document.get("v") != WELCOME_VERSION:
                raise WelcomeInvalid("the member sent a group this walletsync does not understand")
            membership = _membership_of([Entry.from_json(e) for e in document["entries"]])
            keys = [EpochKey(int(epoch), base64.b64decode(key)) for epoch, key in document["keys"].items()]
            state = document["state"]
            if not isinstance(state, dict):
                raise WelcomeInvalid("the member sent no shared state")
        except (ValueError, KeyError, TypeError, AttributeError, MembershipError, WalletsyncError) as exc:
            if isinstance(exc, WelcomeInvalid):
                raise
            raise WelcomeInvalid(f"the group the member sent is not valid ({type(exc).__name__})") from None
        if not membership.is_member(self.keys.id):
            raise WelcomeInvalid("the group the member sent does not list this device")
        if not keys:
            raise WelcomeInvalid("the member sent no data key")
        with self.db.transaction():
            self.db.leave_group()
            self._keep(membership.entries())
            for key in keys:
                self.db.save_epoch_key(key.epoch, key.key)
            self.db.save_group(GroupRow(membership.group_id, check_device_name(name), int(self.clock()), 1, None))
        self.membership = membership
        return state

    def cards_ever(self) -> dict[str, DeviceCard]:
        """Every device that was ever a member (revoked ones too: their audit rows still verify)."""
        if self.membership is None:
            return {self.keys.id: self.card()}
        return {e.device: e.card for e in self.membership.entries() if e.card is not None and e.device}

    def devices(self, vector: dict[str, int] | None = None, names: dict[str, str] | None = None) -> list[DeviceRecord]:
        """Every member, this device first, then by name; ``vector`` (what this device applied) gives each
        other member's status: how many of those changes it has not said it applied."""
        if self.membership is None:
            card = self.card()
            return [DeviceRecord(card.name, card.id, True, int(self.clock()), int(self.clock()), "this device", 0)]
        seen = self.db.devices_seen()
        linked = _linked_at(self.membership)
        records = []
        members = dict(self.membership.members())
        if self.revoked_here:
            members[self.keys.id] = self.card()
        for device, card in members.items():
            mine = device == self.keys.id
            last = int(self.clock()) if mine else (seen[device][0] if device in seen else None)
            applied = _applied(seen.get(device))
            behind = (
                0 if mine or applied is None else sum(max(0, n - applied.get(d, 0)) for d, n in (vector or {}).items())
            )
            if mine:
                status = "this device (revoked: it reads nothing new)" if self.revoked_here else "this device"
            elif last is None or applied is None:
                status = "not heard from"
            else:
                status = "in sync" if behind == 0 else f"{behind} change{'s' if behind != 1 else ''} behind"
            name = (names or {}).get(device, card.name)
            records.append(DeviceRecord(name, device, mine, linked.get(device, 0), last, status, behind))
        return sorted(records, key=lambda r: (not r.this_device, r.name.casefold(), r.id))


def _membership_of(entries: list[Entry]) -> Membership:
    genesis = [e for e in entries if e.kind == "genesis"]
    if len(genesis) != 1:
        raise MembershipError("malformed", "a group has exactly one genesis entry")
    membership = Membership(genesis[0])
    for entry in entries:
        membership.add_entry(entry)
    return membership


def _linked_at(membership: Membership) -> dict[str, int]:
    """Per device, when the entry that made it a member was signed (unix seconds)."""
    return {e.device: e.at // 1000 for e in membership.entries() if e.kind in ("genesis", "add") and e.device}


def _applied(seen: tuple[int, str | None] | None) -> dict[str, int] | None:
    """The version vector a member last reported (its hello), or None if it never said."""
    if not seen or not seen[1] or not seen[1].startswith("{"):
        return None
    try:
        value = json.loads(seen[1])
    except ValueError:
        return None
    return {k: v for k, v in value.items() if isinstance(v, int)} if isinstance(value, dict) else None
