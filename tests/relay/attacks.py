"""Attack loads against a real ``walletsync relay`` process (issue #9), shared by tests/relay/test_attacks.py
and bench/attack.py: slow readers, batch amplification, a storage flood from free client ids.

While an attack runs, a healthy pair (:class:`Healthy`) publishes small messages on its own topic and
measures publish→deliver latency; :class:`RssSampler` follows the relay's resident memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from walletsync.protocol.relay_auth import RelayIdentity, create_jwt

REPO = Path(__file__).resolve().parents[2]
TTL = 300
CLIENT_KW: dict[str, Any] = dict(
    compression=None, ping_interval=None, max_size=None, proxy=None, open_timeout=10, close_timeout=2
)
NO_RATE_LIMITS = ("--publish-rate", "1000000", "--ip-publish-rate", "1000000", "--ip-byte-rate", "100G")
"""flags that take the rate limits out of the way, for attacks that are not about rates"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RelayProc:
    """``walletsync relay`` as a child process, with extra flags; its memory read from /proc."""

    def __init__(self, log_dir: Path, *flags: str, store: str = "memory", log_level: str = "info") -> None:
        self.port = free_port()
        self.log_path = log_dir / f"relay-{self.port}.log"
        argv = [
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
            store,
            "--log-level",
            log_level,
            *flags,
        ]
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"relay did not start; log: {self.log_path.read_text()[-2000:]}")
        event = json.loads(line)
        if "url" not in event:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"relay did not start: {event}")
        self.url: str = event["url"]

    def _status(self, key: str) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def rss_mb(self) -> float:
        return self._status("VmRSS")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class RssSampler:
    """The relay's highest VmRSS while it runs (sampled every few ms; the attacks last seconds)."""

    def __init__(self, relay: RelayProc, every: float = 0.005) -> None:
        self.relay, self.every = relay, every
        self.peak = relay.rss_mb()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self.relay.alive():
            self.peak = max(self.peak, self.relay.rss_mb())
            await asyncio.sleep(self.every)

    async def stop(self) -> float:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if self.relay.alive():
            self.peak = max(self.peak, self.relay.rss_mb())
        return self.peak


def topic() -> str:
    return os.urandom(32).hex()


_ids = 0


def new_id() -> str:
    global _ids
    _ids += 1
    return f"{int(time.time() * 1000)}{_ids % 1_000_000:06d}"


async def open_client(url: str, *, local_addr: tuple[str, int] | None = None, **kwargs: Any) -> ClientConnection:
    identity = RelayIdentity(os.urandom(32))
    jwt = create_jwt(identity, sub=os.urandom(32).hex(), aud=url, iat=int(time.time()))
    return await connect(f"{url}/?auth={jwt}", **{**CLIENT_KW, **kwargs}, local_addr=local_addr)


def request(method: str, params: dict[str, Any], rid: str | None = None) -> tuple[str, str]:
    rid = rid or new_id()
    return rid, json.dumps({"id": rid, "jsonrpc": "2.0", "method": method, "params": params})


