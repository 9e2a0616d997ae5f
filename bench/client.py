"""Client speed: walletsync and the official JS SDK as dapp and as wallet, and CLI commands against ``python -c pass``.

Run: .venv/bin/python bench/client.py [ROUNDS]     (default 10; ≈1–2 min, loopback only)

One ``walletsync relay --store memory`` serves every pair, in one run:

- walletsync dapp ↔ walletsync phone, walletsync dapp ↔ JS wallet, JS dapp ↔ walletsync phone, JS ↔ JS;
  plus walletsync's bare engine (no store, no audit, no verification) ↔ each wallet, to show what the
  companion's persistence and checks cost.
- The walletsync dapp is the real ``Companion`` (``sign``: pushed, stored and audited, answered, the
  signature verified); the walletsync phone is the reference ``PhoneWallet`` answering every request;
  the JS peers are ``tests/interop/peer.mjs`` (``@walletconnect/sign-client``, request queue off,
  Verify API offline). Every peer is its own process (the walletsync dapp is this one), connected and
  warm before anything is timed.
- Pairing: from the dapp's connect to the session settled on the dapp's side, once per pair and round
  (a fresh wallet process each time). Round trip: ``personal_sign`` of a short message, from the
  dapp's request to the answer in the dapp's hands (the JS dapp times itself), 10 per pair and round,
  pairs interleaved. The first request after pairing (1 s after the session settled) is reported apart.
- CLI: the real commands as a user runs them (a data dir with one session, its phone running),
  interleaved with ``python -c pass`` and with bench/floor.py, the job of ``sessions`` done with the bare
  libraries (the floor under it); bytecode cached as after ``pip install``.

The device keys need a Secret Service keyring: without a D-Bus session the bench re-runs itself under
``dbus-run-session`` with a throw-away unlocked gnome-keyring. Nothing here asserts.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import start_relay, under_a_keyring  # noqa: E402

PYTHON = sys.executable
NAMESPACES = {"eip155": {"chains": ["eip155:1"], "methods": ["personal_sign"], "events": []}}
PER_ROUND = 10
SETTLE = 1.0


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(home / "pycache")}
    for name in ("PYTHONDONTWRITEBYTECODE", "WALLETCONNECT_PROJECT_ID"):
        env.pop(name, None)
    return env


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- the peers -----------------------------------------------------------------------------


class Lines:
    """A child printing JSON lines; ``expect(name)`` is the next line with that event."""

    def __init__(self, proc: asyncio.subprocess.Process, label: str) -> None:
        self.proc, self.label = proc, label

    async def expect(self, event: str, timeout: float = 60.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"{self.label} exited before {event!r}")
                item = json.loads(line)
                if item.get("event") == event:
                    return item
                if item.get("event") == "error":
                    raise RuntimeError(f"{self.label}: {item}")

    async def send(self, item: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(item) + "\n").encode())
        await self.proc.stdin.drain()

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def js_peer(url: str, name: str, logs: Path, *flags: str) -> Lines:
    interop = ROOT / "tests" / "interop"
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(interop / "peer.mjs"),
        "--relay",
        url,
        "--name",
        name,
        *flags,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=open(logs / f"{name}-{time.monotonic_ns()}.log", "w"),
        cwd=interop,
    )
    peer = Lines(proc, name)
    await peer.expect("ready")
    return peer


async def walletsync_phone(url: str, env: dict[str, str], logs: Path) -> Lines:
    """The reference phone in its own process (this file's ``phone`` mode), online, waiting for a URI on stdin."""
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        __file__,
        "phone",
        url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=open(logs / f"phone-{time.monotonic_ns()}.log", "w"),
        env=env,
        cwd=ROOT,
    )
    phone = Lines(proc, "walletsync phone")
    await phone.expect("ready")
    return phone


