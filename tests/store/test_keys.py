"""Opening the device secrets: one identity under the first-use lock, and where the passphrase comes from."""

from __future__ import annotations

import fcntl
import getpass
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from walletsync.commands.prompt import terminal_prompt
from walletsync.store.keyfile import PassphraseFile, PassphraseRequired
from walletsync.store.keys import PASSPHRASE_ENV, PassphraseMismatch, open_device_secrets

# --- the first-use lock ------------------------------------------------------------------


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


# --- the passphrase: argument, environment, prompt ---------------------------------------


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
        text = module.read_text().replace("stdin=subprocess.DEVNULL", "")  # the agent is kept off the terminal
        assert "getpass" not in text and "stdin" not in text and "input(" not in text, module.name


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