async def call(ws: ClientConnection, method: str, params: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    """Send a request and return its answer frame, acking (and skipping) pushes that arrive meanwhile."""
    rid, frame = request(method, params)
    await ws.send(frame)
    async with asyncio.timeout(timeout):
        while True:
            answer = json.loads(await ws.recv())
            if answer.get("method") == "irn_subscription":
                await ws.send(json.dumps({"id": answer["id"], "jsonrpc": "2.0", "result": True}))
            elif answer.get("id") == rid:
                return answer


def publish_params(t: str, message: str, ttl: int = TTL) -> dict[str, Any]:
    return {"topic": t, "message": message, "ttl": ttl, "tag": 1108, "prompt": False}


@dataclass
class Healthy:
    """A publisher and a subscriber on their own topic: a message every ``every`` s, latency per message.

    ``dropped`` says whether the relay closed either connection; ``missing`` counts messages published
    (answered true) but never pushed by the end."""

    url: str
    every: float = 0.02
    latencies: list[float] = field(default_factory=list)
    sent: int = 0
    dropped: str | None = None
    refused: int = 0

    async def start(self) -> None:
        self.topic = topic()
        self.pub = await open_client(self.url)
        self.sub = await open_client(self.url)
        await call(self.sub, "irn_subscribe", {"topic": self.topic})
        self._sent_at: dict[str, float] = {}
        self._stop = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        self._writer = asyncio.create_task(self._write())

    async def _read(self) -> None:
        try:
            async for raw in self.sub:
                frame = json.loads(raw)
                if frame.get("method") == "irn_subscription":
                    message = frame["params"]["data"]["message"]
                    sent = self._sent_at.pop(message, None)
                    if sent is not None:
                        self.latencies.append(time.monotonic() - sent)
                    await self.sub.send(json.dumps({"id": frame["id"], "jsonrpc": "2.0", "result": True}))
        except ConnectionClosed as exc:
            self.dropped = self.dropped or f"subscriber closed: {exc}"

    async def _write(self) -> None:
        try:
            while not self._stop.is_set():
                message = f"healthy-{self.sent}-{os.urandom(8).hex()}"
                self._sent_at[message] = time.monotonic()
                answer = await call(self.pub, "irn_publish", publish_params(self.topic, message))
                if answer.get("result") is not True:
                    self._sent_at.pop(message, None)
                    self.refused += 1
                self.sent += 1
                try:
                    await asyncio.wait_for(self._stop.wait(), self.every)
                except TimeoutError:
                    pass
        except ConnectionClosed as exc:
            self.dropped = self.dropped or f"publisher closed: {exc}"

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop publishing and wait (up to ``timeout``) for every answered message to arrive."""
        self._stop.set()
        await self._writer
        deadline = time.monotonic() + timeout
        while self._sent_at and time.monotonic() < deadline and self.dropped is None:
            await asyncio.sleep(0.01)
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        for ws in (self.pub, self.sub):
            await ws.close()

    @property
    def missing(self) -> int:
        return len(self._sent_at)

    def p99_ms(self) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def _publish_all(ws: ClientConnection, t: str, count: int, size: int) -> int:
    """Publish ``count`` messages of ``size`` chars on topic ``t``, a window at a time; returns how many were accepted."""
    accepted = 0
    for start in range(0, count, 20):
        frames = [
            request("irn_publish", publish_params(t, f"{i:05d}{os.urandom(8).hex()}".ljust(size, "x")))
            for i in range(start, min(count, start + 20))
        ]
        for _, frame in frames:
            await ws.send(frame)
        waiting = {rid for rid, _ in frames}
        while waiting:
            answer = json.loads(await ws.recv())
            if answer.get("id") in waiting:
                waiting.discard(answer["id"])
                accepted += answer.get("result") is True
    return accepted


async def slow_readers(url: str, readers: int = 10, messages: int = 150, size: int = 200_000) -> dict[str, Any]:
    """``readers`` subscribers that stop reading while ``messages`` × ``size`` go to their topic."""
    t = topic()
    stalled = [await open_client(url, max_queue=1) for _ in range(readers)]
    for ws in stalled:
        rid, frame = request("irn_subscribe", {"topic": t})
        await ws.send(frame)
        assert json.loads(await ws.recv())["id"] == rid
    publisher = await open_client(url)
    accepted = await _publish_all(publisher, t, messages, size)
    await publisher.close()

    async def read_to_the_end(ws: ClientConnection) -> bool:
        """Read what the relay had queued; True if it then closed the connection as too slow."""
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass
        return ws.close_code in (1008, 1013)

    try:
        async with asyncio.timeout(30):  # a relay that never cuts them off keeps them reading
            cut = await asyncio.gather(*(read_to_the_end(ws) for ws in stalled))
    except TimeoutError:
        cut = [ws.close_code in (1008, 1013) for ws in stalled]
    for ws in stalled:
        await ws.close()
    closed = sum(cut)
    return {"accepted": accepted, "cut_off": closed, "topic": t}


async def batch_amplification(url: str, repeats: int = 40, messages: int = 20, size: int = 200_000) -> dict[str, Any]:
    """A topic holding ``messages`` × ``size``, then irn_batchFetchMessages and irn_batchSubscribe naming it ``repeats`` times."""
    t = topic()
    publisher = await open_client(url)
    accepted = await _publish_all(publisher, t, messages, size)
    await publisher.close()
    attacker = await open_client(url)
    fetched, biggest, replies = 0, 0, 0
    while True:
        rid, frame = request("irn_batchFetchMessages", {"topics": [t] * repeats})
        await attacker.send(frame)
        raw = await attacker.recv()
        answer = json.loads(raw)["result"]
        biggest, replies = max(biggest, len(raw)), replies + 1
        fetched += len(answer["messages"])
        if not answer["hasMore"] or replies > 1000:
            break
    _, frame = request("irn_batchSubscribe", {"topics": [t] * repeats})
    sync, sync_frame = request("irn_batchFetchMessages", {"topics": []})
    await attacker.send(frame)
    await attacker.send(sync_frame)  # answered after the subscribe's mailbox pushes (a connection's frames go in order)
    pushes = 0
    async with asyncio.timeout(60):
        while True:
            got = json.loads(await attacker.recv())
            if got.get("method") == "irn_subscription":
                pushes += 1
                await attacker.send(json.dumps({"id": got["id"], "jsonrpc": "2.0", "result": True}))
            elif got.get("id") == sync:
                break
    await attacker.close()
    return {"accepted": accepted, "fetched": fetched, "replies": replies, "biggest_reply": biggest, "pushes": pushes}


async def storage_flood(
    url: str, messages: int = 300, size: int = 250_000, address: str = "127.0.0.2", ttl: int = 30 * 86400
) -> dict[str, Any]:
    """``messages`` × ``size`` with 30-day TTLs, each from a fresh client id, all from one source ``address``."""
    accepted = refused = 0
    reasons: set[str] = set()
    for i in range(messages):
        ws = await open_client(url, local_addr=(address, 0))
        try:
            answer = await call(ws, "irn_publish", publish_params(topic(), f"{i:05d}".ljust(size, "f"), ttl))
        finally:
            await ws.close()
        if answer.get("result") is True:
            accepted += 1
        else:
            refused += 1
            reasons.add(answer.get("error", {}).get("data", "?"))
    return {"accepted": accepted, "refused": refused, "reasons": sorted(reasons)}
