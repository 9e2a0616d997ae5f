"""Who belongs to the device group: the rules every device applies to the signed, hash-linked entries.

An entry (:mod:`walletsync.sync.entries`: its canonical JSON, signature and hash) names in
``parents`` the hashes of the heads its author knew, so concurrent changes form a small DAG, and every
device decides from the entries alone, the same way whatever order they came in:

- ``genesis``: the founder's card, self-signed, no parents; its hash is the **group id** and every
  other entry names it in ``group``. It carries no key: the founder draws epoch 1's data key
  itself (:func:`found`) and the link handshake hands the current key to each device it adds.
- ``add``: a device's card, added by a member (the link's member side). The data key reaches the
  new device through the link, not through the entry.
- ``revoke``: a device removed by a member, and a new epoch's data key sealed (``SealedBox``) to
  each remaining member's exchange key: ``{device id: base64}``, the author included, the revoked
  device never.
- ``rekey``: a new epoch's data key sealed to every member, nobody removed. Concurrent revokes can
  leave the group with no epoch a revoked device does not know (:meth:`Membership.needs_rekey`);
  a rekey starts a clean one.

Names after linking live in the shared state, not here.

**Accepting an entry** (:meth:`Membership.add_entry`) depends only on its causal past (the entries
reachable through its parents), so every device accepts the same entries: the signature checks
with the author's key, the author is a member in that past, the group is ours, the sizes are
bounded, and for its kind: an ``add`` names a device neither a member nor revoked there; a
``revoke`` names a member other than its author and wraps the key to exactly the other members
there; a ``rekey`` wraps to exactly the members there. An entry whose parents are not known yet
is held (a bounded number) until they arrive.

What follows from the accepted entries, **who is a member** (revocation wins) and the **epochs**, is
decided in :mod:`walletsync.sync.accepted`.
"""

from __future__ import annotations

from walletsync.sync.accepted import EPOCH_KINDS, AcceptedEntries, Epoch
from walletsync.sync.entries import (
    DOMAIN,
    MAX_ENTRY_BYTES,
    Entry,
    Kind,
    MembershipError,
    sign_entry,
    wrap_body,
)
from walletsync.sync.keys import WRAPPED_KEY_BYTES, DeviceCard, DeviceKeys, EpochKey, Random

# The names the service and the tests import from here, the entry format's and the epochs' among them.
__all__ = [
    "DOMAIN",
    "MAX_ENTRY_BYTES",
    "WRAPPED_KEY_BYTES",
    "Entry",
    "Epoch",
    "Membership",
    "MembershipError",
    "found",
    "genesis",
    "sign_entry",
    "wrap_body",
]

MAX_ENTRIES = 4096
MAX_HELD = 256
"""Entries waiting for their parents; past this, :meth:`Membership.add_entry` refuses more."""
MAX_REFUSED_REMEMBERED = 1024

_NOT_REMEMBERED = frozenset({"bad_signature", "too_many_entries"})
"""Refusals that another copy of the same entry (same hash) might not earn: a forged signature, a full group."""


def genesis(me: DeviceKeys, name: str, *, at: int) -> Entry:
    """The first entry of a new group, founded by ``me`` under ``name``."""
    return sign_entry(me, "genesis", group="", parents=(), at=at, body={"device": me.card(name).to_json()})


def found(me: DeviceKeys, name: str, *, at: int, random: Random) -> tuple[Membership, EpochKey]:
    """A new group with ``me`` its only member, and epoch 1's data key (the founder keeps it)."""
    return Membership(genesis(me, name, at=at)), EpochKey.generate(1, random)


