"""The accepted membership entries of one group, as a DAG, and what follows from them.

Every entry here passed :meth:`~walletsync.sync.membership.Membership.add_entry` (the rules for
accepting one are :mod:`walletsync.sync.membership`'s), and each knows its causal past as a bit mask.

**Who is a member** is decided over all accepted entries, and **revocation wins**:

- A device is revoked once any accepted ``revoke`` names it, whatever else happened concurrently;
  a revoked device never becomes a member again (its id is its key: a new key is a new device).
- An ``add`` counts only if its author was added by an ``add`` that counts (or is the founder) and
  every ``revoke`` of its author has the ``add`` in its causal past (the revoker saw it and let it
  stand). So when X adds Y while, concurrently, someone revokes X, the add of Y does not count: Y
  is not a member (unless another member adds it too) and Y's own adds do not count either. A
  revoked device cannot keep its access by adding devices "concurrently" with its revocation,
  which it could otherwise do at any time by not naming the revoke as a parent.
- A ``revoke`` always counts once accepted, even when its author is itself revoked concurrently:
  if X revokes Z while someone revokes X, both X and Z are out. This fails safe (a device removed
  by mistake is linked again under a new identity), and it keeps the rules free of cycles, so
  every device reaches the same answer.

**Epochs.** Epoch 1 starts at the genesis; every accepted ``revoke`` or ``rekey`` starts one whose
number is the count of revokes and rekeys in its causal past, itself included, plus one. The
current epoch is chosen among the latest ones (those no other revoke or rekey follows) whose key
no revoked device holds (its author and recipients are all still in): the highest number, ties to
the lowest entry hash. Two devices revoked concurrently by different members leave no such
epoch, since each revoke wrapped its key to the device the other removed: then
:meth:`AcceptedEntries.current_epoch` is ``None`` and a member must issue a ``rekey`` before sealing
anything new. A member added concurrently with the current epoch's revoke did not receive its key
either; :meth:`AcceptedEntries.needs_rekey` says so in both cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from walletsync.sync.entries import Entry, MembershipError
from walletsync.sync.keys import DeviceCard, DeviceKeys, EpochKey, KeysError

EPOCH_KINDS = frozenset({"revoke", "rekey"})


@dataclass(frozen=True, order=True)
class Epoch:
    """An epoch: its number and the hash of the entry that started it (the group id for epoch 1)."""

    number: int
    entry: str


@dataclass
class _Node:
    entry: Entry
    index: int
    past: int
    """Bit ``i`` set: the entry accepted ``i``-th is in this one's causal past (itself excluded)."""
    depth: int
    epoch: int
    """The number of the epoch this entry starts (1 for the genesis), 0 if it starts none."""


@dataclass
class _View:
    """Who is in, over a causally closed set of entries."""

    cards: dict[str, DeviceCard]
    revoked: frozenset[str]
    joined: dict[str, int]
    """Per device, the bits of the adds (or genesis) that count for it."""

    @property
    def members(self) -> dict[str, DeviceCard]:
        return {d: c for d, c in self.cards.items() if d not in self.revoked}


