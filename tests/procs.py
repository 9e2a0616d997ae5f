"""Real processes for integration tests: walletsync relays, redis-server, and the JS SDK peer."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
INTEROP = REPO / "tests" / "interop"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RelayProcess:
    """``walletsync relay`` as a child process; kill it any way a test likes and start it again on the same port."""

    def __init__(self, store: str, log_dir: Path, port: int | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.log_path = log_dir / f"relay-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> RelayProcess:
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "walletsync",
                "relay",
                "--json",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--store",
                self.store,
                "--log-level",
                "debug",
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=REPO,
        )
        deadline = time.monotonic() + timeout
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line or time.monotonic() > deadline:
            raise RuntimeError(f"relay did not start; log: {self.log_path.read_text()[-2000:]}")
        event = json.loads(line)
        assert event["event"] == "listening" and event["url"] == self.url, event
        return self

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill(signal.SIGTERM)


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        if not shutil.which("redis-server"):
            pytest.fail("redis-server is not installed: run the tests through ./scripts/test")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"FLUSHALL\r\n")
            s.recv(16)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class JsonLinesProcess:
    """A child process that prints one JSON object per line; tests wait for its events by name."""

    label = "process"

    def __init__(self, proc: asyncio.subprocess.Process, log_path: Path) -> None:
        self.proc, self.log_path = proc, log_path
        self.events: list[dict[str, Any]] = []
        self._consumed = 0

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""

    async def expect(self, event: str, timeout: float = 30.0) -> dict[str, Any]:
        """The next not-yet-seen event named ``event``; an error it reports, or its exit, fails the test at once."""
        deadline = time.monotonic() + timeout
        while True:
            for index in range(self._consumed, len(self.events)):
                item = self.events[index]
                if item.get("event") == event:
                    self._consumed = index + 1
                    return item
                if event != "error" and (item.get("event") == "error" or ("error" in item and "event" not in item)):
                    raise AssertionError(f"{self.label} reported {item}; log: {self._log_tail()}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{self.label}: no {event!r} within {timeout:g} s; saw {[e.get('event') for e in self.events]}; log: {self._log_tail()}"
                )
            assert self.proc.stdout is not None
            try:
                async with asyncio.timeout(remaining):
                    line = await self.proc.stdout.readline()
            except TimeoutError:
                continue
            if not line:
                raise AssertionError(
                    f"{self.label} exited ({await self.proc.wait()}) before {event!r}; saw {self.events}; log: {self._log_tail()}"
                )
            self.events.append(json.loads(line))

    async def exit_code(self, timeout: float = 30.0) -> int:
        """Read the rest of its output and wait for it to end."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            rest = await self.proc.stdout.read()
            self.events += [json.loads(line) for line in rest.decode().splitlines() if line.strip()]
            return await self.proc.wait()

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


class JsPeer(JsonLinesProcess):
    """The official SignClient in a node process (tests/interop/peer.mjs), driven by JSON lines."""

    label = "JS peer"

    @classmethod
    async def start(
        cls,
        relay_url: str,
        log_dir: Path,
        *,
        name: str = "js-peer",
        sdk: str = "current",
        flags: tuple[str, ...] = (),
        key: str | None = None,
    ) -> JsPeer:
        if not (INTEROP / "node_modules").exists():
            pytest.fail("npm packages missing: run the tests through ./scripts/test")
        log_path = log_dir / f"{name}.log"
        args = ["node", str(INTEROP / "peer.mjs"), "--relay", relay_url, "--sdk", sdk, "--name", name, *flags]
        if key:
            args += ["--key", key]
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=open(log_path, "w"),
            cwd=INTEROP,
        )
        peer = cls(proc, log_path)
        await peer.expect("ready")
        return peer

    async def send(self, cmd: str, **params: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **params}) + "\n").encode())
        await self.proc.stdin.drain()


class AnvilNode:
    """A real Ethereum node: Foundry's ``anvil`` from npm (tests/interop, ``@foundry-rs/anvil``), offline on loopback.

    It mines each transaction at once; its first account is the reference phone's test key, with 10000 ETH.
    ``chain_id`` 1 by default, so the phone's default chain (eip155:1) is the node's.
    """

    def __init__(self, log_dir: Path, chain_id: int = 1, *flags: str) -> None:
        """``flags`` go to anvil as they are (``--hardfork berlin``: a chain without EIP-1559)."""
        self.chain_id = chain_id
        self.flags = flags
        self.log_path = log_dir / f"anvil-{time.monotonic_ns()}.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""

    @staticmethod
    def binary() -> Path:
        """The platform binary npm installed (its optional dependency for this OS and CPU)."""
        found = sorted((INTEROP / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil"))
        if not found:
            pytest.fail(
                "anvil missing: run the tests through ./scripts/test (it installs tests/interop's npm packages)"
            )
        return found[0]

    def start(self, timeout: float = 30.0) -> AnvilNode:
        """Start on a free port (anvil picks it: ``--port 0``) and return once it answers ``eth_chainId``."""
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [str(self.binary()), "--host", "127.0.0.1", "--port", "0", "--chain-id", str(self.chain_id), *self.flags],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not self.url:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"anvil did not start; log: {self.log_path.read_text()[-2000:]}")
            for line in self.log_path.read_text(errors="replace").splitlines():
                if line.startswith("Listening on "):
                    self.url = "http://" + line.removeprefix("Listening on ").strip()
            if not self.url:
                time.sleep(0.05)
        while True:
            try:
                if self.call("eth_chainId") == hex(self.chain_id):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("anvil does not answer eth_chainId")
            time.sleep(0.05)

    def call(self, method: str, *params: Any) -> Any:
        """One JSON-RPC call; the node's error is an AssertionError."""
        import urllib.request

        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        assert "error" not in answer, answer
        return answer["result"]

    def balance(self, address: str) -> int:
        return int(self.call("eth_getBalance", address, "latest"), 16)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
