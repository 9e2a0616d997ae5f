"""Fixtures for the companion: walletsync CLI processes against a real relay, with the real keyring."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.procs import REPO, JsonLinesProcess
from tests.test_phone import PhoneProcess


class Cli:
    """``walletsync`` as a user runs it: one data dir, one relay, the real OS keyring."""

    def __init__(self, home: Path, relay_url: str, logs: Path) -> None:
        self.home, self.relay_url, self.logs = home, relay_url, logs
        self.base = [sys.executable, "-m", "walletsync", "--data-dir", str(home), "--relay", relay_url]

    def run(self, *args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [*self.base, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        with open(self.logs / "cli.log", "a") as log:
            log.write(f"$ walletsync {' '.join(args)}\n{out.stdout}{out.stderr}[exit {out.returncode}]\n")
        return out

    def json(self, *args: str, ok: bool = True, **kwargs: Any) -> Any:
        out = self.run(*args, "--json", **kwargs)
        assert (out.returncode == 0) == ok, (
            f"walletsync {' '.join(args)} → {out.returncode}\n{out.stdout}\n{out.stderr}"
        )
        return json.loads(out.stdout)

    async def spawn(self, *args: str) -> JsonLinesProcess:
        """A long-running command (``pair --json``) whose JSON lines the test reads as they come."""
        log_path = self.logs / f"{args[0]}-{len(list(self.logs.iterdir()))}.log"
        proc = await asyncio.create_subprocess_exec(
            *self.base,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=open(log_path, "w"),
            cwd=REPO,
        )
        return JsonLinesProcess(proc, log_path)

    async def phone(self, uri: str, *flags: str) -> PhoneProcess:
        return await PhoneProcess.start(uri, self.relay_url, self.logs, *flags)


@pytest.fixture
def cli(start_relay, tmp_path) -> Cli:
    relay = start_relay("memory")
    home = tmp_path / "home"
    logs = tmp_path / "logs"
    logs.mkdir()
    return Cli(home, relay.url, logs)


async def paired(cli: Cli, *phone_flags: str, name: str | None = None) -> tuple[dict, PhoneProcess]:
    """``walletsync pair`` + ``walletsync phone --approve``: the session object and the running phone."""
    pair = await cli.spawn("pair", "--json", *(["--name", name] if name else []))
    uri = (await pair.expect("uri"))["uri"]
    phone = await cli.phone(uri, "--approve", *phone_flags)
    session = await pair.expect("session")
    assert await pair.exit_code() == 0
    await phone.expect("session")
    return session, phone
