"""A key file unlocked once per login session: the agent that keeps it, what it refuses, and how it ends."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.leaks import FIXED, assert_no_secret_in
from walletsync.store.keyfile import PassphraseFile
from walletsync.store.keys import PASSPHRASE_ENV, open_device_secrets
from walletsync.store.unlocked import LoginSession, runtime_dir

CHEAP = {"opslimit": 1, "memlimit": 8192}
"""The lowest Argon2id cost: these tests are about the agent, not the KDF."""


@pytest.fixture
def sockets() -> Iterator[Path]:
    """A login session's socket directory of the test's own (short: a socket path has at most 107 bytes)."""
    directory = Path(tempfile.mkdtemp(prefix="ws-run-"))
    yield directory
    LoginSession(directory=directory).lock_all()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def key_file(tmp_path) -> Path:
    path = tmp_path / "keys.json"
    assert PassphraseFile(path, "typed", **CHEAP).create(FIXED)
    return path


def agent_pid(sock_path: Path) -> int:
    """The agent serving ``sock_path`` now: the process whose arguments name the socket and its inode."""
    wanted = [os.fsencode(sock_path), str(sock_path.stat().st_ino).encode()]
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"walletsync.store.agent" in argv and argv[argv.index(b"walletsync.store.agent") + 3 :][:2] == wanted:
            return int(proc.name)
    raise AssertionError(f"no agent serves {sock_path}")


def gone(path: Path, timeout: float = 30) -> bool:
    """Whether ``path`` disappears within ``timeout`` (the agent removes its socket as it exits)."""
    deadline = time.monotonic() + timeout
    while path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_kept_secrets_come_back_until_locked(sockets, key_file):
    """After keep(), the next command gets the same secrets from the agent; lock_all() makes it forget them."""
    session = LoginSession(directory=sockets)
    assert session.get(key_file) is None
    assert session.keep(key_file, FIXED)
    sock_path = session.socket_for(key_file)
    assert sock_path is not None and stat.S_IMODE(sock_path.stat().st_mode) == 0o600
    assert session.get(key_file) == FIXED
    assert session.get(key_file) == FIXED
    assert session.lock_all() == [key_file.resolve()]
    assert not sock_path.exists() and session.get(key_file) is None
    assert session.lock_all() == []


def test_the_agent_holds_no_secret_in_its_command_line_or_environment(sockets, key_file, monkeypatch):
    """The secrets reach the agent through a pipe: neither its argv nor its environment carries them (both are
    visible in /proc), nor a passphrase the parent had in its environment."""
    monkeypatch.setenv(PASSPHRASE_ENV, "typed")
    session = LoginSession(directory=sockets)
    assert session.keep(key_file, FIXED)
    sock_path = session.socket_for(key_file)
    assert sock_path is not None
    proc = Path("/proc") / str(agent_pid(sock_path))
    for part in ("cmdline", "environ"):
        shown = (proc / part).read_bytes()
        assert_no_secret_in(shown, FIXED)
        assert b"typed" not in shown and PASSPHRASE_ENV.encode() not in shown
    assert os.getsid(int(proc.name)) != os.getsid(0)  # not in our session: a closed terminal does not end it


def test_a_replaced_key_file_is_asked_for_again(sockets, key_file):
    """Re-sealing the file (a new passphrase) or replacing it makes the agent forget: the new file is asked for."""
    session = LoginSession(directory=sockets)
    assert session.keep(key_file, FIXED)
    PassphraseFile(key_file, "a new passphrase", **CHEAP).save(FIXED)
    assert session.get(key_file) is None
    sock_path = session.socket_for(key_file)
    assert sock_path is not None and not sock_path.exists()


def test_unused_for_keep_seconds_it_forgets(sockets, key_file):
    """The agent forgets the keys ``keep`` seconds after their last use, without being asked."""
    session = LoginSession(keep=0.2, directory=sockets)
    assert session.keep(key_file, FIXED)
    sock_path = session.socket_for(key_file)
    assert sock_path is not None and gone(sock_path)
    assert session.get(key_file) is None


def test_a_newer_agent_takes_over_the_socket(sockets, key_file):
    """Two commands keeping the same file at once: the last socket wins and answers; the other agent leaves."""
    session = LoginSession(directory=sockets)
    assert session.keep(key_file, FIXED)
    sock_path = session.socket_for(key_file)
    assert sock_path is not None
    first = agent_pid(sock_path)
    assert session.keep(key_file, FIXED)
    assert agent_pid(sock_path) != first
    assert session.get(key_file) == FIXED


def test_an_unsafe_socket_directory_keeps_nothing(tmp_path, key_file, monkeypatch):
    """A runtime dir another user could enter (or a link) is refused: nothing is kept, the passphrase is asked."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "walletsync").mkdir(mode=0o755)
    os.chmod(tmp_path / "walletsync", 0o755)
    assert runtime_dir() is None
    assert not LoginSession().keep(key_file, FIXED)
    (tmp_path / "walletsync").rmdir()
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    (tmp_path / "walletsync").symlink_to(tmp_path / "elsewhere")
    assert runtime_dir() is None


def test_without_a_runtime_dir_a_private_one_in_tmp_is_used(monkeypatch):
    """No $XDG_RUNTIME_DIR (su, some containers): /tmp/walletsync-UID, 0700, as tmux does."""
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    directory = runtime_dir()
    assert directory == Path(tempfile.gettempdir()) / f"walletsync-{os.getuid()}"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_open_keeps_a_typed_passphrase_only(sockets, tmp_path, data_dir, no_env_passphrase):
    """open_device_secrets with a session: a passphrase typed at the prompt is asked once per session; one given
    by a script (argument or environment) starts no agent."""
    session = LoginSession(directory=sockets)
    scripted = tmp_path / "scripted.json"
    open_device_secrets(data_dir, keyring_file=scripted, passphrase="given", session=session)
    assert session.get(scripted) is None and list(sockets.iterdir()) == []

    typed = tmp_path / "typed.json"
    answers = iter(["typed twice", "typed twice"])
    first = open_device_secrets(data_dir, keyring_file=typed, prompt=lambda _: next(answers), session=session)
    assert open_device_secrets(data_dir, keyring_file=typed, prompt=pytest.fail, session=session) == first
    session.lock_all()
    with pytest.raises(StopIteration):  # asked again
        open_device_secrets(data_dir, keyring_file=typed, prompt=lambda _: next(answers), session=session)
