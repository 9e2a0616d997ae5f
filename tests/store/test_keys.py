"""Device secrets: the real OS keyring (Secret Service), refused backends, and the passphrase file."""

from __future__ import annotations

import base64
import fcntl
import getpass
import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from nacl.pwhash import argon2id
from secretstorage.exceptions import PromptDismissedException

from walletsync.commands.prompt import terminal_prompt
from walletsync.errors import WalletsyncError
from walletsync.protocol.relay_auth import RelayIdentity
from walletsync.store.keyfile import KeyFileError, PassphraseFile, PassphraseRequired, WrongPassphrase
from walletsync.store.keys import PASSPHRASE_ENV, PassphraseMismatch, open_device_secrets
from walletsync.store.os_keyring import KEYRING_SERVICE, KeyringFailed, KeyringLocked, KeyringUnavailable, OsKeyring
from walletsync.store.secrets import DeviceSecrets, InvalidSecrets

# keyring registers every KeyringBackend subclass and picks its default among them the
# first time it is asked. Ask now, before the test backends below exist, so that they can
# only ever be installed explicitly with keyring.set_keyring().
keyring.get_keyring()

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


# --- DeviceSecrets -------------------------------------------------------------------------


def test_repr_and_str_show_the_client_id_not_the_secrets():
    """Printing or logging the device secrets (e.g. in a traceback) never shows key material."""
    secrets = DeviceSecrets.generate()
    for text in (repr(secrets), str(secrets), f"{secrets}", repr([secrets]), repr({"s": secrets})):
        assert_no_secret_in(text, secrets)
        assert secrets.client_id in text
    assert_no_secret_in(repr(FIXED), FIXED)


def test_bytes_round_trip_and_identity():
    """The keys read back from storage give the same relay client id the phone paired with."""
    secrets = DeviceSecrets.generate()
    again = DeviceSecrets.from_bytes(secrets.to_bytes())
    assert again == secrets and len(secrets.to_bytes()) == 64
    assert isinstance(secrets.identity, RelayIdentity)
    assert again.client_id == secrets.client_id == RelayIdentity(secrets.identity_seed).client_id
    assert secrets.client_id.startswith("did:key:z")


def test_generate_uses_the_given_randomness():
    """Tests and fixtures can build a fixed device identity (stable client ids in snapshots)."""
    chunks = iter([b"\x01" * 32, b"\x02" * 32])
    secrets = DeviceSecrets.generate(lambda n: next(chunks))
    assert secrets.identity_seed == b"\x01" * 32 and secrets.storage_key == b"\x02" * 32
    assert DeviceSecrets.generate() != DeviceSecrets.generate()


@pytest.mark.parametrize("data", [b"", b"\x00" * 63, b"\x00" * 65, "0" * 64])
def test_from_bytes_rejects_wrong_length(data):
    """Damaged stored keys give a clear walletsync error, not a crash further down."""
    with pytest.raises(InvalidSecrets, match="64 bytes") as caught:
        DeviceSecrets.from_bytes(data)
    assert caught.value.code == "invalid_secrets"


def test_fields_are_validated():
    """A wrong-sized key is refused when built, so nothing is ever sealed with a short key."""
    with pytest.raises(InvalidSecrets):
        DeviceSecrets(b"\x00" * 31, b"\x00" * 32)
    with pytest.raises(InvalidSecrets):
        DeviceSecrets(b"\x00" * 32, b"\x00" * 33)


# --- the real OS keyring -------------------------------------------------------------------


def test_keyring_creates_then_returns_the_same_secrets(secret_service, data_dir):
    """The device keeps one client id across restarts, so paired phones keep working."""
    ring = secret_service(data_dir)
    assert ring.load() is None
    first = open_device_secrets(data_dir)
    second = open_device_secrets(data_dir)
    assert second == first and second.client_id == first.client_id
    assert ring.load() == first
    assert ring.backend_name == "SecretService Keyring"


RACER = """
import sys
from pathlib import Path
from walletsync.store.keys import open_device_secrets
print(open_device_secrets(Path(sys.argv[1])).client_id)
"""


