"""Device sync: how soon a change shows on another device, how fast a device catches up, how big a change is.

Run: .venv/bin/python bench/sync.py   (about 3 minutes; loopback only; --changes N, --renames N to scale)

Everything runs against one real ``walletsync relay --store memory`` process per part, with its default
limits (100 publishes/s per client id in bursts of 500, 1,000 undelivered messages per mailbox): what a
user's local relay does. Devices are :class:`Companion` objects on their own data dirs with
``--keyring-file`` secrets; the session they share is a real one, paired with walletsync's own engine as
the phone (tests/pypeer.py), and every change goes through ``Database.before_commit`` as in use.

1. **A change on another device.** Device A renames the session; device B, online in the same process
   (so the figure holds both devices' work back to back), applies it. Times from A's commit
   (``Companion.rename`` returned) to B's row holding the new name (B's ``on_applied``, right after its
   commit) and to B's ``StoreChanged`` (what its screens redraw on). Baseline, interleaved sample by
   sample: a raw relay round trip, one ``RelayClient`` publishing a message of the rename's size and
   another receiving it. Then again with part 2's 10,000 changes of history, towards device C.
2. **Catching up on 10,000 changes.** A makes them while B is offline (each one ``Companion.rename``: the
   row, its signed audit row and the change recorded in one transaction), publishing what the relay takes.
   Then a fresh device C joins through a link (its welcome carries the state), in a process of its own
   (on a 2-core machine A, C and the relay then run side by side, as on two machines); the renames of
   part 1 are timed again towards C; last B comes back, in its own process too, and stays online while
   a third ``RelayClient`` on the group topic counts what goes over it until it is quiet. C and B each
   time from their ``start()`` to their version vector covering A's last change. Before the renames the
   bench tells A's publisher that all its changes are out (C has them), see BENCHMARKS.md on why it
   would otherwise re-send them first. Baselines: as many raw relay messages, published one at a time
   (each acknowledged, as the device's publisher does) to an online subscriber; and opening (decrypting
   + verifying) as many sync envelopes, in memory.
3. **Bytes on the relay per change.** A third ``RelayClient`` subscribed to the group topic sees what the
   relay sees: the base64 message for a rename, and for each change one signing request makes (sent;
   answered and checked). Baseline: the same change's plaintext JSON (the body inside the envelope).

Nothing here asserts; BENCHMARKS.md has the targets and a run's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import start_relay  # noqa: E402
from tests.pypeer import TEST_ADDRESS, py_peer, sign_personal  # noqa: E402
from walletsync.errors import WalletsyncError  # noqa: E402
from walletsync.protocol import events as ev  # noqa: E402
from walletsync.protocol.relay_auth import RelayIdentity  # noqa: E402
from walletsync.protocol.relay_rpc import MessageData, Publish  # noqa: E402
from walletsync.service import Companion, Config, StoreChanged  # noqa: E402
from walletsync.service.group_sync import SYNC_TAG  # noqa: E402
from walletsync.sync import envelope  # noqa: E402
from walletsync.sync.changes import canonical  # noqa: E402
from walletsync.sync.keys import EpochKey  # noqa: E402
from walletsync.transport.client import RelayClient  # noqa: E402

PYTHON = sys.executable
PASSPHRASE = "walletsync bench"
GRANTED = {
    "eip155": {
        "chains": ["eip155:1"],
        "accounts": [f"eip155:1:{TEST_ADDRESS}"],
        "methods": ["personal_sign"],
        "events": [],
    }
}
QUIET_GAP = 5.0
"""Seconds without a message after which the group topic counts as quiet."""
QUIET_LIMIT = 600.0
"""Seconds after which a topic still busy is reported as such."""
STALLED = 20.0
"""Seconds without a message on the group topic after which a device that has not caught up never will."""


# --- processes and devices --------------------------------------------------------------------------------


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def config(home: Path, url: str) -> Config:
    return Config(data_dir=str(home), relay=url, keyring_file=str(home.with_suffix(".keys")), passphrase=PASSPHRASE)


async def open_device(home: Path, url: str) -> Companion:
    """A companion on ``home`` (created on first use), started and online."""
    companion = await Companion.open(config(home, url))
    await companion.start()
    await companion.online()
    return companion


async def yes() -> bool:
    return True


def no_code(code: str, name: str) -> None:
    pass


async def pair_phone(companion: Companion, url: str) -> tuple[str, Any]:
    """A real session with walletsync's own engine as the phone: its topic, and the phone (to answer requests)."""
    offer = await companion.pair()
    phone = await py_peer(url, "bench-phone")
    await phone.run(phone.engine.pair(offer.uri, phone.now()))
    proposal = (await phone.next_event(ev.ProposalReceived)).proposal
    await phone.run(phone.engine.approve(proposal.id, GRANTED, phone.now()))
    return (await companion.wait_for_session(offer.proposal_id, 20)).topic, phone


