"""A first run on a machine with no OS keyring (a server, a container, an ssh login), and unlocking once per session.

Every command here runs as a user would start it, with no Secret Service reachable (no D-Bus session
address) and its own pseudo-terminal answering the passphrase questions. The login session is the
test's own runtime dir, so the agents it starts are the test's alone (and locked at the end).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.procs import REPO
from tests.terminal import Terminal
from walletsync.store.unlocked import LoginSession

PASSPHRASE = "correct horse battery"
OFFER = "no OS keyring is available here"
NEW = "New passphrase for the walletsync key file"
REPEAT = "Repeat the passphrase: "
ASKED = "Passphrase for the walletsync key file"
QUESTION = "assphrase for the walletsync key file"
"""In both questions: "New passphrase for …" and "Passphrase for …"."""


class Headless:
    """A user's shell on a machine with no OS keyring: a HOME, a login session (runtime dir), one data dir."""

    def __init__(self, root: Path, runtime: Path) -> None:
        self.root, self.runtime = root, runtime
        self.home = root / "data"
        self.key_file = self.home / "device-keys.json"
        self.env = {  # no D-Bus session: no Secret Service; none of walletsync's settings
            name: value
            for name, value in os.environ.items()
            if name != "DBUS_SESSION_BUS_ADDRESS" and not name.startswith("WALLETSYNC_")
        }
        self.env.update(HOME=str(root / "user"), XDG_RUNTIME_DIR=str(runtime), TERM="xterm-256color")
        self.runs = 0

    def walletsync(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "walletsync", "--data-dir", str(self.home), *args]

    def terminal(self, argv: list[str], env: dict[str, str] | None = None, stdout_too: bool = False) -> Terminal:
        """``argv`` on its own terminal; its stdout to a file unless ``stdout_too`` (the app draws on the terminal)."""
        self.runs += 1
        return Terminal(argv, env or self.env, None if stdout_too else self.root / f"stdout-{self.runs}.txt")

    def script(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """A command run with no terminal at all (a script, cron, CI)."""
        return subprocess.run(
            self.walletsync(*args),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env=env or self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # no controlling terminal either
        )

    def config(self) -> dict:
        return json.loads((self.home / "config.json").read_text())

    def agents(self) -> list[Path]:
        return sorted((self.runtime / "walletsync").glob("*.sock"))


@pytest.fixture
def headless(tmp_path) -> Iterator[Headless]:
    runtime = Path(tempfile.mkdtemp(prefix="ws-run-"))  # short: a unix socket path has at most 107 bytes
    machine = Headless(tmp_path, runtime)
    yield machine
    LoginSession(directory=runtime / "walletsync").lock_all()
    shutil.rmtree(runtime, ignore_errors=True)


def first_run(machine: Headless, argv: list[str], stdout_too: bool = False) -> Terminal:
    """``argv`` on a fresh data dir: the key file is offered, and created with PASSPHRASE typed twice."""
    term = machine.terminal(argv, stdout_too=stdout_too)
    offer = term.expect(NEW)
    assert OFFER in offer and str(machine.key_file) in offer and "config.json" in offer
    term.type(PASSPHRASE)
    term.expect(REPEAT)
    term.type(PASSPHRASE)
    return term


def test_a_fresh_headless_machine_is_offered_a_key_file_and_asked_once_per_session(headless):
    """No OS keyring: the first command offers the key file and creates it; config.json remembers it, so the next
    command needs no flag, and within the login session it does not ask again. After `walletsync lock` it asks
    again; a wrong passphrase is a clear error."""
    code, out = first_run(headless, headless.walletsync("sessions", "--offline", "--json")).finish()
    assert (code, json.loads(out)) == (0, [])
    assert headless.key_file.exists() and stat.S_IMODE(headless.key_file.stat().st_mode) == 0o600
    assert headless.config() == {"keyring_file": str(headless.key_file)}
    assert len(headless.agents()) == 1

    again = headless.terminal(headless.walletsync("sessions", "--offline", "--json"))
    code, out = again.finish(unasked=QUESTION)
    assert (code, json.loads(out)) == (0, [])

    locked = headless.script("lock", "--json")
    assert locked.returncode == 0 and json.loads(locked.stdout) == {"locked": [str(headless.key_file)]}
    assert headless.agents() == []

    wrong = headless.terminal(headless.walletsync("sessions", "--offline"))
    for _ in range(3):
        wrong.expect(ASKED)
        wrong.type("not the passphrase")
    code, _ = wrong.finish(unasked=ASKED)
    assert code == 1
    assert f"wrong passphrase for key file {headless.key_file}" in wrong.screen and "Traceback" not in wrong.screen
    assert headless.agents() == []

    right = headless.terminal(headless.walletsync("sessions", "--offline", "--json"))
    right.expect(ASKED)
    right.type(PASSPHRASE)
    code, out = right.finish()
    assert (code, json.loads(out)) == (0, [])
    code, out = headless.terminal(headless.walletsync("sessions", "--offline", "--json")).finish(unasked=QUESTION)
    assert (code, json.loads(out)) == (0, [])


def test_without_a_terminal_the_error_names_the_setting_and_guesses_nothing(headless):
    """From a script, the missing keyring is an error naming the exact variables; nothing is created. Following it
    works, and the data dir remembers the file (beside its other settings) for the commands after."""
    headless.home.mkdir(mode=0o700)
    (headless.home / "config.json").write_text('{"sync_ttl": 600}')
    refused = headless.script("sessions", "--offline")
    assert refused.returncode == 1 and refused.stdout == "" and refused.stderr.count("\n") == 1
    assert f"WALLETSYNC_KEYRING_FILE={headless.key_file}" in refused.stderr
    assert "WALLETSYNC_PASSPHRASE" in refused.stderr and "run walletsync once in a terminal" in refused.stderr
    assert not headless.key_file.exists() and headless.config() == {"sync_ttl": 600}
    assert not (headless.home / "walletsync.db").exists()

    told = {**headless.env, "WALLETSYNC_KEYRING_FILE": str(headless.key_file), "WALLETSYNC_PASSPHRASE": PASSPHRASE}
    first = headless.script("sessions", "--offline", "--json", env=told)
    assert first.returncode == 0, first.stderr
    assert headless.config() == {"sync_ttl": 600, "keyring_file": str(headless.key_file)}
    scripted = {**headless.env, "WALLETSYNC_PASSPHRASE": PASSPHRASE}
    later = headless.script("sessions", "--offline", "--json", env=scripted)
    assert later.returncode == 0 and json.loads(later.stdout) == [], later.stderr
    assert headless.agents() == []  # a passphrase from the environment starts no agent: scripts leave nothing behind


def test_a_data_dir_with_keys_elsewhere_gets_no_new_identity(headless):
    """A data dir that already has keys (here a key file the config does not name) is not offered a new key file
    when no OS keyring answers: that would be another identity, unable to open its sealed keys."""
    other = headless.root / "elsewhere.json"
    made = headless.script(
        "--keyring-file", str(other), "sessions", "--offline", env={**headless.env, "WALLETSYNC_PASSPHRASE": "x y z"}
    )
    assert made.returncode == 0, made.stderr
    (headless.home / "config.json").unlink()

    term = headless.terminal(headless.walletsync("sessions", "--offline"))
    code, _ = term.finish(unasked=QUESTION)
    assert code == 1 and "no OS keyring is available" in term.screen and "--keyring-file PATH" in term.screen
    assert not headless.key_file.exists()


def test_the_readme_first_command_runs_a_command_on_a_machine_with_no_keyring(headless):
    """`./scripts/run sessions` (the README's first command, with a command) on a fresh headless machine: the
    offer, then the command's output."""
    run = [str(REPO / "scripts" / "run"), "--data-dir", str(headless.home), "sessions", "--offline"]
    code, out = first_run(headless, run).finish()
    assert code == 0 and "No sessions yet" in out
    assert headless.config() == {"keyring_file": str(headless.key_file)}


def test_the_readme_first_command_opens_the_app_on_a_machine_with_no_keyring(headless, start_relay):
    """`./scripts/run` alone on a fresh headless machine: after the offer the app opens on its pairing screen
    ("Scan with your phone wallet"), and ctrl+q leaves it."""
    relay = start_relay("memory")
    argv = [str(REPO / "scripts" / "run"), "--data-dir", str(headless.home), "--relay", relay.url]
    app = first_run(headless, argv, stdout_too=True)
    app.expect("Scan with your phone wallet")
    app.press(b"\x11")  # ctrl+q
    code, _ = app.finish()
    assert code == 0
    assert headless.config() == {"keyring_file": str(headless.key_file)}


def test_a_remembered_key_file_that_is_gone_is_not_replaced(headless):
    """The key file config.json names has disappeared from a data dir in use: walletsync says so instead of
    offering a new file (another identity that could not open the sealed data)."""
    scripted = {**headless.env, "WALLETSYNC_PASSPHRASE": PASSPHRASE}
    made = headless.script("--keyring-file", str(headless.key_file), "sessions", "--offline", env=scripted)
    assert made.returncode == 0, made.stderr
    headless.key_file.unlink()

    term = headless.terminal(headless.walletsync("sessions", "--offline"))
    code, _ = term.finish(unasked=QUESTION)
    assert code == 1 and f"key file {headless.key_file}: does not exist" in term.screen
    assert not headless.key_file.exists()
