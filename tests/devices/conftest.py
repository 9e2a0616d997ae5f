"""Fixtures for the device group: N walletsync installations (``Cli``s, one data dir each, the real keyring) on one
relay with the SQLite store, and linking two of them as a user does (the link URI on stdin)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.companion.conftest import Cli
from tests.procs import REPO, JsPeer, RelayProcess


def read_only(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """A SQLite file opened read only, closed after the ``with`` (a relay restarting on it finds it free)."""
    return contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10))


class Device(Cli):
    """One device of the user: its own data dir and logs, the group's relay."""

    def __init__(self, label: str, home: Path, relay_url: str, logs: Path) -> None:
        super().__init__(home, relay_url, logs)
        self.label = label

    async def feed(self, *args: str, stdin: str, timeout: float = 60) -> tuple[int, list[dict[str, Any]], str]:
        """Run a command with ``stdin`` as its input (a link pasted by the user); its exit code, JSON lines, stderr."""
        proc = await asyncio.create_subprocess_exec(
            *self.base,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=REPO,
            start_new_session=True,  # no controlling terminal: a script, not a user at a prompt
        )
        try:
            async with asyncio.timeout(timeout):
                out, err = await proc.communicate(stdin.encode())
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"walletsync {' '.join(args)} did not finish within {timeout:g} s") from None
        with open(self.logs / "cli.log", "a") as log:
            log.write(f"$ walletsync {' '.join(args)} < link\n{out.decode()}{err.decode()}[exit {proc.returncode}]\n")
        assert proc.returncode is not None
        return proc.returncode, [json.loads(line) for line in out.decode().splitlines() if line.strip()], err.decode()

    def me(self) -> dict[str, Any]:
        """This device as its own ``devices --json`` lists it."""
        return next(d for d in self.json("devices") if d["this_device"])

    def session_names(self) -> dict[str, str]:
        """topic → local name, for the active sessions (stored: no relay needed)."""
        return {s["topic"]: s["name"] for s in self.json("sessions", "--offline") if s["status"] == "active"}

    def db(self) -> contextlib.closing[sqlite3.Connection]:
        """The device's database, read only (for what no command shows yet); closed after the ``with``."""
        return read_only(self.home / "walletsync.db")

    def requests(self) -> list[dict[str, Any]]:
        """The signing requests this device holds, with their answers and verdicts (no command lists them yet)."""
        with self.db() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM requests ORDER BY created_at").fetchall()
        return [{k: row[k] for k in row.keys()} for row in rows]

    def remote_audit(self) -> list[dict[str, Any]]:
        """Other members' audit rows this device holds: ``{"device", **entry}`` (``walletsync audit`` shows only this
        device's own rows so far)."""
        with self.db() as db:
            rows = db.execute("SELECT device, entry FROM remote_audit ORDER BY device, seq").fetchall()
        return [{"device": device, **json.loads(entry)} for device, entry in rows]


class Relay:
    """The group's relay (SQLite store): its URL, its file, and a hard restart on the same port and file."""

    def __init__(self, start: Callable[..., RelayProcess], path: Path) -> None:
        self.start, self.path = start, path
        self.process = start("sqlite")

    @property
    def url(self) -> str:
        return self.process.url

    def restart_hard(self) -> None:
        """kill -9, then start again on the same file and port."""
        self.process.kill()
        self.process = self.start("sqlite", port=self.process.port)

    def rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with read_only(self.path) as db:
            return db.execute(query, args).fetchall()

    def bytes(self) -> bytes:
        """Everything the relay keeps on disk: its database file and the WAL beside it."""
        return b"".join(p.read_bytes() for p in sorted(self.path.parent.glob(self.path.name + "*")))


@pytest.fixture
def relay(start_relay, tmp_path) -> Relay:
    return Relay(start_relay, tmp_path / "relay.db")


@pytest.fixture
def make_devices(relay, tmp_path) -> Callable[[int], list[Device]]:
    """``make_devices(n)`` → n devices ``a``, ``b``, … with separate data dirs, all on ``relay``."""

    def make(count: int) -> list[Device]:
        made = []
        for label in "abcdefgh"[:count]:
            logs = tmp_path / f"logs-{label}"
            logs.mkdir()
            made.append(Device(label, tmp_path / f"home-{label}", relay.url, logs))
        return made

    return make


async def link(member: Device, joiner: Device, *, name: str | None = None) -> tuple[list[dict], list[dict]]:
    """``devices link --json --yes`` on ``member``, ``devices join --json --yes`` on ``joiner`` with the link on stdin;
    the JSON lines each printed (both must succeed)."""
    showing = await member.spawn("devices", "link", "--json", "--yes")
    try:
        offer = await showing.expect("link")
        code, joined, err = await joiner.feed(
            "devices", "join", "--json", "--yes", "--name", name or joiner.label, stdin=offer["uri"] + "\n"
        )
        assert code == 0, f"join → {code}: {joined} {err}"
        assert await showing.exit_code() == 0, showing.events
    finally:
        await showing.close()
    return showing.events, joined


async def js_wallet_paired(device: Device, log_dir: Path, *, name: str = "js") -> tuple[dict, JsPeer]:
    """``walletsync pair`` on ``device`` with the official JS wallet (auto-approve, auto-sign)."""
    pair = await device.spawn("pair", "--json", "--name", name)
    uri = (await pair.expect("uri"))["uri"]
    wallet = await JsPeer.start(device.relay_url, log_dir, name="js-wallet", flags=("--auto-approve", "--auto-sign"))
    await wallet.send("pair", uri=uri)
    session = await pair.expect("session")
    assert await pair.exit_code() == 0
    await wallet.expect("session")
    return session, wallet


def settle(*devices: Device, view: Callable[[Device], Any] | None = None, rounds: int = 5) -> int:
    """``walletsync sync`` on each device in turn until a whole round changes nothing ``view`` shows (default: the
    sessions' names, the requests and the other members' audit rows each holds); returns the rounds it took."""
    look = view or (lambda d: (d.session_names(), d.requests(), d.remote_audit()))
    before = [look(d) for d in devices]
    for done in range(1, rounds + 1):
        for device in devices:
            device.json("sync")
        after = [look(d) for d in devices]
        if after == before:
            return done
        before = after
    raise AssertionError(f"still changing after {rounds} rounds of sync")


async def until(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.2) -> None:
    """Wait for ``condition`` (checked every ``every`` s), failing after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(every)