def flock_waiters(directory: Path) -> set[int]:
    """The processes blocked in flock() on ``directory``, from /proc/locks.

    A waiter's line reads ``3: -> FLOCK ADVISORY WRITE <pid> <major>:<minor>:<inode> 0 EOF``.
    """
    inode = str(directory.stat().st_ino)
    waiting = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[1:3] == ["->", "FLOCK"] and fields[6].rsplit(":", 1)[-1] == inode:
            waiting.add(int(fields[5]))
    return waiting


def test_processes_starting_at_once_agree_on_one_identity(secret_service, data_dir, tmp_path):
    """Several walletsync commands started at the same instant on a fresh data dir (e.g. the app and
    `walletsync phone`) end up with one device identity, not one each with only the last one stored.

    The test holds the first-use lock while the racers start, so every one of them has found the keyring
    empty and is blocked on the lock before any may create the keys: the worst case, on any machine speed.
    """
    secret_service(data_dir)
    lock = os.open(data_dir, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        racers = [
            subprocess.Popen([sys.executable, "-c", RACER, str(data_dir)], stdout=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        pids = {racer.pid for racer in racers}
        deadline = time.monotonic() + 60
        while not pids <= flock_waiters(data_dir):
            assert all(racer.poll() is None for racer in racers), "a racer finished without waiting for the lock"
            assert time.monotonic() < deadline, "the racers never all blocked on the first-use lock"
            time.sleep(0.01)
    finally:
        os.close(lock)  # releases the lock: the racers go
    ids = {racer.communicate(timeout=60)[0].strip() for racer in racers}
    assert ids == {open_device_secrets(data_dir).client_id}


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


# --- unusable or failing backends ----------------------------------------------------------


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


# --- the passphrase file -------------------------------------------------------------------


def test_file_round_trip_with_passphrase_argument(tmp_path, data_dir, no_env_passphrase):
    """With --keyring-file, the second start opens the same keys with the same passphrase."""
    path = tmp_path / "keys.json"
    first = open_device_secrets(data_dir, keyring_file=path, passphrase="correct horse")
    assert path.exists()
    assert open_device_secrets(data_dir, keyring_file=path, passphrase="correct horse") == first
    assert PassphraseFile(path, "correct horse").load() == first
    assert list(data_dir.iterdir()) == []


def test_file_round_trip_with_env_passphrase(tmp_path, data_dir, monkeypatch):
    """WALLETSYNC_PASSPHRASE lets scripts and CI use the key file without a prompt."""
    monkeypatch.setenv(PASSPHRASE_ENV, "from the environment")
    path = tmp_path / "keys.json"
    first = open_device_secrets(data_dir, keyring_file=path, prompt=pytest.fail)
    assert open_device_secrets(data_dir, keyring_file=path, prompt=pytest.fail) == first
    assert PassphraseFile(path, "from the environment").load() == first


def test_wrong_passphrase(tmp_path, data_dir, no_env_passphrase):
    """A mistyped passphrase says so, instead of creating a new identity or a decoding error."""
    path = tmp_path / "keys.json"
    open_device_secrets(data_dir, keyring_file=path, passphrase="right")
    before = path.read_bytes()
    with pytest.raises(WrongPassphrase) as caught:
        open_device_secrets(data_dir, keyring_file=path, passphrase="wrong")
    assert caught.value.code == "wrong_passphrase" and str(path) in str(caught.value)
    assert path.read_bytes() == before


def test_no_passphrase_and_no_tty(tmp_path, data_dir, no_env_passphrase, monkeypatch):
    """Run from a script without a passphrase, walletsync explains how to give one instead of hanging on a prompt."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    path = tmp_path / "keys.json"
    assert terminal_prompt() is None
    with pytest.raises(PassphraseRequired) as caught:
        open_device_secrets(data_dir, keyring_file=path, prompt=terminal_prompt())
    assert caught.value.code == "passphrase_required"
    assert PASSPHRASE_ENV in str(caught.value) and str(path) in str(caught.value)
    assert not path.exists()


def test_no_prompt_is_a_typed_error_even_on_a_terminal(tmp_path, data_dir, no_env_passphrase, monkeypatch):
    """The store never asks on its own: without a prompt from the caller, a passphrase it needs is PassphraseRequired."""
    master, slave = os.openpty()
    with open(slave, encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stdin", terminal)
        monkeypatch.setattr("getpass.getpass", pytest.fail)
        assert terminal_prompt() is not None  # the CLI would ask here; the store itself does not
        with pytest.raises(PassphraseRequired):
            open_device_secrets(data_dir, keyring_file=tmp_path / "keys.json")
    os.close(master)
    assert not (tmp_path / "keys.json").exists()


def test_the_terminal_prompt_asks_without_echo(monkeypatch):
    """On a terminal the CLI's prompt is getpass (no echo); a closed stdin counts as no terminal."""
    master, slave = os.openpty()
    with open(slave, encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stdin", terminal)
        assert terminal_prompt() is getpass.getpass
    os.close(master)
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stdin", closed)
    assert terminal_prompt() is None
    monkeypatch.setattr(sys, "stdin", None)
    assert terminal_prompt() is None


def test_the_store_never_talks_to_a_terminal():
    """Asking the user is the caller's job: nothing under walletsync/store imports getpass or reads stdin."""
    store = Path(__file__).resolve().parents[2] / "walletsync" / "store"
    for module in store.glob("*.py"):
        text = module.read_text()
        assert "getpass" not in text and "stdin" not in text and "input(" not in text, module.name


def test_file_holds_no_secret_in_clear_and_is_private(tmp_path, data_dir, no_env_passphrase):
    """The key file is unreadable to other users and holds the keys only sealed, never raw, hex or base64."""
    path = tmp_path / "keys.json"
    secrets = open_device_secrets(data_dir, keyring_file=path, passphrase="correct horse battery staple")
    raw = path.read_bytes()
    assert_no_secret_in(raw, secrets)
    assert b"correct horse" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "keys.json"]  # no temp file left behind
    document = json.loads(raw)
    assert {k: document[k] for k in ("format", "version", "kdf")} == {
        "format": "walletsync-keys",
        "version": 1,
        "kdf": "argon2id",
    }
    assert (document["opslimit"], document["memlimit"]) == (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)
    assert len(bytes.fromhex(document["salt"])) == argon2id.SALTBYTES


def test_save_replaces_atomically_with_a_new_salt(tmp_path):
    """Re-saving the key file keeps it private and readable; a crash mid-write would leave the old file intact."""
    path = tmp_path / "keys.json"
    cheap = {"opslimit": argon2id.OPSLIMIT_INTERACTIVE, "memlimit": argon2id.MEMLIMIT_INTERACTIVE}
    file = PassphraseFile(path, "pw", **cheap)
    assert file.load() is None
    file.save(FIXED)
    first_salt = json.loads(path.read_text())["salt"]
    file.save(FIXED)
    assert json.loads(path.read_text())["salt"] != first_salt
    assert file.load() == FIXED
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert file.create(DeviceSecrets.generate()) is False  # create never overwrites
    assert file.load() == FIXED
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]
    assert "pw" not in repr(file)


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"format": "something-else"}',
        b'{"format": "walletsync-keys", "version": 2}',
        b'{"format": "walletsync-keys", "version": 1, "kdf": "argon2id", "opslimit": 3, "memlimit": 99999999999999}',
        b'{"format": "walletsync-keys", "version": 1, "kdf": "argon2id", "opslimit": 3, "memlimit": 268435456, "salt": "zz", "box": "AA=="}',
        b'{"format": "walletsync-keys", "version": 1, "kdf": "argon2id", "opslimit": 3, "memlimit": 268435456, "salt": "00000000000000000000000000000000", "box": "AAAA"}',
    ],
    ids=[
        "not-json",
        "not-utf8",
        "not-object",
        "other-format",
        "future-version",
        "huge-memlimit",
        "bad-salt",
        "short-box",
    ],
)
def test_corrupt_file_names_the_path(tmp_path, data_dir, content):
    """A damaged key file gives one line naming the file, not a JSON traceback or a bogus passphrase error."""
    path = tmp_path / "keys.json"
    path.write_bytes(content)
    with pytest.raises(KeyFileError) as caught:
        open_device_secrets(data_dir, keyring_file=path, passphrase="pw")
    assert caught.value.code == "key_file_error"
    assert str(path) in str(caught.value) and caught.value.path == path
    assert path.read_bytes() == content  # never overwritten with a new identity