async def link(member: Companion, joiner: Companion) -> None:
    offer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    linking = asyncio.create_task(member.link_device(on_offer=offer.set_result, show_code=no_code, confirm=yes))
    await joiner.join_group((await offer).uri, show_code=no_code, confirm=yes, name="bench B")
    await linking


async def until(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait (polling, in setup only: nothing timed depends on it) until ``predicate()``."""
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise RuntimeError(f"gave up waiting until {what}") from None


def group_topic(companion: Companion) -> str:
    epoch, key = max(companion.db.epoch_keys().items())
    return EpochKey(epoch, key).topic


def published(companion: Companion) -> int:
    """How many of its own changes ``companion`` has published (what its publisher counts)."""
    seen = companion.db.devices_seen().get(companion.group.keys.id)
    return int(seen[1]) if seen and seen[1] else 0


def vector_of(companion: Companion, device: str) -> int:
    return companion.group_sync.state().vector.get(device, 0)


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values):6.1f} ms · p95 {percentile(values, 95):6.1f} ms"


# --- 1. a change on another device --------------------------------------------------------------------------


class Arrivals:
    """When each name first showed on device B: in its rows (after its commit) and as a ``StoreChanged``."""

    def __init__(self, device: Companion, topic: str) -> None:
        self.device, self.topic = device, topic
        self.in_rows: dict[str, float] = {}
        self.shown: dict[str, float] = {}
        self.waiting: tuple[str, asyncio.Event] | None = None
        applied = device.group_sync.on_applied

        def on_applied() -> None:
            self.in_rows.setdefault(self.name(), time.perf_counter())
            if applied is not None:
                applied()

        device.group_sync.on_applied = on_applied
        self.task = asyncio.create_task(self._watch())

    def name(self) -> str:
        return self.device.resolve(self.topic).name

    async def _watch(self) -> None:
        async for event in self.device.events():
            if isinstance(event, StoreChanged):
                name = self.name()
                self.shown.setdefault(name, time.perf_counter())
                if self.waiting and self.waiting[0] == name:
                    self.waiting[1].set()

    async def wait_for(self, name: str, timeout: float = 30.0) -> None:
        if name in self.shown:
            return
        self.waiting = (name, asyncio.Event())
        async with asyncio.timeout(timeout):
            await self.waiting[1].wait()

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


class RawPair:
    """Two bare relay clients on one topic: the baseline round trip."""

    def __init__(self, url: str) -> None:
        self.topic = os.urandom(32).hex()
        self.sender = RelayClient(url, RelayIdentity(os.urandom(32)))
        self.receiver = RelayClient(url, RelayIdentity(os.urandom(32)))

    async def start(self) -> None:
        for client in (self.sender, self.receiver):
            await client.start()
            await client.wait_online(15)
        await self.receiver.subscribe(self.topic)

    async def round_trip(self, size: int) -> float:
        message = base64.b64encode(os.urandom(size * 3 // 4)).decode("ascii")
        started = time.perf_counter()
        await self.sender.publish(Publish(self.topic, message, 300, SYNC_TAG))
        while (await self.receiver.inbox.get()).message != message:
            pass
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        await self.sender.close()
        await self.receiver.close()


@dataclass
class Latency:
    call: list[float] = field(default_factory=list)
    """A's ``rename`` call: the change is recorded (and the state saved) inside its transaction."""
    in_rows: list[float] = field(default_factory=list)
    shown: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)