class Membership(AcceptedEntries):
    """One group's membership: entries accepted by the rules, and this device's own. Pure: no clock, no
    randomness of its own. Who is in and the epochs follow from the entries (:class:`AcceptedEntries`).

    Feed every entry a member sends with :meth:`add_entry` (any order; duplicates are ignored), and
    send a new member :meth:`entries`. Entries refused while being released from the held ones
    (their parents arrived later) are kept for :meth:`take_refusals`, for the audit.
    """

    def __init__(self, genesis_entry: Entry) -> None:
        if genesis_entry.kind != "genesis":
            raise MembershipError("malformed", "a membership starts with a genesis entry")
        card = genesis_entry.card
        assert card is not None
        if not genesis_entry.verify(card.signing_public):
            raise MembershipError("bad_signature", "the genesis is not signed by its founder", entry=genesis_entry.hash)
        super().__init__(genesis_entry)
        self._held: dict[str, list[Entry]] = {}
        """Entries waiting for parents, by hash: a copy with a forged signature must not crowd out the real one."""
        self._refused: dict[str, str] = {}
        """Hashes refused for what the entry says (so every copy would be), with the code."""
        self._refusals: list[MembershipError] = []

    # --- feeding entries

    def add_entry(self, entry: Entry) -> bool:
        """Accept ``entry`` if the rules allow; ``True`` if it (and maybe held ones after it) joined now.

        ``False``: already known, or held until its parents arrive. A refused entry raises
        :class:`MembershipError`; so does one more held entry past :data:`MAX_HELD`.
        """
        if not isinstance(entry, Entry):
            raise MembershipError("malformed", "not a membership entry")
        digest = entry.hash
        if digest in self._nodes or entry in self._held.get(digest, ()):
            return False
        if entry.kind == "genesis" or entry.group != self.group_id:
            raise MembershipError("wrong_group", "the entry belongs to another group", entry=digest)
        if digest in self._refused:
            raise MembershipError(self._refused[digest], "the entry was refused before", entry=digest)
        if any(p in self._refused for p in entry.parents):
            self._remember_refused(digest, "refused_parent")
            raise MembershipError("refused_parent", "the entry follows a refused entry", entry=digest)
        if not all(p in self._nodes for p in entry.parents):
            if self.held() >= MAX_HELD:
                raise MembershipError("too_many_held", f"more than {MAX_HELD} entries wait for parents", entry=digest)
            self._held.setdefault(digest, []).append(entry)
            return False
        try:
            self._accept(entry)
        finally:
            self._release()  # a refusal, too, settles the entries held for it
        return True

    def take_refusals(self) -> list[MembershipError]:
        """The errors of held entries refused when their parents arrived, since the last call."""
        refusals, self._refusals = self._refusals, []
        return refusals

    def held(self) -> int:
        """How many entries wait for parents."""
        return sum(len(copies) for copies in self._held.values())

    def _release(self) -> None:
        progress = True
        while progress and self._held:
            progress = False
            for digest, copies in list(self._held.items()):
                if any(p in self._refused for p in copies[0].parents):
                    del self._held[digest]
                    self._remember_refused(digest, "refused_parent")
                    self._refusals.append(
                        MembershipError("refused_parent", "the entry follows a refused entry", entry=digest)
                    )
                    progress = True
                elif all(p in self._nodes for p in copies[0].parents):
                    del self._held[digest]
                    progress = True
                    for entry in copies:
                        try:
                            self._accept(entry)
                            break
                        except MembershipError as exc:
                            self._refusals.append(exc)
                            if exc.code != "bad_signature":
                                break

    def _remember_refused(self, digest: str, code: str) -> None:
        self._refused[digest] = code
        while len(self._refused) > MAX_REFUSED_REMEMBERED:
            del self._refused[next(iter(self._refused))]

    def _accept(self, entry: Entry) -> None:
        """Check ``entry`` against its causal past (its parents are all known) and store it."""
        try:
            self._check(entry)
        except MembershipError as exc:
            exc.entry = entry.hash
            if exc.code not in _NOT_REMEMBERED:
                self._remember_refused(entry.hash, exc.code)
            raise

    def _check(self, entry: Entry) -> None:
        if len(self._order) >= MAX_ENTRIES:
            raise MembershipError("too_many_entries", f"a group holds at most {MAX_ENTRIES} entries")
        parents = [self._nodes[p] for p in entry.parents]
        past = 0
        for parent in parents:
            past |= parent.past | (1 << parent.index)
        view = self._view(past)
        members = view.members
        if entry.author in view.revoked:
            raise MembershipError("revoked_author", "the entry's author was revoked before it")
        if entry.author not in members:
            raise MembershipError("unknown_author", "the entry's author is not a member")
        if not entry.verify(members[entry.author].signing_public):
            raise MembershipError("bad_signature", "the entry's signature does not check with its author's key")
        device = entry.device
        if entry.kind == "add":
            assert device is not None
            if device in view.revoked:
                raise MembershipError("revoked_device", "a revoked device cannot be added again")
            if device in members:
                raise MembershipError("already_member", "the device is already a member")
        elif entry.kind == "revoke":
            assert device is not None
            if device in view.revoked:
                raise MembershipError("revoked_device", "the device is already revoked")
            if device not in members:
                raise MembershipError("unknown_device", "the device is not a member")
            if set(entry.wraps) != set(members) - {device}:
                raise MembershipError("wrong_recipients", "the new key must be wrapped to each remaining member")
        elif entry.kind == "rekey" and set(entry.wraps) != set(members):
            raise MembershipError("wrong_recipients", "the new key must be wrapped to each member")
        starters = sum(1 for n in self._order if (past >> n.index) & 1 and n.entry.kind in EPOCH_KINDS)
        epoch = starters + 2 if entry.kind in EPOCH_KINDS else 0
        self._store(entry, past=past, depth=1 + max(p.depth for p in parents), epoch=epoch)

    # --- building this device's entries

    def add(self, me: DeviceKeys, card: DeviceCard, *, at: int) -> Entry:
        """``me`` adds ``card``'s device (after the link's confirmations); the entry is accepted here."""
        entry = sign_entry(me, "add", group=self.group_id, parents=self.heads(), at=at, body={"device": card.to_json()})
        self.add_entry(entry)
        return entry

    def revoke(self, me: DeviceKeys, device: str, *, at: int, random: Random) -> tuple[Entry, EpochKey]:
        """``me`` revokes ``device``: a new data key, wrapped to every other member (``me`` included)."""
        remaining = [c for d, c in self.members().items() if d != device]
        return self._start_epoch(me, "revoke", remaining, at=at, random=random, device=device)

    def rekey(self, me: DeviceKeys, *, at: int, random: Random) -> tuple[Entry, EpochKey]:
        """``me`` starts a new epoch without removing anyone (see :meth:`needs_rekey`)."""
        return self._start_epoch(me, "rekey", list(self.members().values()), at=at, random=random)

    def _start_epoch(
        self,
        me: DeviceKeys,
        kind: Kind,
        recipients: list[DeviceCard],
        *,
        at: int,
        random: Random,
        device: str | None = None,
    ) -> tuple[Entry, EpochKey]:
        key = random(32)
        body = wrap_body(key, recipients, device)
        entry = sign_entry(me, kind, group=self.group_id, parents=self.heads(), at=at, body=body)
        self.add_entry(entry)
        return entry, EpochKey(self._nodes[entry.hash].epoch, key)