def test_modified_box_is_refused(tmp_path, no_env_passphrase):
    """A key file whose sealed part was edited is refused rather than loading altered keys."""
    path = tmp_path / "keys.json"
    PassphraseFile(path, "pw", opslimit=argon2id.OPSLIMIT_INTERACTIVE, memlimit=argon2id.MEMLIMIT_INTERACTIVE).save(
        FIXED
    )
    document = json.loads(path.read_text())
    box = bytearray(base64.b64decode(document["box"]))
    box[-1] ^= 1
    document["box"] = base64.b64encode(bytes(box)).decode()
    path.write_text(json.dumps(document))
    with pytest.raises(WrongPassphrase, match="modified"):
        PassphraseFile(path, "pw").load()


def test_new_file_prompts_twice(tmp_path, data_dir, no_env_passphrase):
    """Creating a key file interactively asks for the passphrase twice, so a typo cannot lock the user out."""
    path = tmp_path / "keys.json"
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "typed twice"

    secrets = open_device_secrets(data_dir, keyring_file=path, prompt=prompt)
    assert len(asked) == 2 and str(path) in asked[0]
    assert PassphraseFile(path, "typed twice").load() == secrets
    asked.clear()
    assert open_device_secrets(data_dir, keyring_file=path, prompt=prompt) == secrets
    assert len(asked) == 1  # an existing file is opened with one prompt


