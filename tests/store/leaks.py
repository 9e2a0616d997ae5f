"""Fixed secrets for the device-secrets tests, and the check that none of them leaked into text or a file."""

from __future__ import annotations

import base64

from walletsync.store.secrets import DeviceSecrets

FIXED = DeviceSecrets(bytes(range(32)), bytes(range(32, 64)))


def secret_forms(secrets: DeviceSecrets) -> list[bytes]:
    """Every way a secret could leak into text or a file: raw, hex (both cases), base64."""
    forms = []
    for value in (secrets.identity_seed, secrets.storage_key, secrets.to_bytes()):
        forms += [value, value.hex().encode(), value.hex().upper().encode(), base64.b64encode(value)]
    return forms


def assert_no_secret_in(text: str | bytes, secrets: DeviceSecrets) -> None:
    data = text.encode() if isinstance(text, str) else text
    for form in secret_forms(secrets):
        assert form not in data