async def phone_mode(url: str) -> None:
    """``bench/client.py phone URL``: a PhoneWallet that approves and answers everything; the URI comes on stdin."""
    from walletsync.signer import Signer
    from walletsync.wallet import PhoneWallet

    def report(event: dict[str, Any]) -> None:
        """Only what the bench reads: nobody drains the pipe after "ready", so a line per request would fill it
        (64 KiB, a few hundred requests) and stall the phone."""
        if event.get("event") == "ready":
            print(json.dumps(event, default=str), flush=True)

    wallet = PhoneWallet.on_relay(
        url,
        Signer.from_key("0x" + "11" * 32),
        report=report,
        on_proposal="approve",
        auto_approve=True,
    )
    await wallet.runner.start()
    await wallet.runner.client.wait_online(20)
    report({"event": "ready"})
    uri = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await wallet.pair(uri.strip())
    await wallet.run_until_done()


# --- the dapps -------------------------------------------------------------------------------


class CompanionDapp:
    """walletsync's dapp side as users have it: the Companion (what ``walletsync sign`` and the app use)."""

    label = "walletsync dapp"

    def __init__(self, companion: Any) -> None:
        self.companion = companion
        self.topic = ""

    @classmethod
    async def open(cls, url: str, home: Path) -> CompanionDapp:
        from walletsync.service import Companion, Config

        companion = await Companion.open(Config(data_dir=str(home), relay=url))
        await companion.start()
        await companion.online()
        return cls(companion)

    async def pair(self, give_uri) -> float:
        started = time.perf_counter()
        offer = await self.companion.pair()
        await give_uri(offer.uri)
        session = await self.companion.wait_for_session(offer.proposal_id, 60)
        self.topic = session.topic
        return (time.perf_counter() - started) * 1000

    async def round_trips(self, count: int) -> list[float]:
        times = []
        for i in range(count):
            started = time.perf_counter()
            outcome = await self.companion.sign(self.topic, message=f"bench {i}")
            times.append((time.perf_counter() - started) * 1000)
            if not outcome.ok:
                raise RuntimeError(f"not verified: {outcome.to_json()}")
        return times

    async def close(self) -> None:
        await self.companion.close()


class EngineDapp:
    """walletsync's bare Sign engine over its relay client: no store, no audit rows, no verification."""

    label = "walletsync engine (no store)"

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.topic, self.address = "", ""

    @classmethod
    async def open(cls, url: str, home: Path) -> EngineDapp:
        from walletsync.protocol.engine import SignEngine
        from walletsync.protocol.relay_auth import RelayIdentity
        from walletsync.transport.client import RelayClient
        from walletsync.transport.runner import EngineRunner

        meta = {"name": "bench dapp", "description": "", "url": "https://bench.invalid", "icons": []}
        runner = EngineRunner(SignEngine(meta, os.urandom), RelayClient(url, RelayIdentity(os.urandom(32))))
        await runner.start()
        await runner.client.wait_online(20)
        return cls(runner)

    async def pair(self, give_uri) -> float:
        from walletsync.protocol import events as ev
        from walletsync.protocol.uri import format_uri

        started = time.perf_counter()
        events = await self.runner.run(self.runner.engine.connect(self.runner.now(), optional_namespaces=NAMESPACES))
        await give_uri(format_uri(next(e for e in events if isinstance(e, ev.PairingCreated)).uri))
        session = (await self.runner.next_event(ev.SessionSettled, 60)).session
        elapsed = (time.perf_counter() - started) * 1000
        self.topic, self.address = session.topic, session.accounts[0].split(":")[2]
        return elapsed

    async def round_trips(self, count: int) -> list[float]:
        from walletsync.protocol import events as ev

        times = []
        for i in range(count):
            params = ["0x" + f"bench {i}".encode().hex(), self.address]
            started = time.perf_counter()
            await self.runner.run(
                self.runner.engine.request(self.topic, "eip155:1", "personal_sign", params, self.runner.now())
            )
            answer = await self.runner.next_event((ev.RequestAnswered, ev.RequestFailed), 60)
            times.append((time.perf_counter() - started) * 1000)
            if not isinstance(answer, ev.RequestAnswered):
                raise RuntimeError(f"request failed: {answer}")
        return times

    async def close(self) -> None:
        await self.runner.close()


