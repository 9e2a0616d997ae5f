"""Relay speed: `walletsync relay` (memory and sqlite stores) against a bare websockets fan-out server.

Run: .venv/bin/python bench/relay.py   (about 2 min; loopback 127.0.0.1 only; --rounds N, --pin)

Every server is its own child process, so its RSS can be read from /proc/<pid>/status
and client work is not charged to it; the clients all run in this process (one
asyncio loop). Clients are raw ``websockets`` connections sending pre-built relay
frames (no engine, no encryption); each publisher/subscriber pair has its own relay
identity (JWT in the ``auth`` query parameter, as the relay requires) and topic(s);
every round moves the pairs to fresh topics, so each round starts from empty
mailboxes (the relay keeps delivered messages until their TTL, 300 s here; phase 4
is the one that keeps its topics).
Messages are unique ~400-char base64 strings, like a real personal_sign envelope.

  1. throughput — one server process per kind, all up at once, measured in ROUNDS
     interleaved rounds (so a load change on the machine hits every kind alike):
     every publisher sends as fast as it can, at most WINDOW publishes outstanding
     per connection; deliveries/s counted at the subscribers over THROUGHPUT_S after
     WARMUP_S; the best round counts. For walletsync this relay is started through
     ``serve_until_signalled`` (what the CLI calls) with the per-client and per-address
     publish rate limits lifted; every other limit is the default.
  2. idle RSS — fresh server processes (the real ``walletsync relay --json --port 0
     --store ...`` CLI for walletsync, default limits except the per-address ones, which
     SHARED_ADDRESS_FLAGS lift: every client here is on 127.0.0.1): IDLE_CONNS authenticated
     connections, each subscribed to one topic, idle for IDLE_WAIT_S; VmRSS before/after.
  3. latency — on those same processes: LAT_RATE msg/s offered in total over LAT_PAIRS
     pairs (40 msg/s per publisher, under the default 100/s per-client limit), paced,
     LAT_S per round, ROUNDS interleaved rounds; publish→deliver p50/p99 measured by
     the client from just before the publish frame is sent to the push's arrival
     (so client scheduling delay is included); the median round counts.
  4. sustained — on those same processes, once: SUSTAIN_RATE msg/s over SUSTAIN_PAIRS
     pairs (80 msg/s per publisher) for SUSTAIN_S on the *same* topics, every push
     acked: 1,200 messages per topic, past the default 1,000-message mailbox limit
     (which counts only undelivered messages) while the topics fill with acked
     messages kept for their TTL. p99 over the first and the last SUSTAIN_WINDOW_S,
     and how many publishes were refused: a relay whose cost grows with a topic's
     size, or that counts delivered messages against the limit, shows it here.

Each round also prints the CPU used by the server, by the clients and by the rest
of the machine (from /proc/stat), to show who was saturated and whether something
else was running: the summary uses only the "quiet" rounds (rest of the machine
under QUIET_REST % of a core) when there are any, and marks a figure "(disturbed)"
when none of its rounds was quiet. The baseline (``--baseline-server``) accepts any connection,
answers irn_subscribe and irn_publish, forwards each publish as an irn_subscription
push to the topic's other subscribers and ignores the acks: no auth, no mailbox, no
validation beyond json.loads; same websockets server settings as the relay. Prints
a table, the ratios and whether each target of the issue is met. Nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import os
import resource
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from websockets import __version__ as websockets_version

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HOST = "127.0.0.1"
TTL = 300
TAG = 1108  # wc_sessionRequest
ROUNDS = 3
QUIET_REST = 25.0  # a round is 'quiet' when the rest of the machine used less than this % of one core
WARMUP_S = 0.5
THROUGHPUT_S = 2.0
TP_PAIRS = 50
TP_TOPICS_PER_PAIR = 4  # 200 topics in all
WINDOW = 32
LAT_PAIRS = 50
LAT_RATE = 2000.0
LAT_S = 4.0
SUSTAIN_PAIRS = 20
SUSTAIN_RATE = 1600.0
SUSTAIN_S = 15.0
SUSTAIN_WINDOW_S = 3.0
IDLE_CONNS = 1000
IDLE_WAIT_S = 2.0
CONNECT_CONCURRENCY = 50
PHASE_TIMEOUT_S = 60.0
UNLIMITED = {
    "publish_rate": 1e9,
    "publish_burst": 10**9,
    "ip_publish_rate": 1e9,
    "ip_publish_burst": 10**9,
    "ip_byte_rate": 1e12,
    "ip_byte_burst": 10**12,
}
SHARED_ADDRESS_FLAGS = ["--ip-publish-rate", "1000000", "--ip-byte-rate", "100G"]
"""every bench client connects from 127.0.0.1, standing for many machines: the per-address limits are lifted"""

TARGET_RATIO = 0.70
TARGET_P99_MS = 10.0
TARGET_IDLE_MB = 150.0

CLIENT_KW = dict(compression=None, ping_interval=None, max_size=None, proxy=None, open_timeout=10, close_timeout=2)


# --- server modes (run in child processes) ---------------------------------------------------


def _ready(url: str) -> None:
    print(json.dumps({"event": "listening", "url": url}), flush=True)


async def baseline_server(port: int) -> None:
    """A bare fan-out server speaking the same frames: no auth, no storage, no validation."""
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    loads = json.loads
    subscribers: dict[str, set] = {}
    last_push = 0

    async def handler(ws) -> None:
        nonlocal last_push
        topics: set[str] = set()
        try:
            async for raw in ws:
                obj = loads(raw)
                method = obj.get("method")
                if method == "irn_publish":
                    p = obj["params"]
                    topic = p["topic"]
                    data = {
                        "topic": topic,
                        "message": p["message"],
                        "publishedAt": int(time.time() * 1000),
                        "tag": p.get("tag", 0),
                    }
                    for other in list(subscribers.get(topic, ())):
                        if other is not ws:
                            last_push += 1
                            try:
                                await other.send(
                                    dumps(
                                        {
                                            "id": last_push,
                                            "jsonrpc": "2.0",
                                            "method": "irn_subscription",
                                            "params": {"id": topic, "data": data},
                                        }
                                    )
                                )
                            except ConnectionClosed:
                                pass
                    await ws.send(dumps({"id": obj["id"], "jsonrpc": "2.0", "result": True}))
                elif method == "irn_subscribe":
                    topic = obj["params"]["topic"]
                    topics.add(topic)
                    subscribers.setdefault(topic, set()).add(ws)
                    await ws.send(dumps({"id": obj["id"], "jsonrpc": "2.0", "result": topic}))
                # anything else (the clients' acks) needs no answer
        except ConnectionClosed:
            pass
        finally:
            for topic in topics:
                subs = subscribers.get(topic)
                if subs is not None:
                    subs.discard(ws)
                    if not subs:
                        del subscribers[topic]

    # same websockets settings as RelayServer.start()
    async with serve(
        handler, HOST, port, max_size=512 * 1024, ping_interval=20.0, ping_timeout=20.0, compression=None
    ) as server:
        _ready(f"ws://{HOST}:{server.sockets[0].getsockname()[1]}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()


async def unlimited_relay(store: str) -> None:
    """What ``walletsync relay`` runs, with the per-client publish rate limit lifted."""
    from walletsync.relay.mailbox import Limits
    from walletsync.relay.process import serve_until_signalled

    await serve_until_signalled(store, host=HOST, port=0, limits=Limits(**UNLIMITED), on_ready=lambda s: _ready(s.url))


# --- server processes --------------------------------------------------------------------------------


CLK_TCK = os.sysconf("SC_CLK_TCK")


class ServerProc:
    def __init__(self, name: str, argv: list[str], log_dir: Path, cpu: int | None) -> None:
        self.name = name
        self.log_path = log_dir / f"{name.replace(' ', '-')}.log"
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=REPO)
        self.pid = self.proc.pid
        if cpu is not None:
            os.sched_setaffinity(self.pid, {cpu})
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""  # type: ignore[union-attr]
        try:
            event = json.loads(line)
            assert event.get("event") == "listening", event
        except Exception:
            self.stop()
            raise RuntimeError(
                f"{name} did not start ({line!r}); log tail:\n{self.log_path.read_text()[-2000:]}"
            ) from None
        self.url: str = event["url"]

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


def _machine_busy_s() -> float:
    """CPU seconds all cores spent not idle, from /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class CpuMeter:
    """CPU used over a window, in % of one core: the server process, this (client) process, everything else."""

    def __init__(self, server: ServerProc) -> None:
        self.server = server
        self.t0, self.s0, self.c0, self.m0 = time.perf_counter(), server.cpu_s(), time.process_time(), _machine_busy_s()

    def read(self) -> tuple[float, float, float]:
        wall = time.perf_counter() - self.t0
        srv, cli = (self.server.cpu_s() - self.s0) / wall, (time.process_time() - self.c0) / wall
        rest = (_machine_busy_s() - self.m0) / wall - srv - cli
        return 100 * srv, 100 * cli, max(0.0, 100 * rest)


