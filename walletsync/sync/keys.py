"""A device's keys in the group (signing and exchange), its public card, and the epochs' data keys.

Every key here comes from a secret the caller already holds: the device's 32-byte identity seed
(kept by the store) or an epoch's data key (32 random bytes from the caller's ``random``). Values
derived from one secret use HKDF-SHA256 with an ``info`` of their own, so no two uses share a key.
Secret-holding values never print themselves: their ``repr`` shows a device id or an epoch number.

Primitives come from PyNaCl (Ed25519, X25519 ``SealedBox``) and cryptography (HKDF).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey

from walletsync.errors import WalletsyncError
from walletsync.protocol.crypto import shared_secret
from walletsync.protocol.errors import InvalidKey
from walletsync.sync.ids import device_id, is_device_id

Random = Callable[[int], bytes]
"""Source of random bytes, e.g. ``os.urandom``; passed in so this module stays deterministic."""

KEY_BYTES = 32
WRAPPED_KEY_BYTES = KEY_BYTES + 48
"""A data key sealed to one device: SealedBox adds an ephemeral public key and a tag."""
MAX_NAME_CHARS = 128
MAX_EPOCH = 2**32 - 1
"""Epoch numbers travel in 4 bytes (``envelope.py``)."""

EXCHANGE_INFO = b"walletsync device exchange v1"
TOPIC_INFO = b"walletsync sync topic v1"
MARK_INFO = b"walletsync sibling mark v1"

_KEY_HEX = re.compile(r"[0-9a-f]{64}")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ORDER_PROBE = bytes([9]) + bytes(31)
"""Any scalar will do: X25519 with a low-order point gives all zeros, which ``shared_secret`` refuses."""


class KeysError(WalletsyncError):
    """A card or a wrapped key that cannot be used. ``code`` says which; messages hold no key material.

    Codes: ``invalid_card`` (a device card of the wrong shape), ``invalid_key`` (a seed, data key or
    epoch number of the wrong size: a caller's bug), ``undecryptable`` (a wrapped key that does not
    open with this device's key).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {str(self)!r})"


def hkdf(secret: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    """HKDF-SHA256 (no salt) of ``secret`` for the use named by ``info``."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def _require_key(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != KEY_BYTES:
        raise KeysError("invalid_key", f"{what} must be {KEY_BYTES} bytes")
    return bytes(value)


# --- a device's public card ---------------------------------------------------------


def check_device_name(name: object) -> str:
    """A device's name at linking, as peer input: 1-128 code points, none of them control or invisible."""
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
        raise KeysError("invalid_card", f"a device name is 1 to {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in name):
        raise KeysError("invalid_card", "a device name cannot hold control or invisible characters")
    return name


def _check_exchange_public(key: bytes) -> None:
    """Refuse a low-order X25519 point: a data key sealed to it would be readable by anyone."""
    try:
        shared_secret(_ORDER_PROBE, key)
    except InvalidKey:
        raise KeysError("invalid_card", "the device's exchange key is a low-order point") from None


@dataclass(frozen=True)
class DeviceCard:
    """What the group knows of a device: its id, public keys and its name at linking.

    Constructing one checks it (the id is the hash of the signing key, the exchange key is a usable
    X25519 point, the name is printable), so a card in hand is a card that can be trusted to be
    well-formed, not that its device is a member: membership says that.
    """

    id: str
    signing_public: bytes
    exchange_public: bytes
    name: str

    def __post_init__(self) -> None:
        for what in ("signing_public", "exchange_public"):
            value = getattr(self, what)
            if not isinstance(value, (bytes, bytearray)) or len(value) != KEY_BYTES:
                raise KeysError("invalid_card", f"a device card's {what} key must be {KEY_BYTES} bytes")
            object.__setattr__(self, what, bytes(value))
        if not is_device_id(self.id) or self.id != device_id(self.signing_public):
            raise KeysError("invalid_card", "a device card's id must be the hash of its signing key")
        _check_exchange_public(self.exchange_public)
        check_device_name(self.name)

    def to_json(self) -> dict[str, str]:
        """JSON-able form; keys in lowercase hex."""
        return {
            "id": self.id,
            "signing": self.signing_public.hex(),
            "exchange": self.exchange_public.hex(),
            "name": self.name,
        }

    @classmethod
    def from_json(cls, value: object) -> DeviceCard:
        """The inverse of :meth:`to_json` for peer input: anything else is a ``KeysError("invalid_card")``."""
        if not isinstance(value, Mapping) or set(value) != {"id", "signing", "exchange", "name"}:
            raise KeysError("invalid_card", "a device card has exactly id, signing, exchange and name")
        keys = [_hex_key(value[k], k) for k in ("signing", "exchange")]
        return cls(id=_str(value["id"]), signing_public=keys[0], exchange_public=keys[1], name=_str(value["name"]))

    def wrap(self, key: bytes) -> bytes:
        """``key`` sealed (libsodium SealedBox) to this device's exchange key: only this device opens it.

        SealedBox draws its ephemeral key from libsodium itself; the caller's ``random`` is not used.
        """
        return SealedBox(PublicKey(self.exchange_public)).encrypt(_require_key(key, "a data key"))


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise KeysError("invalid_card", "a device card's id and name are strings")
    return value


def _hex_key(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _KEY_HEX.fullmatch(value):
        raise KeysError("invalid_card", f"a device card's {what} key is {2 * KEY_BYTES} lowercase hex characters")
    return bytes.fromhex(value)


# --- this device's keys -------------------------------------------------------------


@dataclass(frozen=True)
class DeviceKeys:
    """This device's signing and exchange keys, from its identity seed. Holds secrets: ``repr`` shows the id.

    The signing key is the device's Ed25519 identity (the store's seed, already its relay client id
    and audit key); the exchange key is X25519, HKDF-derived from the same seed so nothing new has to
    be stored, and receives the data keys a revoke wraps to each remaining member.
    """

    seed: bytes = field(repr=False)
    id: str = field(init=False)
    signing_public: bytes = field(init=False, repr=False)
    exchange_public: bytes = field(init=False, repr=False)
    _signing: SigningKey = field(init=False, repr=False, compare=False)
    _exchange: PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seed = _require_key(self.seed, "the identity seed")
        signing = SigningKey(seed)
        exchange = PrivateKey(hkdf(seed, EXCHANGE_INFO))
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "_signing", signing)
        object.__setattr__(self, "_exchange", exchange)
        object.__setattr__(self, "signing_public", bytes(signing.verify_key))
        object.__setattr__(self, "exchange_public", bytes(exchange.public_key))
        object.__setattr__(self, "id", device_id(self.signing_public))

    def card(self, name: str) -> DeviceCard:
        """This device's public card, under the name it goes by at linking."""
        return DeviceCard(self.id, self.signing_public, self.exchange_public, name)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._signing.sign(data).signature

    def unwrap(self, sealed: bytes) -> bytes:
        """A data key some member sealed to this device (:meth:`DeviceCard.wrap`)."""
        try:
            key = SealedBox(self._exchange).decrypt(bytes(sealed))
        except (CryptoError, TypeError):
            raise KeysError("undecryptable", "the wrapped key does not open with this device's key") from None
        if len(key) != KEY_BYTES:
            raise KeysError("undecryptable", "the wrapped key is not a data key")
        return key


# --- the epochs' data keys ----------------------------------------------------------


@dataclass(frozen=True)
class EpochKey:
    """An epoch's data key: it seals every sync message of the epoch. Holds a secret: ``repr`` shows the epoch.

    Epoch 1 starts at the genesis; each revoke starts the next (``membership.py`` numbers them).
    The group topic and the sibling-mark key are derived from the data key, so whoever lacks it
    cannot even find the epoch's topic.
    """

    epoch: int
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.epoch, bool) or not isinstance(self.epoch, int) or not 1 <= self.epoch <= MAX_EPOCH:
            raise KeysError("invalid_key", f"an epoch number is 1 to {MAX_EPOCH}")
        object.__setattr__(self, "key", _require_key(self.key, "a data key"))

    @classmethod
    def generate(cls, epoch: int, random: Random) -> EpochKey:
        """A fresh data key for ``epoch`` (32 bytes from ``random``)."""
        return cls(epoch, random(KEY_BYTES))

    @property
    def topic(self) -> str:
        """The group topic of this epoch: sha256 (hex) of a key derived from the data key."""
        return hashlib.sha256(hkdf(self.key, TOPIC_INFO)).hexdigest()

    @property
    def mark_key(self) -> bytes:
        """The key of the sibling mark on session messages (``sibling.py``)."""
        return hkdf(self.key, MARK_INFO)
