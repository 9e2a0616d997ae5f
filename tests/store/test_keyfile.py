"""The passphrase-sealed key file: its format, privacy and the errors that name it."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from nacl.pwhash import argon2id

from tests.store.leaks import FIXED, assert_no_secret_in
from walletsync.store.keyfile import KeyFileError, PassphraseFile, WrongPassphrase
from walletsync.store.keys import open_device_secrets
from walletsync.store.secrets import DeviceSecrets


def test_wrong_passphrase(tmp_path, data_dir, no_env_passphrase):
    """A mistyped passphrase says so, instead of creating a new identity or a decoding error."""
    path = tmp_path / "keys.json"
    open_device_secrets(data_dir, keyring_file=path, passphrase="right")
    before = path.read_bytes()
    with pytest.raises(WrongPassphrase) as caught:
        open_device_secrets(data_dir, keyring_file=path, passphrase="wrong")
    assert caught.value.code == "wrong_passphrase" and str(path) in str(caught.value)
    assert path.read_bytes() == before


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


# Written by PassphraseFile before the store was split (with libsodium's
# minimum Argon2id cost, secrets FIXED, passphrase "correct horse"): the format is frozen.
VERSION_1_FILE = """{
  "format": "walletsync-keys",
  "version": 1,
  "kdf": "argon2id",
  "opslimit": 1,
  "memlimit": 8192,
  "salt": "9321f4dc921f93e94482b4d1e642f716",
  "box": "G1DVVYv0LGtLeMlh/aW1RCsOXb2mZOkDBf8Bpv71UUMK05uUbD6nE+ZxXu0fHkq7oKquqc5sQHBj03BKnUID7qCW2XmgHzoiGtGXp8Yhb99i+6uCuqVd6hcCk4H6BUVSxnmqmglyxVM="
}
"""


def test_a_version_1_file_still_opens(tmp_path):
    """Key files written by earlier versions open unchanged, and a file written now has the same shape."""
    path = tmp_path / "keys.json"
    path.write_text(VERSION_1_FILE)
    assert PassphraseFile(path, "correct horse").load() == FIXED
    cheap = {"opslimit": argon2id.OPSLIMIT_MIN, "memlimit": argon2id.MEMLIMIT_MIN}
    PassphraseFile(path, "correct horse", **cheap).save(FIXED)
    written, known = json.loads(path.read_text()), json.loads(VERSION_1_FILE)
    assert list(written) == list(known) and path.read_text().endswith("}\n")
    assert {k: v for k, v in written.items() if k not in ("salt", "box")} == {
        k: v for k, v in known.items() if k not in ("salt", "box")
    }
    assert [len(written[k]) for k in ("salt", "box")] == [len(known[k]) for k in ("salt", "box")]