# --- clients ----------------------------------------------------------------------------------------


def _topic() -> str:
    return os.urandom(32).hex()


TAIL_B64 = base64.b64encode(os.urandom(288)).decode()  # 12-byte counter + 288 bytes -> 400 base64 chars
_counter = 0


def next_message() -> str:
    """A unique ~400-char base64 message (the size of a real personal_sign envelope); its first 16 chars are the key."""
    global _counter
    _counter += 1
    return base64.b64encode(_counter.to_bytes(12, "big")).decode() + TAIL_B64


def publish_template(topic: str) -> tuple[str, str]:
    """``(head, tail)`` with ``head + str(id) + mid + message + tail`` the irn_publish frame walletsync builds."""
    from walletsync.protocol.relay_rpc import Publish, encode_request

    marker = "@@MSG@@"
    frame = encode_request(0, Publish(topic, marker, TTL, TAG))
    assert frame.startswith('{"id":0,')
    before, after = frame[len('{"id":0') :].split(marker)
    return before, after


def subscribe_frame(request_id: int, topic: str) -> str:
    from walletsync.protocol.relay_rpc import Subscribe, encode_request

    return encode_request(request_id, Subscribe(topic))


async def open_client(url: str) -> object:
    from websockets.asyncio.client import connect

    from walletsync.protocol.relay_auth import RelayIdentity, create_jwt

    identity = RelayIdentity(os.urandom(32))
    token = create_jwt(identity, sub=os.urandom(32).hex(), aud=url, iat=int(time.time()))
    return await connect(f"{url}/?auth={token}", **CLIENT_KW)


