"""Sealing content into a vault and opening it again (the layout is in ``format.py``).

One random vault key seals the content with XChaCha20-Poly1305 (libsodium, through PyNaCl); each holder
seals that key once. Randomness comes in as ``random(n) -> n bytes`` (the service passes ``os.urandom``),
except SLIP-39's polynomial coefficients, which ``shamir-mnemonic`` draws itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TypeVar

from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt as _aead_open
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt as _aead_seal
from nacl.exceptions import CryptoError

from walletsync.vault import kdf, shares
from walletsync.vault.errors import DamagedVault, ShareError, SharesDoNotOpen, VaultError, WrongPassphrase
from walletsync.vault.format import (
    KEY_SIZE,
    NONCE_SIZE,
    Header,
    Holder,
    PassphraseHolder,
    ShareHolder,
    read_header,
    wrap_ad,
    write_prefix,
)

Random = Callable[[int], bytes]
H = TypeVar("H", PassphraseHolder, ShareHolder)


@dataclass(frozen=True)
class Sealed:
    """A new vault's bytes and, when shares hold its key, the shares (show them once, then forget them)."""

    data: bytes
    shares: list[list[str]] | None

    def __repr__(self) -> str:
        return f"Sealed({len(self.data)} bytes, shares={'yes' if self.shares else 'no'})"


def seal(
    content: bytes,
    *,
    random: Random,
    passphrase: str | None = None,
    spec: shares.ShareSpec | None = None,
    opslimit: int = kdf.OPSLIMIT,
    memlimit: int = kdf.MEMLIMIT,
) -> Sealed:
    """Seal ``content`` under a passphrase, SLIP-39 shares, or both (at least one).

    ValueError for an empty passphrase, no holder, a split SLIP-39 cannot make, or costs below the floor.
    """
    if passphrase is None and spec is None:
        raise ValueError("a backup needs a passphrase, shares, or both")
    if passphrase is not None and not passphrase:
        raise ValueError("the passphrase is empty")
    vault_key = _take(random, KEY_SIZE)
    by_passphrase: PassphraseHolder | None = None
    by_shares: ShareHolder | None = None
    mnemonics: list[list[str]] | None = None
    if passphrase is not None:
        params = kdf.KdfParams(opslimit, memlimit, _take(random, kdf.SALT_SIZE))
        try:
            params.check()
        except VaultError as exc:
            raise ValueError(str(exc)) from None
        holder = PassphraseHolder(params, _take(random, NONCE_SIZE), b"")
        by_passphrase = _wrapped(holder, params.derive(passphrase), vault_key)
    if spec is not None:
        spec.check()
        share_key = _take(random, KEY_SIZE)
        identifier = int.from_bytes(_take(random, 2), "big") & 0x7FFF
        mnemonics = shares.split(share_key, spec, identifier)
        shell = ShareHolder(identifier, spec.group_threshold, spec.groups, _take(random, NONCE_SIZE), b"")
        by_shares = _wrapped(shell, share_key, vault_key)
    nonce = _take(random, NONCE_SIZE)
    prefix = write_prefix(nonce, by_passphrase, by_shares)
    return Sealed(prefix + _aead_seal(content, prefix, nonce, vault_key), mnemonics)


def open_with_passphrase(data: bytes, passphrase: str) -> bytes:
    """The content. :class:`WrongPassphrase`, :class:`WeakKdf`, :class:`DamagedVault` or :class:`NotAVault`."""
    header, body = read_header(data)
    holder = header.passphrase
    if holder is None:
        raise WrongPassphrase("this backup is held by shares only: restore it with its shares")
    key = _unwrap(holder, holder.kdf.derive(passphrase))
    if key is None:
        raise WrongPassphrase("wrong passphrase for this backup (or its header was modified)")
    return _open_body(header, body, key)


def open_with_shares(data: bytes, mnemonics: Iterable[str], share_passphrase: str = "") -> bytes:
    """The content. :class:`ShareError` and its kinds for the shares; the others as for the passphrase."""
    header, body = read_header(data)
    holder = header.shares
    if holder is None:
        raise ShareError("this backup is held by a passphrase only: restore it with the passphrase")
    share_key = shares.combine(mnemonics, share_passphrase, holder.identifier)
    key = _unwrap(holder, share_key)
    if key is None:
        raise SharesDoNotOpen(
            "these shares do not open this backup: a wrong share passphrase, or its header was modified"
        )
    return _open_body(header, body, key)


def _take(random: Random, size: int) -> bytes:
    drawn = random(size)
    if len(drawn) != size:
        raise ValueError(f"random({size}) returned {len(drawn)} bytes")
    return bytes(drawn)


def _wrapped(holder: H, wrapping_key: bytes, vault_key: bytes) -> H:
    return replace(holder, wrapped=_aead_seal(vault_key, wrap_ad(holder), holder.nonce, wrapping_key))


def _unwrap(holder: Holder, wrapping_key: bytes) -> bytes | None:
    try:
        return bytes(_aead_open(holder.wrapped, wrap_ad(holder), holder.nonce, wrapping_key))
    except CryptoError:
        return None


def _open_body(header: Header, body: bytes, key: bytes) -> bytes:
    try:
        return bytes(_aead_open(body, header.raw, header.nonce, key))
    except CryptoError:
        raise DamagedVault("the backup's content does not check out: the file is damaged or was modified") from None