class JsDapp:
    """The official SignClient as the dapp (peer.mjs), timing its own requests."""

    label = "JS dapp"

    def __init__(self, peer: Lines) -> None:
        self.peer = peer
        self.topic, self.address = "", ""

    @classmethod
    async def open(cls, url: str, logs: Path) -> JsDapp:
        return cls(await js_peer(url, "js-dapp", logs))

    async def pair(self, give_uri) -> float:
        await self.peer.send({"cmd": "connect", "namespaces": NAMESPACES})
        await give_uri((await self.peer.expect("uri"))["uri"])
        session = await self.peer.expect("session")
        self.topic = session["topic"]
        self.address = session["namespaces"]["eip155"]["accounts"][0].split(":")[2]
        return float(session["pairing_ms"])

    async def round_trips(self, count: int) -> list[float]:
        params = ["0x" + b"bench".hex(), self.address]
        await self.peer.send(
            {
                "cmd": "bench",
                "topic": self.topic,
                "chainId": "eip155:1",
                "method": "personal_sign",
                "params": params,
                "count": count,
            }
        )
        return [float(ms) for ms in (await self.peer.expect("bench"))["ms"]]

    async def close(self) -> None:
        await self.peer.close()


# --- pairs -------------------------------------------------------------------------------------


async def run_pairs(url: str, home: Path, env: dict[str, str], logs: Path, rounds: int) -> None:
    async def wallet_for(kind: str) -> Lines:
        if kind == "walletsync phone":
            return await walletsync_phone(url, env, logs)
        return await js_peer(url, "js-wallet", logs, "--auto-approve", "--auto-sign")

    async def dapp_for(kind: str) -> Any:
        if kind == CompanionDapp.label:
            return await CompanionDapp.open(url, home / f"dapp-{time.monotonic_ns()}")
        if kind == EngineDapp.label:
            return await EngineDapp.open(url, home)
        return await JsDapp.open(url, logs)

    combos = [
        (CompanionDapp.label, "walletsync phone"),
        (CompanionDapp.label, "JS wallet"),
        (JsDapp.label, "walletsync phone"),
        (JsDapp.label, "JS wallet"),
        (EngineDapp.label, "walletsync phone"),
        (EngineDapp.label, "JS wallet"),
    ]
    dapps = {dapp: await dapp_for(dapp) for dapp in dict.fromkeys(d for d, _ in combos)}
    pairing: dict[tuple[str, str], list[float]] = {c: [] for c in combos}
    first: dict[tuple[str, str], float] = {}
    trips: dict[tuple[str, str], list[float]] = {c: [] for c in combos}
    kept: list[Lines] = []
    sessions: dict[tuple[str, str], tuple[str, str]] = {}  # the first round's (topic, address) per pair

    def use(combo: tuple[str, str]) -> Any:
        dapp = dapps[combo[0]]
        dapp.topic, address = sessions[combo]
        if hasattr(dapp, "address"):
            dapp.address = address
        return dapp

    try:
        for round_ in range(rounds):
            for combo in combos:
                dapp, wallet = dapps[combo[0]], await wallet_for(combo[1])
                pairing[combo].append(await dapp.pair(lambda uri: _give(wallet, uri)))
                if round_ == 0:
                    sessions[combo] = (dapp.topic, getattr(dapp, "address", ""))
                    kept.append(wallet)  # answers the round trips below
                else:
                    await wallet.close()
        await asyncio.sleep(SETTLE)
        for combo in combos:
            first[combo] = (await use(combo).round_trips(1))[0]
        for _ in range(rounds):
            for combo in combos:
                trips[combo] += await use(combo).round_trips(PER_ROUND)
    finally:
        for wallet in kept:
            await wallet.close()
        for dapp in dapps.values():
            await dapp.close()
    _print_pairs(combos, pairing, first, trips)