async def subscribe(ws, topics: list[str]) -> None:
    for i, topic in enumerate(topics, 1):
        await ws.send(subscribe_frame(i, topic))
    for _ in topics:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if "result" not in reply:
            raise RuntimeError(f"irn_subscribe refused: {reply}")


@dataclass(eq=False)
class Pair:
    pub: object
    sub: object
    topics: list[str] = field(default_factory=list)
    frames: list[tuple[str, str]] = field(default_factory=list)
    window: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(WINDOW))
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    pending_subscribes: int = 0
    next_id: int = 100
    turn: int = 0


class Traffic:
    """Pairs plus their reader tasks: counts results, errors and deliveries; acks every push."""

    def __init__(self) -> None:
        self.pairs: list[Pair] = []
        self.tasks: list[asyncio.Task] = []
        self.published = 0
        self.results = 0
        self.errors: collections.Counter[str] = collections.Counter()
        self.delivered = 0
        self.sent_at: dict[str, float] | None = None
        self.latencies: list[float] = []
        self.timeline: list[tuple[float, float]] | None = None
        """(sent at, latency) of every delivery, when wanted"""

    async def open(self, url: str, pairs: int) -> None:
        async def one() -> Pair:
            return Pair(await open_client(url), await open_client(url))

        self.pairs = list(await asyncio.gather(*(one() for _ in range(pairs))))
        for p in self.pairs:
            self.tasks.append(asyncio.create_task(self._read_pub(p)))
            self.tasks.append(asyncio.create_task(self._read_sub(p)))

    async def new_topics(self, per_pair: int) -> None:
        """Every pair moves to fresh topics (so every round starts from empty mailboxes); returns once all are subscribed."""
        for p in self.pairs:
            p.topics = [_topic() for _ in range(per_pair)]
            p.frames = [publish_template(t) for t in p.topics]
            p.subscribed.clear()
            p.pending_subscribes = per_pair
            for topic in p.topics:
                p.next_id += 1
                await p.sub.send(subscribe_frame(p.next_id, topic))  # type: ignore[attr-defined]
        await asyncio.wait_for(asyncio.gather(*(p.subscribed.wait() for p in self.pairs)), 20)

    async def _read_pub(self, p: Pair) -> None:
        try:
            async for raw in p.pub:  # type: ignore[attr-defined]
                if '"error"' in raw:
                    err = json.loads(raw).get("error", {})
                    self.errors[str(err.get("data") or err.get("message"))] += 1
                self.results += 1
                p.window.release()
        except Exception:
            pass

    async def _read_sub(self, p: Pair) -> None:
        loads, sub = json.loads, p.sub
        try:
            async for raw in sub:  # type: ignore[attr-defined]
                push = loads(raw)
                if push.get("method") != "irn_subscription":
                    if "error" in push:
                        self.errors["subscribe: " + str(push["error"].get("message"))] += 1
                    p.pending_subscribes -= 1
                    if p.pending_subscribes <= 0:
                        p.subscribed.set()
                    continue
                self.delivered += 1
                if self.sent_at is not None:
                    t = self.sent_at.pop(push["params"]["data"]["message"][:16], None)
                    if t is not None:
                        self.latencies.append(time.perf_counter() - t)
                        if self.timeline is not None:
                            self.timeline.append((t, self.latencies[-1]))
                await sub.send('{"id":%d,"jsonrpc":"2.0","result":true}' % push["id"])  # type: ignore[attr-defined]
        except Exception:
            pass

    async def publish(self, p: Pair) -> None:
        """One publish on the pair's next topic; waits while WINDOW publishes are outstanding."""
        await p.window.acquire()
        head, tail = p.frames[p.turn % len(p.frames)]
        p.turn += 1
        p.next_id += 1
        message = next_message()
        if self.sent_at is not None:
            self.sent_at[message[:16]] = time.perf_counter()
        self.published += 1
        await p.pub.send('{"id":' + str(p.next_id) + head + message + tail)  # type: ignore[attr-defined]

    async def drain(self, timeout: float = 10.0) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and (
            self.results < self.published or self.delivered + sum(self.errors.values()) < self.published
        ):
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        conns = [c for p in self.pairs for c in (p.pub, p.sub)]
        await asyncio.wait_for(asyncio.gather(*(c.close() for c in conns), return_exceptions=True), 15)  # type: ignore[attr-defined]


