"""``walletsync rpc`` as a child process, with the reference phone paired to its data dir (the contract of issue #14).

The endpoint prints JSON lines on stdout: the first ``{"event": "listening", "url", "accounts", …}``, then one per
request it handled. They go to a file, not a pipe, so a test that runs tools for a while never blocks the endpoint
on a full pipe; ``events()`` reads them back.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.procs import REPO
from tests.test_phone import PhoneProcess
from walletsync.service import Companion, Config


class RpcEndpoint:
    """``walletsync rpc SESSION --json --port 0 --upstream URL`` on a data dir; stopped with SIGINT (exit 0)."""

    def __init__(self, home: Path, relay_url: str, session: str, upstream: str, log_dir: Path) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "walletsync",
            "rpc",
            session,
            "--json",
            "--port",
            "0",
            "--upstream",
            upstream,
            "--data-dir",
            str(home),
            "--relay",
            relay_url,
        ]
        stamp = time.monotonic_ns()
        self.out_path = log_dir / f"rpc-{stamp}.jsonl"
        self.log_path = log_dir / f"rpc-{stamp}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.listening: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return str(self.listening["url"])

    def start(self, timeout: float = 60.0) -> RpcEndpoint:
        """Start it and return once it printed its ``listening`` line."""
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=open(self.out_path, "wb"),
            stderr=open(self.log_path, "wb"),
            cwd=REPO,
        )
        deadline = time.monotonic() + timeout
        while not self.listening:
            events = self.events()
            if events:
                assert events[0].get("event") == "listening", events[0]
                self.listening = events[0]
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"walletsync rpc did not start; log: {self._log_tail()}")
            else:
                time.sleep(0.05)
        return self

    def events(self) -> list[dict[str, Any]]:
        """Every complete line it printed so far."""
        text = self.out_path.read_text(errors="replace") if self.out_path.exists() else ""
        return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n") and line.strip()]

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""

    def stop(self) -> int | None:
        """SIGINT, as a user's Ctrl-C; its exit status (the contract says 0)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(timeout=10)


@contextlib.asynccontextmanager
async def paired_phone(
    relay_url: str, home: Path, log_dir: Path, *phone_flags: str
) -> AsyncIterator[tuple[str, PhoneProcess]]:
    """A data dir at ``home`` with one session, whose reference phone (``walletsync phone --approve`` with
    ``phone_flags``) keeps running; yields the session's name and the phone. The companion that paired them is
    closed before the yield: the endpoint opens the data dir on its own."""
    companion = await Companion.open(Config(data_dir=str(home), relay=relay_url))
    phone: PhoneProcess | None = None
    try:
        try:
            await companion.start()
            offer = await companion.pair(name="phone")
            phone = await PhoneProcess.start(offer.uri, relay_url, log_dir, "--approve", *phone_flags)
            session = await companion.wait_for_session(offer.proposal_id, 30)
            await phone.expect("session")
        finally:
            await companion.close()
        yield session.name, phone
    finally:
        if phone is not None:
            await phone.close()
