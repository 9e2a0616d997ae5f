"""A device's id: what every member calls a device, derived from its Ed25519 public key."""

from __future__ import annotations

import hashlib
import re

DEVICE_ID_CHARS = 32
_DEVICE_ID = re.compile(r"[0-9a-f]{32}")


def device_id(ed25519_public: bytes) -> str:
    """32 lowercase hex characters: the first 16 bytes of sha256 of the device's Ed25519 public key."""
    if len(ed25519_public) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(ed25519_public).digest()[:16].hex()


def is_device_id(value: object) -> bool:
    """True for a well-formed device id (peer input is checked with this before it is used)."""
    return isinstance(value, str) and _DEVICE_ID.fullmatch(value) is not None