@dataclass
class Result:
    name: str
    throughput: list[tuple[float, bool]] = field(default_factory=list)
    """(deliveries/s, quiet) per round"""
    tp_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    latency: list[tuple[float, float, bool]] = field(default_factory=list)
    """(p50 ms, p99 ms, quiet) per round"""
    lat_lost: int = 0
    lat_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    rss_before: float = float("nan")
    rss_after: float = float("nan")
    sustain: tuple[float, float, int, int, bool] | None = None
    """(p99 ms over the first window, over the last window, refused, not delivered, quiet)"""

    @property
    def tp_disturbed(self) -> bool:
        return not any(quiet for _, quiet in self.throughput)

    @property
    def lat_disturbed(self) -> bool:
        return not any(quiet for _, _, quiet in self.latency)

    @property
    def best_throughput(self) -> float:
        """Best quiet round; best of all rounds when none was quiet."""
        rounds = [v for v, quiet in self.throughput if quiet or self.tp_disturbed]
        return max(rounds, default=float("nan"))

    def _median_latency(self, index: int) -> float:
        rounds = [r[index] for r in self.latency if r[2] or self.lat_disturbed]
        return statistics.median(rounds) if rounds else float("nan")

    @property
    def p50(self) -> float:
        return self._median_latency(0)

    @property
    def p99(self) -> float:
        return self._median_latency(1)

    @property
    def rss_per_1k(self) -> float:
        return (self.rss_after - self.rss_before) * 1000 / IDLE_CONNS


