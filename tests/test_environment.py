"""The test command provides the real services later features rely on."""

from __future__ import annotations

import shutil

import keyring
import pytest


def test_real_secret_service_keyring_round_trips():
    """Tests must reach gnome-keyring through D-Bus, not a fake or a plaintext file."""
    backend = keyring.get_keyring()
    assert type(backend).__module__ == "keyring.backends.SecretService", f"got {backend!r}; run the tests through scripts/test"
    keyring.set_password("walletsync-test", "probe", "s3cret")
    try:
        assert keyring.get_password("walletsync-test", "probe") == "s3cret"
    finally:
        keyring.delete_password("walletsync-test", "probe")


@pytest.mark.parametrize("tool", ["redis-server", "node", "npm"])
def test_service_binaries_installed(tool):
    assert shutil.which(tool), f"{tool} missing: scripts/test should have installed it"
