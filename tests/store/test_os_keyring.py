"""The OS keyring backend: the real Secret Service, and the backends walletsync refuses or reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from secretstorage.exceptions import PromptDismissedException

from tests.store.leaks import FIXED, assert_no_secret_in
from walletsync.errors import WalletsyncError
from walletsync.store.keys import open_device_secrets
from walletsync.store.os_keyring import KEYRING_SERVICE, KeyringFailed, KeyringLocked, KeyringUnavailable, OsKeyring
from walletsync.store.secrets import InvalidSecrets

# --- test backends (installed only through keyring.set_keyring) --------------------------


class LockedKeyring(KeyringBackend):
    """A keyring whose unlock prompt was dismissed, as keyring reports it."""

    priority = 5

    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    set_password = delete_password = get_password


class DismissedPromptKeyring(KeyringBackend):
    """gnome-keyring with no prompter: keyring wraps secretstorage's PromptDismissedException in InitError."""

    priority = 5

    def get_password(self, service, username):
        try:
            raise PromptDismissedException("Prompt dismissed.")
        except PromptDismissedException as exc:
            raise keyring.errors.InitError(f"Failed to create the collection: {exc}.") from exc

    set_password = delete_password = get_password


class PlaintextKeyring(KeyringBackend):
    """Stands in for keyrings.alt.file.PlaintextKeyring: keeps passwords readable, claims a high priority."""

    priority = 5

    def __init__(self):
        super().__init__()
        self.saved: dict = {}

    def get_password(self, service, username):
        return self.saved.get((service, username))

    def set_password(self, service, username, password):
        self.saved[(service, username)] = password

    def delete_password(self, service, username):
        self.saved.pop((service, username), None)


class FileKeyring(PlaintextKeyring):
    """A non-recommended backend (priority below 1, like keyrings.alt's file backends)."""

    priority = 0.5


class EchoingKeyring(KeyringBackend):
    """A backend whose write error quotes the password it was given (some D-Bus errors echo arguments)."""

    priority = 5

    def get_password(self, service, username):
        return None

    def set_password(self, service, username, password):
        raise keyring.errors.PasswordSetError(f"cannot store {password!r} for {username}")

    def delete_password(self, service, username):
        raise keyring.errors.PasswordDeleteError("No such password!")


# --- the real OS keyring -----------------------------------------------------------------


def test_keyring_creates_then_returns_the_same_secrets(secret_service, data_dir):
    """The device keeps one client id across restarts, so paired phones keep working."""
    ring = secret_service(data_dir)
    assert ring.load() is None
    first = open_device_secrets(data_dir)
    second = open_device_secrets(data_dir)
    assert second == first and second.client_id == first.client_id
    assert ring.load() == first
    assert ring.backend_name == "SecretService Keyring"


def test_two_data_dirs_get_different_secrets(secret_service, tmp_path):
    """Two data dirs (e.g. --data-dir for a second profile) never share a device identity."""
    one, two = tmp_path / "one", tmp_path / "two"
    secret_service(one), secret_service(two)
    first, second = open_device_secrets(one), open_device_secrets(two)
    assert first.client_id != second.client_id
    assert first.storage_key != second.storage_key
    assert open_device_secrets(one) == first and open_device_secrets(two) == second


def test_same_dir_by_another_path_is_the_same_identity(secret_service, data_dir, monkeypatch):
    """Reaching the data dir through a relative path or a symlink does not create a second identity."""
    secret_service(data_dir)
    first = open_device_secrets(data_dir)
    link = data_dir.parent / "link"
    link.symlink_to(data_dir)
    monkeypatch.chdir(data_dir.parent)
    assert open_device_secrets(Path("data")) == first
    assert open_device_secrets(link) == first


def test_secret_is_in_the_secret_service_and_not_in_the_data_dir(secret_service, data_dir):
    """The keys really live in the OS keyring: nothing secret is left in the data dir for a backup to copy."""
    ring = secret_service(data_dir)
    secrets = open_device_secrets(data_dir)
    stored = keyring.get_password(KEYRING_SERVICE, ring.username)
    assert stored == secrets.to_bytes().hex()
    assert ring.service == "walletsync" and ring.username.startswith("device:")
    assert list(data_dir.iterdir()) == []


def test_delete_forgets_the_secrets(secret_service, data_dir):
    """After the keys are deleted, the next start creates a new identity instead of reusing the old one."""
    ring = secret_service(data_dir)
    first = open_device_secrets(data_dir)
    assert ring.delete() is True
    assert ring.load() is None
    assert keyring.get_password(KEYRING_SERVICE, ring.username) is None
    assert ring.delete() is False
    assert open_device_secrets(data_dir) != first