def _cpu_note(cpu: tuple[float, float, float]) -> str:
    return f"CPU: server {cpu[0]:.0f} %, clients {cpu[1]:.0f} %, rest of machine {cpu[2]:.0f} %"


async def throughput_round(traffic: Traffic, server: ServerProc, res: Result, rnd: int) -> None:
    """Fresh topics; WARMUP_S of saturation, then deliveries/s over THROUGHPUT_S; then stop and drain."""
    await traffic.new_topics(TP_TOPICS_PER_PAIR)
    start = time.perf_counter()
    stop_at = start + WARMUP_S + THROUGHPUT_S
    errors_before = sum(traffic.errors.values())

    async def pump(p: Pair) -> None:
        while time.perf_counter() < stop_at:
            await traffic.publish(p)

    pumps = [asyncio.create_task(pump(p)) for p in traffic.pairs]
    await asyncio.sleep(WARMUP_S)
    d0, meter = traffic.delivered, CpuMeter(server)
    await asyncio.sleep(THROUGHPUT_S)
    d1, elapsed, cpu = traffic.delivered, time.perf_counter() - meter.t0, meter.read()
    await asyncio.wait_for(asyncio.gather(*pumps), 30)
    await traffic.drain()
    rate = (d1 - d0) / elapsed
    res.throughput.append((rate, cpu[2] < QUIET_REST))
    errs = sum(traffic.errors.values()) - errors_before
    print(
        f"  {server.name:<20} round {rnd}: {rate:8,.0f} deliveries/s   ({_cpu_note(cpu)}){f'; {errs} refused' if errs else ''}",
        flush=True,
    )


async def paced(traffic: Traffic, rate: float, seconds: float) -> float:
    """``rate`` publishes/s spread over the pairs in turn for ``seconds``; returns the rate actually offered."""
    total = int(rate * seconds)
    t0 = time.perf_counter()
    k = 0
    while k < total:
        due = min(total, int((time.perf_counter() - t0) * rate) + 1)
        while k < due:
            await traffic.publish(traffic.pairs[k % len(traffic.pairs)])
            k += 1
        await asyncio.sleep(max(0.0, t0 + k / rate - time.perf_counter()))
    return total / (time.perf_counter() - t0)


def _p99_ms(latencies: list[float]) -> float:
    lat = sorted(latencies)
    return 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")


