"""The vault file's layout: a versioned, authenticated header, then the content sealed under the vault key.

::

    magic  "WSVAULT\\0"            8 bytes
    version                        1 byte (1)
    header length                  4 bytes, big-endian (at most 64 KiB)
    header                         canonical JSON (sorted keys, no spaces), UTF-8
    body                           XChaCha20-Poly1305(vault key, header.nonce, content, ad = all bytes above)

The header says only what opening needs: the AEAD, the content's nonce, and the **holders** of the vault
key (a random 32-byte key, one per backup). A ``passphrase`` holder records Argon2id's costs and salt and
the vault key sealed under the derived key; a ``slip39`` holder records the share set's identifier and
thresholds and the vault key sealed under the **share key**, the 32-byte secret the SLIP-39 shares split
(a random key of its own rather than the vault key itself, so both holders wrap the same way and a
wrong share set or share passphrase is told apart from a damaged body). Each wrapped key's associated data
is the magic, the version and its holder's parameters; the body's is the whole header, so a changed byte
anywhere fails to open. No name, address, key or date is in clear: they are all in the sealed content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from walletsync.vault.errors import DamagedVault, NotAVault
from walletsync.vault.kdf import KDF_ID, SALT_SIZE, KdfParams

MAGIC = b"WSVAULT\x00"
VERSION = 1
AEAD_ID = "xchacha20poly1305-ietf"
NONCE_SIZE = 24
KEY_SIZE = 32
TAG_SIZE = 16
MAX_HEADER = 64 * 1024
MAX_GROUPS = 16
_PREFIX = len(MAGIC) + 1 + 4


@dataclass(frozen=True)
class PassphraseHolder:
    """The vault key sealed under a key derived from the passphrase."""

    kdf: KdfParams
    nonce: bytes
    wrapped: bytes

    def parameters(self) -> dict[str, Any]:
        return {
            "kind": "passphrase",
            "kdf": KDF_ID,
            "opslimit": self.kdf.opslimit,
            "memlimit": self.kdf.memlimit,
            "salt": self.kdf.salt.hex(),
        }


@dataclass(frozen=True)
class ShareHolder:
    """The vault key sealed under the share key, which SLIP-39 shares split (their set's ``identifier``)."""

    identifier: int
    group_threshold: int
    groups: tuple[tuple[int, int], ...]
    nonce: bytes
    wrapped: bytes

    def parameters(self) -> dict[str, Any]:
        return {
            "kind": "slip39",
            "identifier": self.identifier,
            "group_threshold": self.group_threshold,
            "groups": [list(g) for g in self.groups],
        }


Holder = PassphraseHolder | ShareHolder


@dataclass(frozen=True)
class Header:
    """What opening a vault needs; ``raw`` is every byte before the body (the body's associated data)."""

    nonce: bytes
    passphrase: PassphraseHolder | None
    shares: ShareHolder | None
    raw: bytes = b""


def _canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def wrap_ad(holder: Holder) -> bytes:
    """The associated data of a wrapped vault key: what the holder's parameters say, bound to this format."""
    return MAGIC + bytes([VERSION]) + _canonical(holder.parameters())


def write_prefix(nonce: bytes, passphrase: PassphraseHolder | None, shares: ShareHolder | None) -> bytes:
    """Every byte before the body, for these holders."""
    holders: list[dict[str, Any]] = []
    for holder in (passphrase, shares):
        if holder is not None:
            holders.append({**holder.parameters(), "nonce": holder.nonce.hex(), "wrapped": holder.wrapped.hex()})
    header = _canonical({"aead": AEAD_ID, "nonce": nonce.hex(), "holders": holders})
    return MAGIC + bytes([VERSION]) + len(header).to_bytes(4, "big") + header


def read_header(data: bytes) -> tuple[Header, bytes]:
    """The header and the body. :class:`NotAVault` or :class:`DamagedVault` if the bytes are not one."""
    if not data.startswith(MAGIC):
        raise NotAVault("this is not a walletsync backup (it does not start with the backup's magic bytes)")
    if len(data) < _PREFIX:
        raise DamagedVault("the backup is cut short (its header is incomplete)")
    version = data[len(MAGIC)]
    if version != VERSION:
        raise NotAVault(f"this backup has format version {version}; this walletsync reads version {VERSION}")
    length = int.from_bytes(data[len(MAGIC) + 1 : _PREFIX], "big")
    if length > MAX_HEADER or len(data) < _PREFIX + length + TAG_SIZE:
        raise DamagedVault("the backup is damaged (its header length does not fit the file)")
    raw = data[: _PREFIX + length]
    try:
        document = json.loads(data[_PREFIX : _PREFIX + length].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise DamagedVault("the backup's header is damaged (not the JSON it should be)") from None
    header = _parse(document, raw)
    return header, data[_PREFIX + length :]


def _damaged(problem: str) -> DamagedVault:
    return DamagedVault(f"the backup's header is damaged: {problem}")


def _keys(document: Any, expected: set[str], where: str) -> dict[str, Any]:
    if not isinstance(document, dict) or set(document) != expected:
        raise _damaged(f"{where} must have exactly the fields {sorted(expected)}")
    return document


def _int(value: Any, where: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _damaged(f"{where} must be an integer from {low} to {high}")
    return value


def _hex(value: Any, where: str, size: int) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if raw is None or len(raw) != size:
        raise _damaged(f"{where} must be {size} bytes in hex")
    return raw


def _parse(document: Any, raw: bytes) -> Header:
    top = _keys(document, {"aead", "nonce", "holders"}, "the header")
    if top["aead"] != AEAD_ID:
        raise _damaged(f"unknown AEAD {top['aead']!r:.40}")
    holders = top["holders"]
    if not isinstance(holders, list) or not 1 <= len(holders) <= 2:
        raise _damaged("there must be one or two holders of the vault key")
    passphrase: PassphraseHolder | None = None
    shares: ShareHolder | None = None
    for item in holders:
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind == "passphrase" and passphrase is None:
            fields = _keys(item, {"kind", "kdf", "opslimit", "memlimit", "salt", "nonce", "wrapped"}, "a holder")
            if fields["kdf"] != KDF_ID:
                raise _damaged(f"unknown KDF {fields['kdf']!r:.40}")
            kdf = KdfParams(
                opslimit=_int(fields["opslimit"], "opslimit", 0, 2**32),
                memlimit=_int(fields["memlimit"], "memlimit", 0, 2**48),
                salt=_hex(fields["salt"], "the salt", SALT_SIZE),
            )
            passphrase = PassphraseHolder(
                kdf, _hex(fields["nonce"], "a nonce", NONCE_SIZE), _hex(fields["wrapped"], "a key", KEY_SIZE + TAG_SIZE)
            )
        elif kind == "slip39" and shares is None:
            fields = _keys(item, {"kind", "identifier", "group_threshold", "groups", "nonce", "wrapped"}, "a holder")
            groups = fields["groups"]
            if not isinstance(groups, list) or not 1 <= len(groups) <= MAX_GROUPS:
                raise _damaged(f"groups must be a list of 1 to {MAX_GROUPS} [threshold, count] pairs")
            pairs = []
            for group in groups:
                if not isinstance(group, list) or len(group) != 2:
                    raise _damaged("each group must be a [threshold, count] pair")
                pairs.append((_int(group[0], "a group threshold", 1, 16), _int(group[1], "a group count", 1, 16)))
            shares = ShareHolder(
                identifier=_int(fields["identifier"], "the share set's identifier", 0, 2**15 - 1),
                group_threshold=_int(fields["group_threshold"], "the group threshold", 1, len(pairs)),
                groups=tuple(pairs),
                nonce=_hex(fields["nonce"], "a nonce", NONCE_SIZE),
                wrapped=_hex(fields["wrapped"], "a key", KEY_SIZE + TAG_SIZE),
            )
        else:
            raise _damaged("a holder is of an unknown or repeated kind")
    return Header(_hex(top["nonce"], "the content's nonce", NONCE_SIZE), passphrase, shares, raw)
