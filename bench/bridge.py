"""The rpc endpoint's cost: proxied reads against the upstream itself, and what a signed send adds beyond the phone.

Run: .venv/bin/python bench/bridge.py [SECONDS]     (default 3 s per round; ≈1 min, loopback only)

One run, one machine, everything real and on loopback: anvil (tests/interop's ``@foundry-rs/anvil``) is the
upstream; a ``walletsync relay --store memory``; the reference phone (``walletsync phone --approve
--auto-approve --rpc ANVIL``) paired with a data dir; ``walletsync rpc SESSION --upstream ANVIL`` on that data dir.

- Reads: ``eth_blockNumber`` and ``eth_getBalance``, alternating, as JSON-RPC POSTs on kept-alive HTTP/1.1
  connections from this process (asyncio, raw sockets: the client stays cheap next to either server), for
  SECONDS per round, to anvil and to the endpoint in turn, 3 rounds each; the median round. Once with one
  connection (one request at a time: the latency the endpoint adds) and once with 8 (throughput). Every answer
  must carry a ``result``.
- Signed sends: ``eth_sendTransaction`` of 1, 2, … wei with only ``from``/``to``/``value`` (what web3.py sends; the
  endpoint fills the rest), one after the other, to the endpoint; the phone's own time is from its ``request``
  line to its ``response`` line (it signs and broadcasts to anvil in between), read as it prints them. The
  overhead is the client's round trip minus that. Baseline: the same send to anvil's unlocked account.

The endpoint's device keys need a Secret Service keyring: without a D-Bus session the bench re-runs itself under
``dbus-run-session`` with a throw-away unlocked gnome-keyring. Nothing here asserts.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import start_relay, under_a_keyring  # noqa: E402

ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's first account: the reference phone's key
FRIEND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ROUNDS = 3
CONNECTIONS = 8
SENDS = 20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- a small HTTP/1.1 JSON-RPC client ----------------------------------------------------------


class Connection:
    """One kept-alive HTTP/1.1 connection posting JSON-RPC to ``/``; enough HTTP for anvil and the endpoint."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> Connection:
        parts = urlsplit(url)
        assert parts.hostname and parts.port, url
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, f"{parts.hostname}:{parts.port}")

    @staticmethod
    def request_bytes(host: str, body: dict[str, Any]) -> bytes:
        payload = json.dumps(body).encode()
        head = (
            f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload

    async def post(self, request: bytes) -> bytes:
        """Send a prepared request; the response body (Content-Length or chunked)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status, *lines = head.decode("latin-1").split("\r\n")
        if " 200 " not in status + " ":
            raise RuntimeError(f"HTTP {status}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        if "content-length" in headers:
            return await self.reader.readexactly(int(headers["content-length"]))
        body = b""
        while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
            body += await self.reader.readexactly(size)
            await self.reader.readexactly(2)
        await self.reader.readexactly(2)
        return body

    async def call(self, method: str, *params: Any) -> Any:
        answer = json.loads(await self.post(self.request_bytes(self.host, _body(method, list(params)))))
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def _body(method: str, params: list[Any], id_: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}


async def reads_per_second(url: str, seconds: float, connections: int) -> tuple[float, list[float]]:
    """Alternating ``eth_blockNumber`` / ``eth_getBalance`` on ``connections`` connections for ``seconds``;
    the rate and every request's latency in ms."""
    host = f"{urlsplit(url).hostname}:{urlsplit(url).port}"
    reads = [
        Connection.request_bytes(host, _body("eth_blockNumber", [])),
        Connection.request_bytes(host, _body("eth_getBalance", [ACCOUNT, "latest"])),
    ]
    opened = [await Connection.open(url) for _ in range(connections)]
    latencies: list[float] = []

    async def loop(connection: Connection, deadline: float) -> None:
        n = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            body = await connection.post(reads[n % 2])
            latencies.append((time.perf_counter() - started) * 1000)
            if b'"result"' not in body:
                raise RuntimeError(f"not a result: {body[:200]!r}")
            n += 1

    try:
        for connection in opened:  # warm: the first request on each connection is not counted
            await connection.post(reads[0])
        started = time.perf_counter()
        await asyncio.gather(*(loop(c, started + seconds) for c in opened))
        elapsed = time.perf_counter() - started
    finally:
        for connection in opened:
            await connection.close()
    return len(latencies) / elapsed, latencies


async def bench_reads(anvil_url: str, endpoint_url: str, seconds: float) -> None:
    for connections in (1, CONNECTIONS):
        rates: dict[str, list[float]] = {"anvil": [], "endpoint": []}
        latencies: dict[str, list[float]] = {"anvil": [], "endpoint": []}
        for _ in range(ROUNDS):
            for name, url in (("anvil", anvil_url), ("endpoint", endpoint_url)):
                rate, lat = await reads_per_second(url, seconds, connections)
                rates[name].append(rate)
                latencies[name] += lat
        direct = statistics.median(rates["anvil"])
        print(
            f"\nproxied reads, {connections} connection{'s' if connections > 1 else ''} (median of {ROUNDS} rounds of {seconds:g} s)"
        )
        print(f"{'to':<34} {'reads/s':>9} {'vs anvil':>9} {'p50':>9} {'p99':>9}")
        for name, label in (("anvil", "anvil (upstream, direct)"), ("endpoint", "walletsync rpc → anvil")):
            rate = statistics.median(rates[name])
            p50, p99 = statistics.median(latencies[name]), pct(latencies[name], 0.99)
            print(f"{label:<34} {rate:9.0f} {rate / direct:8.2f}× {p50:6.2f} ms {p99:6.2f} ms")


# --- signed sends --------------------------------------------------------------------------------


class PhoneClock:
    """Reads the reference phone's JSON lines as it prints them, noting when each ``request``/``response`` came."""

    def __init__(self, stdout: asyncio.StreamReader) -> None:
        self.stdout = stdout
        self.seen: list[tuple[float, dict[str, Any]]] = []
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while line := await self.stdout.readline():
            self.seen.append((time.perf_counter(), json.loads(line)))
            self.changed.set()

    async def answered(self, count: int, timeout: float = 60) -> None:
        """Wait until the phone has printed ``count`` responses in all."""
        async with asyncio.timeout(timeout):
            while sum(1 for _, e in self.seen if e.get("event") == "response") < count:
                self.changed.clear()
                await self.changed.wait()

    def spans(self) -> list[float]:
        """Each request's time on the phone, ms, in the order asked (request line → its response line)."""
        asked = {e["id"]: t for t, e in self.seen if e.get("event") == "request"}
        return [(t - asked[e["id"]]) * 1000 for t, e in self.seen if e.get("event") == "response" and e["id"] in asked]

    def stop(self) -> None:
        self.task.cancel()


async def bench_sends(anvil_url: str, endpoint_url: str, phone: PhoneClock) -> None:
    totals: dict[str, list[float]] = {"anvil": [], "endpoint": []}
    for name, url in (("anvil", anvil_url), ("endpoint", endpoint_url)):
        connection = await Connection.open(url)
        try:
            await connection.call("eth_chainId")
            for wei in range(1, SENDS + 1):  # each send its own (the endpoint takes a repeated one for a retry)
                started = time.perf_counter()
                await connection.call("eth_sendTransaction", {"from": ACCOUNT, "to": FRIEND, "value": hex(wei)})
                totals[name].append((time.perf_counter() - started) * 1000)
        finally:
            await connection.close()
    await phone.answered(SENDS)
    on_phone = phone.spans()[-SENDS:]
    overhead = [total - own for total, own in zip(totals["endpoint"], on_phone, strict=True)]
    total = statistics.median(totals["endpoint"])
    print(f"\nsigned sends, one at a time ({SENDS} each; eth_sendTransaction with from/to/value only)")
    print(f"{'':<46} {'p50':>9} {'p95':>9}")
    rows = [
        ("anvil, unlocked account (no phone)", totals["anvil"]),
        ("walletsync rpc → phone → anvil, round trip", totals["endpoint"]),
        ("  of which the phone (sign + broadcast)", on_phone),
        ("  overhead beyond the phone", overhead),
    ]
    for label, values in rows:
        print(f"{label:<46} {statistics.median(values):6.1f} ms {pct(values, 0.95):6.1f} ms")
    print(
        f"round trip / phone's own time: {total / statistics.median(on_phone):.2f}×; "
        f"overhead / round trip: {statistics.median(overhead) / total:.0%}"
    )


# --- main -----------------------------------------------------------------------------------------


async def run(seconds: float, home: Path, logs: Path, relay_url: str) -> None:
    from tests.bridge_tools.endpoint import RpcEndpoint, paired_phone
    from tests.procs import AnvilNode

    anvil = AnvilNode(logs).start()
    try:
        async with paired_phone(relay_url, home / "data", logs, "--auto-approve", "--rpc", anvil.url) as (
            session,
            phone,
        ):
            assert phone.proc.stdout is not None
            clock = PhoneClock(phone.proc.stdout)
            endpoint = RpcEndpoint(home / "data", relay_url, session, anvil.url, logs).start()
            print(f"anvil {anvil.url}; walletsync rpc {endpoint.url} (session {session!r}); relay {relay_url}")
            try:
                await bench_reads(anvil.url, endpoint.url, seconds)
                await bench_sends(anvil.url, endpoint.url, clock)
            finally:
                clock.stop()
                endpoint.stop()
    finally:
        anvil.stop()


def main() -> None:
    under_a_keyring()
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    home = Path(tempfile.mkdtemp(prefix="walletsync-bench-bridge-"))
    logs = home / "logs"
    logs.mkdir()
    relay, url = start_relay(log=logs / "relay.log")
    print(f"load average at the start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    try:
        asyncio.run(run(seconds, home, logs, url))
    finally:
        relay.terminate()
        relay.wait()
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