async def latency_round(traffic: Traffic, server: ServerProc, res: Result, rnd: int) -> None:
    """Fresh topics; LAT_RATE publishes/s spread over the pairs, paced, for LAT_S; publish→deliver times."""
    await traffic.new_topics(1)
    traffic.sent_at, traffic.latencies = {}, []
    published, errors_before = traffic.published, sum(traffic.errors.values())
    meter = CpuMeter(server)
    offered = await paced(traffic, LAT_RATE, LAT_S)
    cpu = meter.read()
    await traffic.drain()
    lat = sorted(traffic.latencies)
    traffic.sent_at = None
    lost = traffic.published - published - len(lat)
    errs = sum(traffic.errors.values()) - errors_before
    if lat:
        p50, p99, worst = (
            1000 * lat[len(lat) // 2],
            1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            1000 * lat[-1],
        )
        res.latency.append((p50, p99, cpu[2] < QUIET_REST))
    else:
        p50 = p99 = worst = float("nan")
    res.lat_lost += lost
    print(
        f"  {server.name:<20} round {rnd}: {offered:,.0f} msg/s offered: p50 {p50:5.2f} ms  p99 {p99:6.2f} ms  max {worst:6.1f} ms"
        f"{f'  {lost} not delivered' if lost else ''}{f' ({errs} refused)' if errs else ''}   ({_cpu_note(cpu)})",
        flush=True,
    )


async def sustained_phase(server: ServerProc, res: Result) -> None:
    """The same SUSTAIN_PAIRS topics for SUSTAIN_S at SUSTAIN_RATE, every push acked: p99 early vs late, refusals."""
    traffic = Traffic()
    await asyncio.wait_for(traffic.open(server.url, SUSTAIN_PAIRS), PHASE_TIMEOUT_S)
    try:
        await traffic.new_topics(1)
        traffic.sent_at, traffic.latencies, traffic.timeline = {}, [], []
        meter = CpuMeter(server)
        t0 = time.perf_counter()
        offered = await paced(traffic, SUSTAIN_RATE, SUSTAIN_S)
        t1 = time.perf_counter()
        cpu = meter.read()
        await traffic.drain()
        first = _p99_ms([lat for t, lat in traffic.timeline if t < t0 + SUSTAIN_WINDOW_S])
        last = _p99_ms([lat for t, lat in traffic.timeline if t >= t1 - SUSTAIN_WINDOW_S])
        refused = sum(traffic.errors.values())
        lost = traffic.published - len(traffic.latencies) - refused
        res.sustain = (first, last, refused, lost, cpu[2] < QUIET_REST)
        per_topic = traffic.published / SUSTAIN_PAIRS
        print(
            f"  {server.name:<20} {offered:,.0f} msg/s for {SUSTAIN_S:g} s, {per_topic:,.0f} messages per topic: p99 {first:6.2f} ms in the first "
            f"{SUSTAIN_WINDOW_S:g} s, {last:6.2f} ms in the last {SUSTAIN_WINDOW_S:g} s; {refused} refused {dict(traffic.errors) if refused else ''}"
            f"{f', {lost} not delivered' if lost else ''}   ({_cpu_note(cpu)})",
            flush=True,
        )
    finally:
        await traffic.close()


async def idle_phase(server: ServerProc, res: Result) -> None:
    """IDLE_CONNS authenticated connections, one topic each, idle for IDLE_WAIT_S: VmRSS before and after."""
    await asyncio.sleep(0.5)
    res.rss_before = server.rss_mb()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> object:
        async with gate:
            ws = await open_client(server.url)
            await subscribe(ws, [_topic()])
            return ws

    conns = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(IDLE_CONNS))), PHASE_TIMEOUT_S)
    await asyncio.sleep(IDLE_WAIT_S)
    res.rss_after = server.rss_mb()
    print(
        f"  {server.name:<20} {IDLE_CONNS} idle connections: RSS {res.rss_before:.1f} → {res.rss_after:.1f} MB ({res.rss_per_1k:.1f} MB per 1k)",
        flush=True,
    )
    await asyncio.wait_for(asyncio.gather(*(c.close() for c in conns), return_exceptions=True), 30)  # type: ignore[attr-defined]


async def with_servers(specs: list[tuple[str, list[str]]], log_dir: Path, cpu: int | None, body) -> None:
    servers: list[ServerProc] = []
    try:
        for name, argv in specs:
            servers.append(ServerProc(name, argv, log_dir, cpu))
        await body(servers)
    finally:
        for s in servers:
            s.stop()


def _fmt(x: float, spec: str) -> str:
    return "n/a" if x != x else format(x, spec)


