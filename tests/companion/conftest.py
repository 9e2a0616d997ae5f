"""Fixtures for the companion: walletsync CLI processes against a real relay, with the real keyring."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.procs import REPO


class Cli:
    """``walletsync`` as a user runs it: one data dir, one relay, the real OS keyring."""

    def __init__(self, home: Path, relay_url: str, logs: Path) -> None:
        self.home, self.relay_url, self.logs = home, relay_url, logs
        self.base = [sys.executable, "-m", "walletsync", "--data-dir", str(home), "--relay", relay_url]

    def run(self, *args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
        out = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env, stdin=subprocess.DEVNULL)
        with open(self.logs / "cli.log", "a") as log:
            log.write(f"$ walletsync {' '.join(args)}\n{out.stdout}{out.stderr}[exit {out.returncode}]\n")
        return out

    def json(self, *args: str, ok: bool = True, **kwargs: Any) -> Any:
        out = self.run(*args, "--json", **kwargs)
        assert (out.returncode == 0) == ok, f"walletsync {' '.join(args)} → {out.returncode}\n{out.stdout}\n{out.stderr}"
        return json.loads(out.stdout)

    async def spawn(self, *args: str) -> Stream:
        proc = await asyncio.create_subprocess_exec(*self.base, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=open(self.logs / f"{args[0]}-{os.getpid()}-{len(list(self.logs.iterdir()))}.log", "w"), cwd=REPO)
        return Stream(proc)

    async def phone(self, uri: str, *flags: str) -> Stream:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "walletsync", "phone", uri, "--json", "--relay", self.relay_url, *flags,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=open(self.logs / f"phone-{len(list(self.logs.iterdir()))}.log", "w"), cwd=REPO,
        )
        return Stream(proc)


class Stream:
    """A running process printing JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []

    async def expect(self, event: str, timeout: float = 30) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                line = await self.proc.stdout.readline()  # type: ignore[union-attr]
                if not line:
                    raise AssertionError(f"process exited ({await self.proc.wait()}) before {event!r}; saw {self.lines}")
                item = json.loads(line)
                self.lines.append(item)
                if item.get("event") == event:
                    return item

    async def finish(self, timeout: float = 30) -> int:
        async with asyncio.timeout(timeout):
            rest = await self.proc.stdout.read()  # type: ignore[union-attr]
            self.lines += [json.loads(line) for line in rest.splitlines() if line.strip()]
            return await self.proc.wait()

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@pytest.fixture
def cli(start_relay, tmp_path) -> Cli:
    relay = start_relay("memory")
    home = tmp_path / "home"
    logs = tmp_path / "logs"
    logs.mkdir()
    return Cli(home, relay.url, logs)


async def paired(cli: Cli, *phone_flags: str, name: str | None = None) -> tuple[dict, Stream]:
    """``walletsync pair`` + ``walletsync phone --approve``: the session object and the running phone."""
    pair = await cli.spawn("pair", "--json", *(["--name", name] if name else []))
    uri = (await pair.expect("uri"))["uri"]
    phone = await cli.phone(uri, "--approve", *phone_flags)
    session = await pair.expect("session")
    assert await pair.finish() == 0
    await phone.expect("session")
    return session, phone
