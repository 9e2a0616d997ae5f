"""Who belongs to the device group: signed, hash-linked entries, and the rules every device applies to them.

An **entry** is the canonical JSON (sorted keys, compact, UTF-8) of ``{kind, group, parents, author,
at, body}``, signed by its author with Ed25519 over :data:`DOMAIN` ‖ those bytes; its **hash** is the
sha256 of the same signed bytes (the signature is not part of it, so an entry is named by what it
says). ``parents`` are the hashes of the heads its author knew, so concurrent changes form a small
DAG, and every device decides from the entries alone, the same way whatever order they came in:

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

**Who is a member** is then decided over all accepted entries, and **revocation wins**:

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
:meth:`Membership.current_epoch` is ``None`` and a member must issue a ``rekey`` before sealing
anything new. A member added concurrently with the current epoch's revoke did not receive its key
either; :meth:`Membership.needs_rekey` says so in both cases.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from walletsync.errors import WalletsyncError
from walletsync.protocol.crypto import b64encode
from walletsync.sync.ids import is_device_id
from walletsync.sync.keys import WRAPPED_KEY_BYTES, DeviceCard, DeviceKeys, EpochKey, KeysError, Random

Kind = Literal["genesis", "add", "revoke", "rekey"]
KINDS: tuple[Kind, ...] = ("genesis", "add", "revoke", "rekey")
EPOCH_KINDS = frozenset({"revoke", "rekey"})

DOMAIN = b"walletsync membership entry v1\x00"
"""Signed before the entry's bytes, so no other walletsync signature can pass for an entry."""
MAX_ENTRY_BYTES = 64 * 1024
MAX_PARENTS = 16
MAX_DEVICES = 256
"""Keys one entry may wrap: the group's size bound."""
MAX_ENTRIES = 4096
MAX_HELD = 256
"""Entries waiting for their parents; past this, :meth:`Membership.add_entry` refuses more."""
MAX_REFUSED_REMEMBERED = 1024
MAX_AT = 2**53 - 1
SIGNATURE_BYTES = 64
_HASH_HEX_CHARS = 64