async def bench(pin: bool, rounds: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * IDLE_CONNS + 4 * (TP_PAIRS + LAT_PAIRS) * 3 + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need if hard == resource.RLIM_INFINITY else min(hard, need), hard))
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu = None
    if pin and len(cpus) >= 2:
        server_cpu = cpus[-1]
        os.sched_setaffinity(0, set(cpus[:-1]))
    print(
        f"Python {sys.version.split()[0]}, websockets {websockets_version}, {os.cpu_count()} CPUs, "
        + (
            f"servers pinned to CPU {server_cpu}, clients (this process) to CPU(s) {','.join(map(str, cpus[:-1]))}"
            if server_cpu is not None
            else "servers and clients in separate processes, not pinned"
        )
    )
    print(
        f"Throughput relays: serve_until_signalled with the publish rate limits lifted ({UNLIMITED}),"
        f" other limits default. Idle + latency relays: the `walletsync relay --json --port 0 --store ...` CLI, default limits"
        f" but the per-address ones ({' '.join(SHARED_ADDRESS_FLAGS)}): all bench clients share 127.0.0.1."
    )
    print(
        f"{rounds} interleaved rounds per phase; throughput = best round, latency = median round, both over the quiet rounds "
        f"(rest of machine < {QUIET_REST:g} % of a core) when there are any.",
        flush=True,
    )
    m0, t0 = _machine_busy_s(), time.perf_counter()
    await asyncio.sleep(1.0)
    background = 100 * (_machine_busy_s() - m0) / (time.perf_counter() - t0)
    print(
        f"Background load before start: {background:.0f} % of one core"
        + ("  -- WARNING: something else is running; figures will be low and noisy" if background > 20 else ""),
        flush=True,
    )

    py, me = sys.executable, str(Path(__file__).resolve())
    names = ["walletsync memory", "walletsync sqlite", "baseline websockets"]
    results = {n: Result(n) for n in names}
    with tempfile.TemporaryDirectory(prefix="walletsync-bench-") as tmp:
        d = Path(tmp)
        cli = [py, "-m", "walletsync", "relay", "--json", "--host", HOST, "--port", "0", "--store"]
        baseline = [py, me, "--baseline-server", "0"]
        tp_specs = [
            (names[0], [py, me, "--relay-server", "memory"]),
            (names[1], [py, me, "--relay-server", f"sqlite:{d / 'relay-throughput.db'}"]),
            (names[2], baseline),
        ]
        main_specs = [
            (names[0], cli + ["memory", *SHARED_ADDRESS_FLAGS]),
            (names[1], cli + [f"sqlite:{d / 'relay.db'}", *SHARED_ADDRESS_FLAGS]),
            (names[2], baseline),
        ]

        async def throughput(servers: list[ServerProc]) -> None:
            print(
                f"\nThroughput: {TP_PAIRS} pairs, {TP_TOPICS_PER_PAIR} topics each, <= {WINDOW} publishes in flight per publisher, "
                f"{WARMUP_S:g} s warm-up + {THROUGHPUT_S:g} s counted",
                flush=True,
            )
            traffics = []
            for s in servers:
                t = Traffic()
                await asyncio.wait_for(t.open(s.url, TP_PAIRS), PHASE_TIMEOUT_S)
                traffics.append(t)
            for rnd in range(1, rounds + 1):
                for s, t in zip(servers, traffics):
                    try:
                        await asyncio.wait_for(throughput_round(t, s, results[s.name], rnd), PHASE_TIMEOUT_S)
                    except TimeoutError:
                        print(f"  {s.name:<20} round {rnd}: timed out after {PHASE_TIMEOUT_S:g} s", flush=True)
            for s, t in zip(servers, traffics):
                results[s.name].tp_errors.update(t.errors)
                await t.close()

        async def idle_and_latency(servers: list[ServerProc]) -> None:
            print("\nIdle connections (fresh server processes):", flush=True)
            for s in servers:
                await idle_phase(s, results[s.name])
            print(
                f"\nLatency: {LAT_RATE:,.0f} msg/s over {LAT_PAIRS} pairs ({LAT_RATE / LAT_PAIRS:g} msg/s per publisher), {LAT_S:g} s per round",
                flush=True,
            )
            traffics = []
            for s in servers:
                t = Traffic()
                await asyncio.wait_for(t.open(s.url, LAT_PAIRS), PHASE_TIMEOUT_S)
                traffics.append(t)
            for rnd in range(1, rounds + 1):
                for s, t in zip(servers, traffics):
                    try:
                        await asyncio.wait_for(latency_round(t, s, results[s.name], rnd), PHASE_TIMEOUT_S)
                    except TimeoutError:
                        print(f"  {s.name:<20} round {rnd}: timed out after {PHASE_TIMEOUT_S:g} s", flush=True)
            for s, t in zip(servers, traffics):
                results[s.name].lat_errors.update(t.errors)
                await t.close()
            print(
                f"\nSustained: {SUSTAIN_RATE:,.0f} msg/s over {SUSTAIN_PAIRS} pairs on the same topics for {SUSTAIN_S:g} s, every push acked",
                flush=True,
            )
            for s in servers:
                try:
                    await asyncio.wait_for(sustained_phase(s, results[s.name]), SUSTAIN_S + PHASE_TIMEOUT_S)
                except TimeoutError:
                    print(f"  {s.name:<20} timed out", flush=True)

        await with_servers(tp_specs, d, server_cpu, throughput)
        await with_servers(main_specs, d, server_cpu, idle_and_latency)

    base = results[names[-1]]
    print()
    print(
        f"| server | delivered msg/s (best round) | vs baseline | p50 @ {LAT_RATE:,.0f} msg/s | p99 @ {LAT_RATE:,.0f} msg/s | RSS per 1k idle conns | RSS with 1k idle conns |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results.values():
        ratio = r.best_throughput / base.best_throughput
        tp_mark, lat_mark = " (disturbed)" * r.tp_disturbed, " (disturbed)" * r.lat_disturbed
        print(
            f"| {r.name} | {_fmt(r.best_throughput, ',.0f')}{tp_mark} | {_fmt(ratio, '.2f')} | {_fmt(r.p50, '.2f')} ms{lat_mark} | {_fmt(r.p99, '.2f')} ms{lat_mark} "
            f"| {_fmt(r.rss_per_1k, '.1f')} MB | {_fmt(r.rss_after, '.1f')} MB |"
        )
    print()
    print(
        f"| server | sustained {SUSTAIN_RATE:,.0f} msg/s, same topics: p99 first {SUSTAIN_WINDOW_S:g} s | p99 last {SUSTAIN_WINDOW_S:g} s | refused |"
    )
    print("| --- | --- | --- | --- |")
    for r in results.values():
        if r.sustain is not None:
            first, last, refused, lost, quiet = r.sustain
            print(
                f"| {r.name} | {_fmt(first, '.2f')} ms{' (disturbed)' * (not quiet)} | {_fmt(last, '.2f')} ms | {refused} |"
            )
    print()
    if any(r.tp_disturbed or r.lat_disturbed for r in results.values()):
        print(
            f"(disturbed) = every round of that figure ran while the rest of the machine used >= {QUIET_REST:g} % of a core: do not trust it; run again."
        )
    for r in results.values():
        if r.tp_errors or r.lat_errors or r.lat_lost:
            print(
                f"{r.name}: refused during throughput {dict(r.tp_errors)}, during latency {dict(r.lat_errors)}, {r.lat_lost} latency messages not delivered"
            )
    for r in list(results.values())[:-1]:
        ratio = r.best_throughput / base.best_throughput
        checks = [
            (f"throughput {_fmt(ratio, '.3f')} of baseline (target >= {TARGET_RATIO:.2f})", ratio >= TARGET_RATIO),
            (
                f"p99 {_fmt(r.p99, '.2f')} ms at {LAT_RATE:,.0f} msg/s (target < {TARGET_P99_MS:g} ms)",
                r.p99 < TARGET_P99_MS and r.lat_lost == 0,
            ),
            (
                f"RSS {_fmt(r.rss_after, '.1f')} MB with {IDLE_CONNS} idle connections (target < {TARGET_IDLE_MB:g} MB)",
                r.rss_after < TARGET_IDLE_MB,
            ),
        ]
        if r.sustain is not None:
            first, last, refused, lost, _ = r.sustain
            checks.append(
                (
                    f"sustained: {refused} refused, p99 {_fmt(last, '.2f')} ms at the end (wanted: none, < {TARGET_P99_MS:g} ms)",
                    refused == 0 and lost == 0 and last < TARGET_P99_MS,
                )
            )
        print(f"{r.name}: " + "; ".join(f"{text}: {'met' if ok else 'NOT met'}" for text, ok in checks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--relay-server", metavar="STORE", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"interleaved rounds per phase (default {ROUNDS})")
    parser.add_argument(
        "--pin", action="store_true", help="pin the servers to the last CPU and the clients to the others"
    )
    args = parser.parse_args()
    if args.baseline_server is not None:
        asyncio.run(baseline_server(args.baseline_server))
    elif args.relay_server is not None:
        asyncio.run(unlimited_relay(args.relay_server))
    else:
        asyncio.run(bench(args.pin, max(1, min(args.rounds, 10))))


if __name__ == "__main__":
    main()