class AcceptedEntries:
    """The accepted entries of one group and what follows from them: who is in, the heads, the epochs.

    :class:`~walletsync.sync.membership.Membership` feeds it; nothing here checks an entry.
    """

    def __init__(self, genesis_entry: Entry) -> None:
        self.group_id = genesis_entry.hash
        self._nodes: dict[str, _Node] = {}
        self._order: list[_Node] = []
        self._children: set[str] = set()
        self._full: _View | None = None
        self._store(genesis_entry, past=0, depth=0, epoch=1)

    def _store(self, entry: Entry, *, past: int, depth: int, epoch: int) -> None:
        node = _Node(entry, len(self._order), past, depth, epoch)
        self._nodes[entry.hash] = node
        self._order.append(node)
        self._children.update(entry.parents)
        self._full = None

    # --- what follows from the entries

    def _view(self, mask: int | None = None) -> _View:
        """Who is in over the entries in ``mask`` (all of them if ``None``), which must be causally closed."""
        if mask is None and self._full is not None:
            return self._full
        nodes = [n for n in self._order if mask is None or (mask >> n.index) & 1]
        revokes: dict[str, int] = {}
        for node in nodes:
            if node.entry.kind == "revoke":
                assert node.entry.device is not None
                revokes[node.entry.device] = revokes.get(node.entry.device, 0) | (1 << node.index)
        revoke_nodes = {d: [n for n in nodes if (bits >> n.index) & 1] for d, bits in revokes.items()}
        joined: dict[str, int] = {}
        cards: dict[str, tuple[str, DeviceCard]] = {}
        for node in nodes:
            entry = node.entry
            if entry.kind not in ("genesis", "add"):
                continue
            if entry.kind == "add":
                author_in = joined.get(entry.author, 0) & node.past
                seen_by_revokers = all((r.past >> node.index) & 1 for r in revoke_nodes.get(entry.author, ()))
                if not (author_in and seen_by_revokers):
                    continue
            assert entry.card is not None
            device = entry.card.id
            joined[device] = joined.get(device, 0) | (1 << node.index)
            if device not in cards or entry.hash < cards[device][0]:
                cards[device] = (entry.hash, entry.card)
        view = _View({d: c for d, (_, c) in cards.items()}, frozenset(revokes), joined)
        if mask is None:
            self._full = view
        return view

    def members(self) -> dict[str, DeviceCard]:
        """The current members, by device id."""
        return self._view().members

    def is_member(self, device: str) -> bool:
        return device in self.members()

    def revoked(self) -> frozenset[str]:
        """Every device ever revoked."""
        return self._view().revoked

    def signing_keys(self) -> dict[str, bytes]:
        """Each current member's Ed25519 public key: whom a sync message may come from."""
        return {d: c.signing_public for d, c in self.members().items()}

    def heads(self) -> tuple[str, ...]:
        """The entries nothing follows yet: the parents of this device's next entry."""
        return tuple(sorted(h for h in self._nodes if h not in self._children))

    def entries(self) -> list[Entry]:
        """Every accepted entry, parents first, in an order that depends on the entries only."""
        return [n.entry for n in sorted(self._order, key=lambda n: (n.depth, n.entry.hash))]

    def entry(self, digest: str) -> Entry | None:
        node = self._nodes.get(digest)
        return node.entry if node else None

    # --- epochs

    def epochs(self) -> list[Epoch]:
        """Every epoch started so far (several may share a number when revokes were concurrent)."""
        return sorted(Epoch(n.epoch, n.entry.hash) for n in self._order if n.epoch)

    def _latest_epochs(self) -> list[_Node]:
        starters = [n for n in self._order if n.entry.kind in EPOCH_KINDS]
        if not starters:
            return [self._order[0]]
        followed = 0
        for node in starters:
            followed |= node.past
        return [n for n in starters if not (followed >> n.index) & 1]

    def _holders(self, node: _Node) -> set[str]:
        """Who holds the key ``node`` started: its author, its recipients, and members added after it."""
        view = self._view()
        later = {
            d for d, bits in view.joined.items() if any((self._order[i].past >> node.index) & 1 for i in _bits(bits))
        }
        if node.index == 0:
            return set(view.cards) | later
        return {node.entry.author, *node.entry.wraps} | later

    def current_epoch(self) -> Epoch | None:
        """The epoch to seal new messages with, or ``None`` until a member issues a ``rekey``.

        Among the latest epochs, those whose key no revoked device holds; the highest number, ties to
        the lowest entry hash.
        """
        revoked = self.revoked()
        clean = [n for n in self._latest_epochs() if n.index == 0 or not ({n.entry.author, *n.entry.wraps} & revoked)]
        if not clean:
            return None
        best = min(clean, key=lambda n: (-n.epoch, n.entry.hash))
        return Epoch(best.epoch, best.entry.hash)

    def needs_rekey(self) -> bool:
        """True when no epoch is clean, or some member does not hold the current epoch's key."""
        current = self.current_epoch()
        if current is None:
            return True
        return not set(self.members()) <= self._holders(self._nodes[current.entry])

    def epoch_key_for(self, me: DeviceKeys, entry: Entry | str) -> EpochKey:
        """The data key a ``revoke`` or ``rekey`` wrapped to ``me``, numbered as its epoch."""
        node = self._nodes.get(entry if isinstance(entry, str) else entry.hash)
        if node is None:
            raise MembershipError("unknown_entry", "the entry is not an accepted one")
        if node.entry.kind not in EPOCH_KINDS:
            raise MembershipError("not_an_epoch", "only a revoke or a rekey carries a key", entry=node.entry.hash)
        sealed = node.entry.wraps.get(me.id)
        if sealed is None:
            raise MembershipError(
                "not_a_recipient", "the new key was not wrapped to this device", entry=node.entry.hash
            )
        try:
            return EpochKey(node.epoch, me.unwrap(sealed))
        except KeysError:
            raise MembershipError(
                "undecryptable", "the key wrapped to this device does not open", entry=node.entry.hash
            ) from None

    def epoch_keys_for(self, me: DeviceKeys) -> list[EpochKey]:
        """Every epoch key wrapped to ``me`` that opens, by epoch (e.g. after a restart or a link)."""
        keys = []
        for node in sorted(self._order, key=lambda n: (n.epoch, n.entry.hash)):
            if node.entry.kind in EPOCH_KINDS and me.id in node.entry.wraps:
                try:
                    keys.append(self.epoch_key_for(me, node.entry.hash))
                except MembershipError:
                    continue
        return keys


def _bits(mask: int) -> Iterable[int]:
    index = 0
    while mask:
        if mask & 1:
            yield index
        mask >>= 1
        index += 1