_LOWER_HEX = re.compile(r"[0-9a-f]*")
_NOT_REMEMBERED = frozenset({"bad_signature", "too_many_entries"})
"""Refusals that another copy of the same entry (same hash) might not earn: a forged signature, a full group."""
_SIG_FIELD = b',"sig":""'
"""What the wire form adds to the signed JSON, besides the signature's hex."""
_B64_WRAPPED_CHARS = 4 * ((WRAPPED_KEY_BYTES + 2) // 3)


class MembershipError(WalletsyncError):
    """An entry that cannot join the membership; ``code`` says why (the service audits it).

    Codes: ``malformed`` (shape, size or encoding), ``bad_signature``, ``wrong_group``,
    ``unknown_author`` (not a member in the entry's causal past), ``revoked_author``,
    ``unknown_device`` (a revoke of a device that is not a member), ``revoked_device`` (an add or
    revoke of a device already revoked), ``already_member``, ``wrong_recipients`` (a new key not
    wrapped to exactly the members it should reach), ``refused_parent`` (follows an entry that was
    refused), ``too_many_held``, ``too_many_entries``; and for :meth:`Membership.epoch_key_for`:
    ``unknown_entry``, ``not_an_epoch``, ``not_a_recipient``, ``undecryptable``.
    """

    def __init__(self, code: str, message: str, *, entry: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.entry = entry
        """The refused entry's hash, when it had one."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {str(self)!r})"


def _malformed(message: str) -> MembershipError:
    return MembershipError("malformed", message)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the one byte form of a JSON value that is signed and hashed."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise _malformed(f"an entry must be plain JSON: {exc}") from None


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _malformed(f"key {key[:32]!r} appears twice")
        obj[key] = value
    return obj


def _refuse_constant(name: str) -> Any:
    raise _malformed(f"{name} is not JSON")


def _is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == _HASH_HEX_CHARS and _is_lower_hex(value)


def _is_lower_hex(text: str) -> bool:
    """Lowercase only: one spelling per hash or signature."""
    return _LOWER_HEX.fullmatch(text) is not None


def _wrapped(value: object) -> bytes:
    if not isinstance(value, str) or len(value) != _B64_WRAPPED_CHARS:
        raise _malformed("a wrapped key is the base64 of a sealed 32-byte key")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise _malformed("a wrapped key is standard base64") from None
    if len(raw) != WRAPPED_KEY_BYTES:
        raise _malformed("a wrapped key is the base64 of a sealed 32-byte key")
    return raw


def _wraps(value: object) -> dict[str, bytes]:
    if not isinstance(value, dict) or not 0 < len(value) <= MAX_DEVICES:
        raise _malformed(f"keys are wrapped to 1 to {MAX_DEVICES} devices")
    wraps = {}
    for device, sealed in value.items():
        if not is_device_id(device):
            raise _malformed("keys are wrapped to device ids")
        wraps[device] = _wrapped(sealed)
    return wraps


def _card(value: object) -> DeviceCard:
    try:
        return DeviceCard.from_json(value)
    except KeysError as exc:
        raise _malformed(str(exc)) from None


# --- entries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One signed membership entry. Constructing one checks its shape (not its signature: that needs the
    author's key, which :class:`Membership` knows). ``body`` is the entry's own copy: leave it as it is.
    """

    kind: Kind
    group: str
    parents: tuple[str, ...]
    author: str
    at: int
    body: Mapping[str, Any]
    signature: bytes = field(repr=False)
    signed_bytes: bytes = field(init=False, repr=False, compare=False)
    hash: str = field(init=False, compare=False)
    card: DeviceCard | None = field(init=False, repr=False, compare=False)
    """The device a ``genesis`` or ``add`` names."""
    device: str | None = field(init=False, repr=False, compare=False)
    """The device a ``genesis`` or ``add`` names, or the one a ``revoke`` removes."""
    wraps: Mapping[str, bytes] = field(init=False, repr=False, compare=False)
    """A ``revoke``'s or ``rekey``'s new data key, sealed to each device it reaches."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise _malformed(f"unknown entry kind {str(self.kind)[:16]!r}")
        if not is_device_id(self.author):
            raise _malformed("an entry's author is a device id")
        if isinstance(self.at, bool) or not isinstance(self.at, int) or not 0 <= self.at <= MAX_AT:
            raise _malformed("an entry's time is whole milliseconds")
        if not isinstance(self.signature, (bytes, bytearray)) or len(self.signature) != SIGNATURE_BYTES:
            raise _malformed(f"an entry's signature is {SIGNATURE_BYTES} bytes")
        if not isinstance(self.parents, tuple) or not all(_is_hash(p) for p in self.parents):
            raise _malformed("an entry's parents are entry hashes")
        if self.kind == "genesis":
            if self.group != "" or self.parents:
                raise _malformed("the genesis names no group and no parents")
        else:
            if not _is_hash(self.group):
                raise _malformed("an entry names its group by the genesis hash")
            if not 0 < len(self.parents) <= MAX_PARENTS or list(self.parents) != sorted(set(self.parents)):
                raise _malformed(f"an entry has 1 to {MAX_PARENTS} distinct parents, sorted")
        card, device, wraps = self._read_body()
        unsigned = canonical_json(self._unsigned())
        if len(unsigned) + len(_SIG_FIELD) + 2 * SIGNATURE_BYTES > MAX_ENTRY_BYTES:
            raise _malformed(f"an entry is at most {MAX_ENTRY_BYTES} bytes")
        signed = DOMAIN + unsigned
        object.__setattr__(self, "body", json.loads(unsigned)["body"])  # a copy nobody else can change
        object.__setattr__(self, "signature", bytes(self.signature))
        object.__setattr__(self, "signed_bytes", signed)
        object.__setattr__(self, "hash", hashlib.sha256(signed).hexdigest())
        object.__setattr__(self, "card", card)
        object.__setattr__(self, "device", device)
        object.__setattr__(self, "wraps", wraps)

    def __hash__(self) -> int:
        return hash(self.hash)

    def _read_body(self) -> tuple[DeviceCard | None, str | None, dict[str, bytes]]:
        body = self.body
        if not isinstance(body, Mapping):
            raise _malformed("an entry's body is an object")
        expected = {"genesis": {"device"}, "add": {"device"}, "revoke": {"device", "keys"}, "rekey": {"keys"}}
        if set(body) != expected[self.kind]:
            raise _malformed(f"a {self.kind} entry's body holds {', '.join(sorted(expected[self.kind]))}")
        if self.kind in ("genesis", "add"):
            card = _card(body["device"])
            if self.kind == "genesis" and card.id != self.author:
                raise _malformed("the genesis names its own author")
            if self.kind == "add" and card.id == self.author:
                raise _malformed("a device cannot add itself")
            return card, card.id, {}
        wraps = _wraps(body["keys"])
        if self.kind == "rekey":
            return None, None, wraps
        device = body["device"]
        if not is_device_id(device):
            raise _malformed("a revoke names a device id")
        if device == self.author:
            raise _malformed("a device cannot revoke itself: another member does")
        if device in wraps:
            raise _malformed("a revoke wraps no key to the device it removes")
        return None, device, wraps

    def _unsigned(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "group": self.group,
            "parents": list(self.parents),
            "author": self.author,
            "at": self.at,
            "body": self.body,
        }

    def to_bytes(self) -> bytes:
        """The wire form: the signed fields plus ``sig`` (hex), as canonical JSON."""
        return canonical_json({**self._unsigned(), "sig": self.signature.hex()})

    def to_json(self) -> dict[str, Any]:
        """The wire form as a JSON value (a copy: changing it changes no entry)."""
        value: dict[str, Any] = json.loads(self.to_bytes())
        return value

    @classmethod
    def from_json(cls, value: object) -> Entry:
        """Peer input to an :class:`Entry`; anything else is a ``MembershipError("malformed")``."""
        fields = {"kind", "group", "parents", "author", "at", "body", "sig"}
        if not isinstance(value, dict) or set(value) != fields:
            raise _malformed(f"an entry holds exactly {', '.join(sorted(fields))}")
        parents, sig = value["parents"], value["sig"]
        if not isinstance(parents, list):
            raise _malformed("an entry's parents are a list")
        if not isinstance(sig, str) or len(sig) != 2 * SIGNATURE_BYTES or not _is_lower_hex(sig):
            raise _malformed("an entry's signature is hex")
        kind = value["kind"]
        if kind not in KINDS:
            raise _malformed(f"unknown entry kind {str(kind)[:16]!r}")
        return cls(
            kind=cast(Kind, kind),
            group=value["group"],
            parents=tuple(parents),
            author=value["author"],
            at=value["at"],
            body=value["body"],
            signature=bytes.fromhex(sig),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        """An entry from its wire bytes (JSON, at most :data:`MAX_ENTRY_BYTES`)."""
        if not isinstance(data, (bytes, bytearray)):
            raise _malformed("an entry arrives as bytes")
        if len(data) > MAX_ENTRY_BYTES:
            raise _malformed(f"an entry is at most {MAX_ENTRY_BYTES} bytes")
        try:
            value = json.loads(bytes(data), object_pairs_hook=_strict_object, parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _malformed("an entry is UTF-8 JSON") from None
        return cls.from_json(value)

    def verify(self, signing_public: bytes) -> bool:
        """Whether the signature checks with ``signing_public`` (the author's key)."""
        try:
            VerifyKey(signing_public).verify(self.signed_bytes, self.signature)
            return True
        except (BadSignatureError, ValueError, TypeError):
            return False


def sign_entry(
    me: DeviceKeys, kind: Kind, *, group: str, parents: Iterable[str], at: int, body: Mapping[str, Any]
) -> Entry:
    """An entry by ``me`` with its signature. No membership rule is checked: :meth:`Membership.add_entry` does."""
    unsigned = Entry(kind, group, tuple(sorted(set(parents))), me.id, at, body, bytes(SIGNATURE_BYTES))
    return Entry(kind, group, unsigned.parents, me.id, at, body, me.sign(unsigned.signed_bytes))


def genesis(me: DeviceKeys, name: str, *, at: int) -> Entry:
    """The first entry of a new group, founded by ``me`` under ``name``."""
    return sign_entry(me, "genesis", group="", parents=(), at=at, body={"device": me.card(name).to_json()})


def found(me: DeviceKeys, name: str, *, at: int, random: Random) -> tuple[Membership, EpochKey]:
    """A new group with ``me`` its only member, and epoch 1's data key (the founder keeps it)."""
    return Membership(genesis(me, name, at=at)), EpochKey.generate(1, random)


# --- the membership -----------------------------------------------------------------


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


class Membership:
    """The accepted entries of one group and what follows from them. Pure: no clock, no randomness of its own.

    Feed every entry a member sends with :meth:`add_entry` (any order; duplicates are ignored), and
    send a new member :meth:`entries`. Entries refused while being released from the held ones
    (their parents arrived later) are kept for :meth:`take_refusals`, for the audit.
    """

    def __init__(self, genesis_entry: Entry) -> None:
        if genesis_entry.kind != "genesis":
            raise _malformed("a membership starts with a genesis entry")
        card = genesis_entry.card
        assert card is not None
        if not genesis_entry.verify(card.signing_public):
            raise MembershipError("bad_signature", "the genesis is not signed by its founder", entry=genesis_entry.hash)
        self.group_id = genesis_entry.hash
        self._nodes: dict[str, _Node] = {}
        self._order: list[_Node] = []
        self._children: set[str] = set()
        self._held: dict[str, list[Entry]] = {}
        """Entries waiting for parents, by hash: a copy with a forged signature must not crowd out the real one."""
        self._refused: dict[str, str] = {}
        """Hashes refused for what the entry says (so every copy would be), with the code."""
        self._refusals: list[MembershipError] = []
        self._full: _View | None = None
        self._store(genesis_entry, past=0, depth=0, epoch=1)

    # --- feeding entries

    def add_entry(self, entry: Entry) -> bool:
        """Accept ``entry`` if the rules allow; ``True`` if it (and maybe held ones after it) joined now.

        ``False``: already known, or held until its parents arrive. A refused entry raises
        :class:`MembershipError`; so does one more held entry past :data:`MAX_HELD`.
        """
        if not isinstance(entry, Entry):
            raise _malformed("not a membership entry")
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


def wrap_body(key: bytes, recipients: Iterable[DeviceCard], device: str | None = None) -> dict[str, Any]:
    """A ``revoke`` body (``device`` set) or a ``rekey`` body: ``key`` sealed to each recipient."""
    keys = {card.id: b64encode(card.wrap(key)) for card in recipients}
    return {"keys": keys} if device is None else {"device": device, "keys": keys}


def _bits(mask: int) -> Iterable[int]:
    index = 0
    while mask:
        if mask & 1:
            yield index
        mask >>= 1
        index += 1