def test_save_replaces_the_entry(secret_service, data_dir):
    """Restoring keys from a backup overwrites the keyring entry instead of adding a second one."""
    ring = secret_service(data_dir)
    open_device_secrets(data_dir)
    ring.save(FIXED)
    assert ring.load() == FIXED
    assert open_device_secrets(data_dir) == FIXED


def test_damaged_keyring_entry_is_a_clear_error(secret_service, data_dir):
    """An entry edited in Seahorse gives a message naming it, not a hex-decoding traceback."""
    ring = secret_service(data_dir)
    keyring.set_password(KEYRING_SERVICE, ring.username, "not hex at all")
    with pytest.raises(InvalidSecrets, match=ring.username):
        open_device_secrets(data_dir)
    keyring.set_password(KEYRING_SERVICE, ring.username, "ab" * 63)
    with pytest.raises(InvalidSecrets, match="128 hex digits"):
        ring.load()


# --- unusable or failing backends --------------------------------------------------------


def test_no_backend_says_how_to_fix_it(restore_keyring, data_dir):
    """Without a keyring, the user is told to start one or use --keyring-file, not shown a keyring traceback."""
    restore_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailable) as caught:
        open_device_secrets(data_dir)
    error = caught.value
    assert isinstance(error, WalletsyncError) and error.code == "keyring_unavailable"
    assert "--keyring-file" in str(error) and "gnome-keyring" in str(error)
    assert list(data_dir.iterdir()) == []


@pytest.mark.parametrize("backend", [PlaintextKeyring, FileKeyring], ids=["plaintext-name", "low-priority"])
def test_plaintext_backend_is_refused(restore_keyring, data_dir, backend):
    """A plaintext keyring (keyrings.alt) is refused and nothing is written to it: no silent plaintext fallback."""
    installed = backend()
    restore_keyring(installed)
    with pytest.raises(KeyringUnavailable, match="--keyring-file"):
        open_device_secrets(data_dir)
    with pytest.raises(KeyringUnavailable):
        OsKeyring(data_dir).save(FIXED)
    assert installed.saved == {}


def test_disabled_keyring_is_refused(restore_keyring, data_dir):
    """With keyring disabled (null backend), walletsync says so instead of losing new keys on every start."""
    restore_keyring(null.Keyring())
    with pytest.raises(KeyringUnavailable, match="disabled"):
        open_device_secrets(data_dir)


@pytest.mark.parametrize("backend", [LockedKeyring, DismissedPromptKeyring], ids=["locked", "prompt-dismissed"])
def test_locked_keyring_asks_to_unlock(restore_keyring, data_dir, backend):
    """A locked keyring (or a dismissed unlock prompt) tells the user to unlock it and retry."""
    restore_keyring(backend())
    with pytest.raises(KeyringLocked) as caught:
        open_device_secrets(data_dir)
    assert caught.value.code == "keyring_locked"
    assert "unlock it and retry" in str(caught.value)
    assert caught.value.reason  # keyring's own words are kept for diagnosis


def test_backend_errors_never_echo_the_secret(restore_keyring, data_dir):
    """If the keyring fails while storing, the error shown to the user does not contain the keys."""
    restore_keyring(EchoingKeyring())
    with pytest.raises(KeyringFailed) as caught:
        OsKeyring(data_dir).save(FIXED)
    assert caught.value.code == "keyring_error"
    assert "PasswordSetError" in str(caught.value) and "<redacted>" in str(caught.value)
    assert_no_secret_in(str(caught.value) + repr(caught.value), FIXED)


SHORTCUT = """
import json, sys
from walletsync.store.os_keyring import OsKeyring
OsKeyring(sys.argv[1]).load()
import keyring
print(json.dumps([type(keyring.get_keyring()).__module__, "keyring.backends.macOS" in sys.modules]))
"""


def test_unconfigured_linux_asks_the_secret_service_without_detecting(secret_service, tmp_path):
    """With no keyring configuration the Secret Service is asked directly: keyring's detection (every backend
    imported, every package's entry points scanned: about 50 ms of every command) is skipped."""
    done = subprocess.run([sys.executable, "-c", SHORTCUT, str(tmp_path)], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == ["keyring.backends.SecretService", False]


def test_a_configured_backend_still_wins(secret_service, tmp_path):
    """``PYTHON_KEYRING_BACKEND`` (or a keyringrc.cfg) chooses the backend as before: here the null one, refused."""
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    done = subprocess.run([sys.executable, "-c", SHORTCUT, str(tmp_path)], capture_output=True, text=True, env=env)
    assert done.returncode != 0
    assert "keyring is disabled" in done.stderr
