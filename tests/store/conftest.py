"""Fixtures of the device-secrets tests: the real Secret Service, swapping in another backend, a data dir."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.errors
import pytest

from walletsync.store.keys import PASSPHRASE_ENV
from walletsync.store.os_keyring import OsKeyring

# keyring registers every KeyringBackend subclass and picks its default among them the
# first time it is asked. Ask now, before the test backends exist, so that they can
# only ever be installed explicitly with keyring.set_keyring().
keyring.get_keyring()


@pytest.fixture
def restore_keyring():
    """Lets a test install another backend with keyring.set_keyring; puts the real one back after."""
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


@pytest.fixture
def secret_service():
    """The real Secret Service (gnome-keyring over D-Bus) that scripts/test starts; cleans up what tests store."""
    backend = keyring.get_keyring()
    if type(backend).__module__ != "keyring.backends.SecretService":
        pytest.fail(f"needs the real Secret Service keyring, got {backend!r}: run ./scripts/test")
    rings: list[OsKeyring] = []

    def ring(data_dir: Path) -> OsKeyring:
        rings.append(OsKeyring(data_dir))
        return rings[-1]

    yield ring
    for made in rings:
        try:
            keyring.delete_password(made.service, made.username)
        except keyring.errors.PasswordDeleteError:
            pass


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def no_env_passphrase(monkeypatch):
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