async def latency(a: Companion, b: Companion, topic: str, url: str, count: int, label: str, size: int) -> Latency:
    """``count`` renames on A, each timed until B has it, interleaved with raw round trips of ``size`` chars."""
    arrivals, raw, out = Arrivals(b, topic), RawPair(url), Latency()
    await raw.start()
    try:
        for n in range(count):
            out.raw.append(await raw.round_trip(size))
            name = f"{label} {n}"
            calling = time.perf_counter()
            a.rename(topic, name)
            committed = time.perf_counter()
            out.call.append((committed - calling) * 1000)
            await arrivals.wait_for(name)
            out.in_rows.append((arrivals.in_rows[name] - committed) * 1000)
            out.shown.append((arrivals.shown[name] - committed) * 1000)
            await asyncio.sleep(0.02)  # let both devices settle: each sample stands alone
    finally:
        await arrivals.close()
        await raw.close()
    return out


# --- 3. bytes on the relay --------------------------------------------------------------------------------------


@dataclass
class Seen:
    """One sync message as the relay carried it, opened with the group's keys to say what it is."""

    sender: str
    seq: int
    published_at: int
    """Unix milliseconds, as the relay says."""
    wire: int
    plaintext: int
    kind: str
    holds: str


class Observer:
    """A bare relay client subscribed to the group topic: sees exactly what the relay carries."""

    def __init__(self, url: str, member: Companion) -> None:
        self.member = member
        self.topic = group_topic(member)
        self.client = RelayClient(url, RelayIdentity(os.urandom(32)))
        self.seen: list[Seen] = []
        self.task: asyncio.Task[None] | None = None
        self.started = self.last = 0.0

    async def start(self) -> None:
        await self.client.start()
        await self.client.wait_online(15)
        self.started = self.last = time.perf_counter()
        await self.client.subscribe(self.topic)
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            data: MessageData = await self.client.inbox.get()
            if data.topic == self.topic:
                self.last = time.perf_counter()
                try:
                    self.seen.append(self.open(data.message, data.published_at))
                except envelope.EnvelopeError:
                    self.seen.append(Seen("", 0, data.published_at, len(data.message), 0, "unopened", ""))

    async def quiet(self, gap: float = QUIET_GAP, limit: float = QUIET_LIMIT) -> float | None:
        """Seconds from :meth:`start` to the last message before ``gap`` seconds without one; None if the topic
        is still busy ``limit`` seconds after the start."""
        while True:
            if time.perf_counter() - max(self.last, self.started) >= gap:
                return max(self.last, self.started) - self.started
            if time.perf_counter() - self.started >= limit:
                return None
            await asyncio.sleep(0.2)

    def count(self, names: dict[str, str], since_ms: int = 0) -> dict[str, int]:
        """Messages published from ``since_ms`` on, by sender (``names``) and kind."""
        counts: dict[str, int] = {}
        snapshots: dict[str, set[str]] = {}
        for seen in self.seen:
            if seen.published_at < since_ms:
                continue
            key = f"{names.get(seen.sender, 'other')} {seen.kind}"
            if seen.kind == "snapshot":
                snapshots.setdefault(key, set()).add(seen.holds)
                key += " part"
            counts[key] = counts.get(key, 0) + 1
            counts["bytes"] = counts.get("bytes", 0) + seen.wire
        counts |= {key: len(ids) for key, ids in snapshots.items()}
        return dict(sorted(counts.items()))

    def open(self, message: str, published_at: int = 0) -> Seen:
        membership = self.member.group.membership
        assert membership is not None
        keys = envelope.keyring(EpochKey(e, k) for e, k in self.member.db.epoch_keys().items())
        opened = envelope.open_b64(message, keys=keys, senders=membership.signing_keys(), revoked=membership.revoked())
        body = json.loads(opened.body)
        writes = body.get("change", {}).get("writes", [])
        holds = [f"audit row ({w[3]['kind']})" if w[1] == "entry" else f"{w[0].split('/')[0]} {w[1]}" for w in writes]
        holds_text = ", ".join(sorted(holds)) if body["t"] != "snapshot" else body["id"]
        return Seen(opened.sender, opened.seq, published_at, len(message), len(opened.body), body["t"], holds_text)

    async def changes(self, sender: str, first: int, last: int, timeout: float = 10.0) -> list[Seen]:
        """``sender``'s changes ``first`` to ``last``, as they reach the relay."""

        def found() -> dict[int, Seen]:
            return {s.seq: s for s in self.seen if s.kind == "change" and s.sender == sender and first <= s.seq <= last}

        async with asyncio.timeout(timeout):
            while len(found()) < last - first + 1:
                await asyncio.sleep(0.01)
        return [change for _, change in sorted(found().items())]

    async def close(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.client.close()


def next_seq(companion: Companion) -> int:
    row = companion.db.group()
    assert row is not None
    return row.next_seq


async def wire_sizes(a: Companion, b: Companion, topic: str, phone: Any, url: str) -> list[tuple[str, Seen]]:
    """The messages A's changes make: one rename, then one signing request (sent, then answered and checked).
    B's changes about the same request (it hears the phone's answer too) come last."""
    observer = Observer(url, a)
    await observer.start()
    me, sibling = a.group.keys.id, b.group.keys.id
    try:
        mark = next_seq(a)
        a.rename(topic, "a typical name")
        rows = [("rename", change) for change in await observer.changes(me, mark, next_seq(a) - 1)]

        mark, sibling_mark = next_seq(a), next_seq(b)

        async def answer() -> None:
            asked = await phone.next_event(ev.SessionRequestReceived)
            signature = sign_personal(asked.params[0])
            await phone.run(phone.engine.respond(asked.topic, asked.id, phone.now(), result=signature))

        answering = asyncio.create_task(answer())
        outcome = await a.sign(a.resolve(topic).name, message="Sign in to example.org\nNonce: 8f2c1e", timeout=30)
        await answering
        assert outcome.ok
        rows += [("signing request, A", change) for change in await observer.changes(me, mark, next_seq(a) - 1)]
        await b.sync()
        rows += [
            ("signing request, B", change) for change in await observer.changes(sibling, sibling_mark, next_seq(b) - 1)
        ]
        return rows
    finally:
        await observer.close()


# --- 2. catching up -----------------------------------------------------------------------------------------------


def write_changes(a: Companion, topic: str, count: int) -> None:
    """``count`` renames of ``topic`` on A, each through ``Companion.rename`` as a user's (its row, its signed
    audit row, and the change ``GroupSync.before_commit`` records in the same transaction)."""
    for done in range(1, count + 1):
        a.rename(topic, f"history {done}")


async def publisher_settled(a: Companion, quiet: float = 3.0, timeout: float = 300.0) -> int:
    """Wait until A's publisher stops making progress (all published, or the relay refuses more); how far it got."""
    last, since = -1, time.monotonic()
    async with asyncio.timeout(timeout):
        while True:
            now = published(a)
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return now
            await asyncio.sleep(0.2)


class DeviceProcess:
    """A device in a process of its own: it reports once its version vector covers ``author``'s ``seq`` and stays
    online (answering and applying, as a device left running does) until :meth:`stop`; stopped before that, it
    reports how far it got."""

    def __init__(self, home: Path, url: str, author: str, seq: int, log: Path, join: str | None = None) -> None:
        self.argv = [PYTHON, __file__, "--device", str(home), "--relay", url, "--until", f"{author}:{seq}"]
        self.argv += ["--log", str(log)]
        self.log, self.join = log, join
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """The link URI, if any, goes on stdin: never on the command line."""
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT
        )
        assert self.process.stdin is not None
        self.process.stdin.write(((self.join or "") + "\n").encode())
        await self.process.stdin.drain()

    async def report(self) -> dict[str, Any]:
        """Its report: when it caught up, or (once stopped) how far it got."""
        assert self.process is not None and self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the device process ended without a report; see {self.log}")
        report: dict[str, Any] = json.loads(line)
        return report

    def tell_to_stop(self) -> None:
        if self.process is not None and self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()  # the device closes itself (publishing what it has not) and exits

    async def stop(self) -> None:
        process = self.process
        if process is None:
            return
        self.tell_to_stop()
        try:
            async with asyncio.timeout(30):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def run_device(args: argparse.Namespace) -> None:
    """The child: open the device, start it (joining through the link on stdin, if any), report when caught up
    (or, told to stop before that, how far it got), then stay online until stdin closes."""
    logging.basicConfig(filename=args.log, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    loop = asyncio.get_running_loop()
    join = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
    told_to_stop = loop.run_in_executor(None, sys.stdin.read)  # returns when the bench closes our stdin
    author, seq = args.until.split(":")
    companion = await Companion.open(config(Path(args.device), args.relay))
    sync = companion.group_sync
    covered = asyncio.Event()
    report: dict[str, Any] = {"device": companion.group.keys.id, "batches": 0, "messages": 0}
    apply = sync.apply

    def counted(messages: list[str]) -> list[Any]:
        replies = apply(messages)
        report["batches"] += 1
        report["messages"] += len(messages)
        if sync.state().vector.get(author, 0) >= int(seq):
            covered.set()
        return replies

    sync.apply = counted  # type: ignore[method-assign]
    started = time.perf_counter()
    await companion.start()
    if join:
        await companion.join_group(join, show_code=no_code, confirm=yes, name="bench C")
        report["joined_s"] = time.perf_counter() - started
        report["state_bytes"] = len(companion.group_sync.state().snapshot_text())
    if sync.state().vector.get(author, 0) >= int(seq):
        covered.set()
    waiting = asyncio.ensure_future(covered.wait())
    await asyncio.wait({waiting, told_to_stop}, return_when=asyncio.FIRST_COMPLETED)
    if covered.is_set():
        report["seconds"] = time.perf_counter() - started
    else:
        waiting.cancel()
        report["seconds"] = None
        report["had"] = sync.state().vector.get(author, 0)
    print(json.dumps(report), flush=True)
    await told_to_stop
    await companion.close()


async def raw_delivery(url: str, count: int, size: int) -> float:
    """Seconds to get ``count`` raw messages of ``size`` chars to an online subscriber, published one at a time."""
    raw = RawPair(url)
    await raw.start()
    try:
        messages = [base64.b64encode(os.urandom(size * 3 // 4)).decode("ascii") for _ in range(count)]
        last = messages[-1]
        started = time.perf_counter()

        async def receive() -> None:
            while (await raw.receiver.inbox.get()).message != last:
                pass

        receiving = asyncio.create_task(receive())
        for message in messages:
            await raw.sender.publish(Publish(raw.topic, message, 300, SYNC_TAG), deadline=600)
        await receiving
        return time.perf_counter() - started
    finally:
        await raw.close()


def open_alone(a: Companion, count: int) -> tuple[float, int]:
    """Seconds to open (decrypt + verify) ``count`` of A's sync messages in memory, and their average size."""
    membership = a.group.membership
    assert membership is not None
    epoch, key = max(a.db.epoch_keys().items())
    epoch_key = EpochKey(epoch, key)
    bodies = [canonical({"t": "change", "change": json.loads(data)}).encode() for _, data in a.db.outbox()][:count]
    sealed = [envelope.seal_b64(epoch_key, a.group.keys, n + 1, body, os.urandom) for n, body in enumerate(bodies)]
    keys = envelope.keyring([epoch_key])
    senders, revoked = membership.signing_keys(), membership.revoked()
    started = time.perf_counter()
    for message in sealed:
        envelope.open_b64(message, keys=keys, senders=senders, revoked=revoked)
    return time.perf_counter() - started, sum(map(len, sealed)) // max(1, len(sealed))


# --- the run ------------------------------------------------------------------------------------------------------


def mailbox_refusals(log: Path) -> dict[str, int]:
    """The relay's refusals A logged, by the limit named: ``1000 undelivered messages`` or the topic's bytes."""
    counts: dict[str, int] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        if "RelayRejected" in line and "is full (" in line:
            limit = line.split("is full (", 1)[1].split(")", 1)[0]
            counts[limit] = counts.get(limit, 0) + 1
    return counts


async def part_one_and_three(work: Path, renames: int) -> tuple[Latency, list[tuple[str, Seen]], int]:
    relay, url = start_relay(log=work / "relay.log")
    a = b = phone = None
    try:
        a, b = await open_device(work / "a", url), await open_device(work / "b", url)
        topic, phone = await pair_phone(a, url)
        await link(a, b)
        await until(lambda: any(s.topic == topic for s in b.sessions()), "B has the session")
        sizes = await wire_sizes(a, b, topic, phone, url)
        rename_size = sizes[0][1].wire
        await b.sync()
        fresh = await latency(a, b, topic, url, renames, "renamed", rename_size)
        return fresh, sizes, rename_size
    finally:
        for closing in (phone, b, a):
            if closing is not None:
                await closing.close()
        stop(relay)


@dataclass
class CatchUp:
    changes: int
    setup_s: float
    published_before: int
    refused: dict[str, int]
    back: dict[str, Any]
    traffic: dict[str, int]
    """Sync messages on the group topic from B's return until it was quiet, by sender and kind."""
    quiet_s: float | None
    """Seconds from B's return until the group topic was quiet (None: still busy at :data:`QUIET_LIMIT`)."""
    held: dict[str, int]
    """What the group topic held at the end (every unexpired message), by sender and kind."""
    joined: dict[str, Any]
    raw_s: float
    open_s: float
    envelope_chars: int
    history: Latency
    state_bytes: int


async def part_two(work: Path, changes: int, renames: int, size: int) -> CatchUp:
    """A makes ``changes`` while B is away; then C joins by link, renames are timed on A with C holding the whole
    history, and last B comes back (last, because what its return sets off can fill the group topic)."""
    relay, url = start_relay(log=work / "relay.log")
    log = work / "devices.log"
    a = b = c = phone = None
    try:
        raw_s = await raw_delivery(url, changes, size)  # first, while nothing else shares the relay's limits
        progress(f"raw relay, {changes:,} messages: {raw_s:.2f} s")
        a, b = await open_device(work / "a2", url), await open_device(work / "b2", url)
        topic, phone = await pair_phone(a, url)
        await link(a, b)
        await until(lambda: any(s.topic == topic for s in b.sessions()), "B has the session")
        await b.sync()
        await b.close()
        b = None

        started = time.perf_counter()
        write_changes(a, topic, changes)
        setup_s = time.perf_counter() - started
        progress(f"{changes:,} renames on A in {setup_s:.1f} s")
        a.rename(topic, "history done")  # one more, through the store as usual: wakes the publisher
        me, last = a.group.keys.id, vector_of(a, a.group.keys.id)
        published_before = await publisher_settled(a)
        progress(f"A's publisher settled at {published_before:,}")

        offer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        linking = asyncio.create_task(a.link_device(on_offer=offer.set_result, show_code=no_code, confirm=yes))
        join_process = DeviceProcess(work / "c2", url, me, last, work / "c2-process.log", join=(await offer).uri)
        await join_process.start()
        joined = await join_process.report()
        try:
            await linking
        except WalletsyncError as exc:  # C is in; what the member does after the welcome can still fail
            joined["member_error"] = f"{type(exc).__name__}: {exc}"
        await join_process.stop()
        progress(f"C joined: {joined}")

        # A's publisher counts only what it published itself, so its next change would first re-send changes
        # published_before+1.. at the relay's rate. C holds them all (its welcome): tell the publisher so
        # before timing renames.
        with a.db.transaction():
            a.db.device_seen(me, int(time.time()), str(last))
        c = await open_device(work / "c2", url)
        settling = Observer(url, a)
        await settling.start()
        await settling.quiet()
        await settling.close()
        history = await latency(a, c, topic, url, max(20, renames // 4), "with history", size)
        progress(f"with history: C's StoreChanged {ms(history.shown)}")
        await c.close()
        c = None

        # The observer subscribes only now: a subscriber while B was away would have taken delivery of
        # what the relay kept for B, and changed what A's publisher ran into.
        last = vector_of(a, me)
        observer = Observer(url, a)
        await observer.start()
        back_process = DeviceProcess(work / "b2", url, me, last, work / "b2-process.log")
        returned, returned_ms = time.perf_counter(), int(time.time() * 1000)
        await back_process.start()
        reporting = asyncio.create_task(back_process.report())
        stalled = asyncio.create_task(observer.quiet(gap=STALLED))
        await asyncio.wait({reporting, stalled}, return_when=asyncio.FIRST_COMPLETED)
        if not reporting.done():  # nothing moves on the group topic and B has not caught up: it will not
            back_process.tell_to_stop()
        back = await reporting
        stalled.cancel()
        progress(f"B back online: {back}")
        quiet_s = await observer.quiet()
        quiet_s = None if quiet_s is None else quiet_s - (returned - observer.started)
        traffic = observer.count({me: "A", back["device"]: "B", joined["device"]: "C"}, returned_ms)
        progress(f"the group topic was quiet {quiet_s} s after B's return: {traffic}")
        await back_process.stop()
        await observer.close()
        # A late subscriber is handed every unexpired message the topic holds: what fills its byte limit.
        late = Observer(url, a)
        await late.start()
        await late.quiet()
        held = late.count({me: "A", back["device"]: "B", joined["device"]: "C"})
        await late.close()

        open_s, envelope_chars = open_alone(a, changes)
        return CatchUp(
            changes=changes,
            setup_s=setup_s,
            published_before=published_before,
            refused=mailbox_refusals(log),
            back=back,
            traffic=traffic,
            quiet_s=quiet_s,
            held=held,
            joined=joined,
            raw_s=raw_s,
            open_s=open_s,
            envelope_chars=envelope_chars,
            history=history,
            state_bytes=len(a.group_sync.state().snapshot_text()),
        )
    finally:
        for closing in (phone, b, c, a):
            if closing is not None:
                await closing.close()
        stop(relay)


def report(fresh: Latency, sizes: list[tuple[str, Seen]], catch: CatchUp) -> None:
    print(f"\n1. a change on another device (A renames, B applies), {len(fresh.in_rows)} renames, fresh group")
    print(f"   A's rename call        {ms(fresh.call)}   (records the change inside A's transaction)")
    print(f"   B's row changed        {ms(fresh.in_rows)}   (from A's commit, as every figure below)")
    print(f"   B's StoreChanged       {ms(fresh.shown)}   (target p50 < 50 ms)")
    print(f"   raw relay round trip   {ms(fresh.raw)}   (baseline, interleaved)")
    print(f"   ratio (p50, StoreChanged / raw): {statistics.median(fresh.shown) / statistics.median(fresh.raw):.1f}×")
    h = catch.history
    print(
        f"   with {catch.changes:,} changes of history ({catch.state_bytes / 1e6:.1f} MB of shared state), "
        f"{len(h.shown)} renames, device C (joined by link) in B's place:"
    )
    print(f"   A's rename call        {ms(h.call)}")
    print(f"   C's row changed        {ms(h.in_rows)}")
    print(f"   C's StoreChanged       {ms(h.shown)}")
    print(f"   raw relay round trip   {ms(h.raw)}")
    print(f"   ratio (p50, StoreChanged / raw): {statistics.median(h.shown) / statistics.median(h.raw):.1f}×")

    print(
        f"\n2. catching up on {catch.changes:,} changes (A made them as renames: {catch.setup_s:.1f} s, {1000 * catch.setup_s / catch.changes:.1f} ms each)"
    )
    print(
        f"   before B came back A had published {catch.published_before:,} of its changes; the relay refused A "
        + (", ".join(f"{n} times for '{limit}'" for limit, n in catch.refused.items()) or "nothing")
        + " in this part"
    )
    for label, run in (("B back online (own process)", catch.back), ("C joins by link (own process)", catch.joined)):
        seconds = run.get("seconds")
        took = f"{seconds:7.2f} s" if seconds is not None else f"never caught up (stalled at {run.get('had'):,})"
        if "joined_s" in run:
            extra = f"join_group {run['joined_s']:.2f} s, welcome state {run['state_bytes'] / 1e6:.1f} MB"
            if "member_error" in run:
                extra += f"; A's link_device then raised {run['member_error']}"
        else:
            extra = f"{run['messages']:,} sync messages applied in {run['batches']:,} batches"
        print(f"   {label:<32} {took}   (target < 2 s; {extra})")
    quiet = f"{catch.quiet_s:.1f} s" if catch.quiet_s is not None else f"still busy after {QUIET_LIMIT:.0f} s"
    traffic = ", ".join(f"{n:,} {kind}" for kind, n in catch.traffic.items() if kind != "bytes")
    megabytes = catch.traffic.get("bytes", 0) / 1e6
    print(f"   from B's return the group topic took {megabytes:.1f} MB until it went quiet ({quiet}): {traffic}")
    held = ", ".join(f"{n:,} {kind}" for kind, n in catch.held.items() if kind != "bytes")
    print(f"   at the end it held {catch.held.get('bytes', 0) / 1e6:.1f} MB (kept for the messages' TTL): {held}")
    print(f"   raw relay, {catch.changes:,} messages to a subscriber   {catch.raw_s:7.2f} s   (baseline)")
    print(
        f"   open (decrypt + verify) {catch.changes:,} envelopes   {catch.open_s:7.2f} s   (baseline; "
        f"{catch.envelope_chars} chars each)"
    )
    for label, run in (("B back", catch.back), ("C joins", catch.joined)):
        if run.get("seconds"):
            print(
                f"   ratio {label}: {run['seconds'] / catch.raw_s:.2f}× raw relay, "
                f"{run['seconds'] / catch.open_s:.0f}× opening alone"
            )

    print("\n3. bytes on the relay per change: the base64 message, vs the change's plaintext JSON inside it")
    for label, seen in sizes:
        print(
            f"   {label:<20} {seen.wire:6,} B   plaintext {seen.plaintext:5,} B ({seen.wire / seen.plaintext:.2f}×)   "
            f"{seen.holds}"
        )


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="walletsync-bench-sync-"))
    logging.basicConfig(filename=work / "devices.log", level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    load = os.getloadavg()[0]
    try:
        fresh, sizes, size = await part_one_and_three(work, args.renames)
        progress(f"fresh group: B's StoreChanged {ms(fresh.shown)}; raw {ms(fresh.raw)}")
        catch = await part_two(work, args.changes, args.renames, size)
        report(fresh, sizes, catch)
        print(
            f"\nload average (1 min) at the start {load:.2f}, at the end {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores"
        )
    finally:
        if args.keep:
            print(f"\nlogs and data dirs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10_000, help="changes to catch up on (default 10,000)")
    parser.add_argument("--renames", type=int, default=200, help="renames timed in part 1 (default 200)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and data dirs")
    parser.add_argument("--device", help=argparse.SUPPRESS)
    parser.add_argument("--relay", help=argparse.SUPPRESS)
    parser.add_argument("--until", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    asyncio.run(run_device(arguments) if arguments.device else main(arguments))