async def _give(wallet: Lines, uri: str) -> None:
    """Hand a pairing URI to a wallet process: peer.mjs takes a command, the phone mode a bare line."""
    if wallet.label == "walletsync phone":
        assert wallet.proc.stdin is not None
        wallet.proc.stdin.write((uri + "\n").encode())
        await wallet.proc.stdin.drain()
    else:
        await wallet.send({"cmd": "pair", "uri": uri})


def _print_pairs(combos, pairing, first, trips) -> None:
    js = (JsDapp.label, "JS wallet")
    js_pair, js_p50 = statistics.median(pairing[js]), statistics.median(trips[js])
    print(f"\npairs on one relay ({len(trips[js])} round trips each, {len(pairing[js])} pairings each)")
    print(
        f"{'dapp ↔ wallet':<48} {'pairing p50':>11} {'vs JS':>6} {'rt p50':>8} {'rt p95':>8} {'vs JS':>6} {'1st request':>11}"
    )
    for combo in combos:
        p = statistics.median(pairing[combo])
        p50, p95 = statistics.median(trips[combo]), pct(trips[combo], 0.95)
        print(
            f"{combo[0] + ' ↔ ' + combo[1]:<48} {p:8.1f} ms {p / js_pair:5.2f}× {p50:5.1f} ms {p95:5.1f} ms {p50 / js_p50:5.2f}× {first[combo]:8.1f} ms"
        )


# --- CLI ----------------------------------------------------------------------------------------


def run_cli(url: str, home: Path, env: dict[str, str], runs: int) -> None:
    data = home / "cli"
    base = [PYTHON, "-m", "walletsync", "--relay", url, "--data-dir", str(data)]
    pair = subprocess.Popen(
        [*base, "pair", "--json", "--no-qr", "--name", "S"], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    uri = json.loads(pair.stdout.readline())["uri"]  # type: ignore[union-attr]
    phone = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "walletsync",
            "phone",
            uri,
            "--approve",
            "--auto-approve",
            "--json",
            "--relay",
            url,
            "--data-dir",
            str(home / "cli-phone"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    try:
        pair.wait(60)
        floor = [PYTHON, str(ROOT / "bench" / "floor.py")]
        subprocess.run([*floor, "--store"], check=True, env=env, cwd=ROOT)
        commands = {
            "python -c pass": [PYTHON, "-c", "pass"],
            "the same job, bare libraries (floor.py)": [*floor, url, str(data)],
            "walletsync --version": [*base, "--version"],
            "walletsync sessions --offline": [*base, "sessions", "--offline"],
            "walletsync sessions": [*base, "sessions"],
            "walletsync sign S --message hi": [*base, "sign", "S", "--message", "hi"],
        }

        def timed(argv: list[str]) -> float:
            started = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"{argv[3:]} failed: {done.stderr[-500:]}")
            return elapsed * 1000

        for argv in commands.values():
            timed(argv)  # bytecode written, keyring and relay warm
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(timed(argv))
    finally:
        phone.terminate()
        phone.wait()
    python = statistics.median(times["python -c pass"])
    print(f"\nCLI, median of {runs} (a data dir with one session, its phone running)")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<40} {median:7.0f} ms  {median / python:5.1f}× python -c pass   (min {min(values):.0f} ms)")


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "phone":
        asyncio.run(phone_mode(sys.argv[2]))
        return
    under_a_keyring()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    home = Path(tempfile.mkdtemp(prefix="walletsync-bench-client-"))
    env = _env(home)
    logs = home / "logs"
    logs.mkdir()
    subprocess.run([PYTHON, "-c", "import walletsync.cli, walletsync.wallet"], env=env, cwd=ROOT, check=True)
    relay, url = start_relay(env, logs / "relay.log")
    print(f"load average at the start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); relay {url}")
    try:
        asyncio.run(run_pairs(url, home, env, logs, rounds))
        run_cli(url, home, env, max(5, rounds))
    finally:
        relay.terminate()
        relay.wait()
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
