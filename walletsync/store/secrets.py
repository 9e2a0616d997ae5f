"""The device's two secrets as one value, and the interface of every place that keeps them.

A walletsync data dir belongs to one device identity, made of two 32-byte secrets
(:class:`DeviceSecrets`): the Ed25519 seed behind the relay client id and the audit
signatures, and the storage key that seals pairing and session keys inside SQLite
(:mod:`walletsync.store.sealing`). Neither is ever written to disk in clear: a
:class:`KeyStore` (:class:`~walletsync.store.os_keyring.OsKeyring` or
:class:`~walletsync.store.keyfile.PassphraseFile`) keeps them, and
:func:`walletsync.store.keys.open_device_secrets` picks one.

Everything raised about the secrets is a :class:`DeviceSecretsError` whose message says
what to do; no message ever contains key material.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from walletsync.errors import WalletsyncError
from walletsync.protocol.relay_auth import RelayIdentity

SEED_SIZE = 32
STORAGE_KEY_SIZE = 32
SECRETS_SIZE = SEED_SIZE + STORAGE_KEY_SIZE


class DeviceSecretsError(WalletsyncError):
    """The device secrets could not be loaded or stored. Messages never contain key material."""

    code = "device_secrets"


class InvalidSecrets(DeviceSecretsError):
    """Bytes that are not a device's secrets: wrong length, or a keyring entry walletsync did not write."""

    code = "invalid_secrets"


@dataclass(frozen=True)
class DeviceSecrets:
    """The device's identity seed and storage key. Holds secrets: never log or print them.

    ``repr``/``str`` show only the public relay client id. Keep the object in memory
    only as long as needed; store it with a :class:`KeyStore`.
    """

    identity_seed: bytes = field(repr=False)
    storage_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        for name, size in (("identity_seed", SEED_SIZE), ("storage_key", STORAGE_KEY_SIZE)):
            value = getattr(self, name)
            if not isinstance(value, (bytes, bytearray)) or len(value) != size:
                raise InvalidSecrets(f"{name} must be {size} bytes")
            object.__setattr__(self, name, bytes(value))

    @classmethod
    def generate(cls, random: Callable[[int], bytes] = os.urandom) -> DeviceSecrets:
        """Fresh secrets from ``random`` (the OS CSPRNG unless a test passes its own)."""
        return cls(random(SEED_SIZE), random(STORAGE_KEY_SIZE))

    @classmethod
    def from_bytes(cls, data: bytes) -> DeviceSecrets:
        """The inverse of :meth:`to_bytes`; :class:`InvalidSecrets` unless exactly 64 bytes."""
        if not isinstance(data, (bytes, bytearray)) or len(data) != SECRETS_SIZE:
            raise InvalidSecrets(f"device secrets must be {SECRETS_SIZE} bytes")
        return cls(bytes(data[:SEED_SIZE]), bytes(data[SEED_SIZE:]))

    def to_bytes(self) -> bytes:
        """``identity_seed ‖ storage_key`` (64 bytes): only for sealing or a keyring, never for disk in clear."""
        return self.identity_seed + self.storage_key

    @cached_property
    def identity(self) -> RelayIdentity:
        """The Ed25519 relay identity (client id, JWT and audit signing) behind ``identity_seed``."""
        return RelayIdentity(self.identity_seed)

    @property
    def client_id(self) -> str:
        """The public did:key the relay knows this device by."""
        return self.identity.client_id

    def __repr__(self) -> str:
        return f"DeviceSecrets(client_id={self.client_id!r})"

    __str__ = __repr__


class KeyStore(Protocol):
    """Where one device's secrets are kept. Both backends raise only :class:`DeviceSecretsError`."""

    def load(self) -> DeviceSecrets | None:
        """The stored secrets, or None if none are stored yet."""
        ...

    def save(self, secrets: DeviceSecrets) -> None:
        """Store ``secrets``, replacing any already there."""
        ...
