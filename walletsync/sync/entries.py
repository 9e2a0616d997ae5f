"""Membership entries as bytes: their canonical JSON, signature, hash, shape and bounds.

An **entry** is the canonical JSON (sorted keys, compact, UTF-8) of ``{kind, group, parents, author,
at, body}``, signed by its author with Ed25519 over :data:`DOMAIN` ‖ those bytes; its **hash** is the
sha256 of the same signed bytes (the signature is not part of it, so an entry is named by what it
says). Reading one checks its shape and bounds only: whether it may join the group, and what it
means there, are the rules of :mod:`walletsync.sync.membership`, which knows the authors' keys.
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
from walletsync.sync.keys import WRAPPED_KEY_BYTES, DeviceCard, DeviceKeys, KeysError

Kind = Literal["genesis", "add", "revoke", "rekey"]
KINDS: tuple[Kind, ...] = ("genesis", "add", "revoke", "rekey")

DOMAIN = b"walletsync membership entry v1\x00"
"""Signed before the entry's bytes, so no other walletsync signature can pass for an entry."""
MAX_ENTRY_BYTES = 64 * 1024
MAX_PARENTS = 16
MAX_DEVICES = 256
"""Keys one entry may wrap: the group's size bound."""
MAX_AT = 2**53 - 1
SIGNATURE_BYTES = 64
_HASH_HEX_CHARS = 64

_LOWER_HEX = re.compile(r"[0-9a-f]*")
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
    refused), ``too_many_held``, ``too_many_entries``; and for
    :meth:`~walletsync.sync.membership.Membership.epoch_key_for`: ``unknown_entry``, ``not_an_epoch``,
    ``not_a_recipient``, ``undecryptable``.
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


@dataclass(frozen=True)
class Entry:
    """One signed membership entry. Constructing one checks its shape (not its signature: that needs the
    author's key, which :class:`~walletsync.sync.membership.Membership` knows). ``body`` is the entry's
    own copy: leave it as it is.
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
    """An entry by ``me`` with its signature.

    No membership rule is checked: :meth:`~walletsync.sync.membership.Membership.add_entry` does.
    """
    unsigned = Entry(kind, group, tuple(sorted(set(parents))), me.id, at, body, bytes(SIGNATURE_BYTES))
    return Entry(kind, group, unsigned.parents, me.id, at, body, me.sign(unsigned.signed_bytes))


def wrap_body(key: bytes, recipients: Iterable[DeviceCard], device: str | None = None) -> dict[str, Any]:
    """A ``revoke`` body (``device`` set) or a ``rekey`` body: ``key`` sealed to each recipient."""
    keys = {card.id: b64encode(card.wrap(key)) for card in recipients}
    return {"keys": keys} if device is None else {"device": device, "keys": keys}