def test_prompt_mismatch_writes_nothing(tmp_path, data_dir, no_env_passphrase):
    """If the two typed passphrases differ, no key file is created and the user is told why."""
    path = tmp_path / "keys.json"
    answers = iter(["first", "second"])
    with pytest.raises(PassphraseMismatch):
        open_device_secrets(data_dir, keyring_file=path, prompt=lambda text: next(answers))
    assert not path.exists()


def test_prompt_retries_a_mistyped_passphrase(tmp_path, data_dir, no_env_passphrase):
    """One typo at the passphrase prompt lets the user try again instead of exiting."""
    path = tmp_path / "keys.json"
    secrets = open_device_secrets(data_dir, keyring_file=path, passphrase="right")
    answers = iter(["wrong", "right"])
    assert open_device_secrets(data_dir, keyring_file=path, prompt=lambda text: next(answers)) == secrets


def test_empty_passphrase_cannot_create_a_file(tmp_path, data_dir, no_env_passphrase):
    """An empty passphrase is refused when creating a key file, so the keys are never sealed with nothing."""
    path = tmp_path / "keys.json"
    with pytest.raises(PassphraseRequired):
        open_device_secrets(data_dir, keyring_file=path, passphrase="")
    with pytest.raises(PassphraseRequired):
        open_device_secrets(data_dir, keyring_file=path, prompt=lambda text: "")
    assert not path.exists()


def test_passphrase_is_unicode_normalised(tmp_path):
    """A passphrase with accents opens the file whichever way the keyboard composes them."""
    path = tmp_path / "keys.json"
    cheap = {"opslimit": argon2id.OPSLIMIT_INTERACTIVE, "memlimit": argon2id.MEMLIMIT_INTERACTIVE}
    PassphraseFile(path, "caf\u00e9", **cheap).save(FIXED)
    assert PassphraseFile(path, "cafe\u0301").load() == FIXED


def test_unreadable_file_names_the_path(tmp_path, data_dir):
    """A key file path that cannot be read (here: a directory) gives an error naming it."""
    path = tmp_path / "keys.json"
    path.mkdir()
    with pytest.raises(KeyFileError, match="cannot be read") as caught:
        open_device_secrets(data_dir, keyring_file=path, passphrase="pw")
    assert str(path) in str(caught.value)
