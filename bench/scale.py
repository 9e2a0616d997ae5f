"""Scale: ``walletsync sessions`` and the app with 10,000 sessions and 100,000 audit rows, each next to the same
figure with 10 sessions from the same run.

Run: .venv/bin/python bench/scale.py [--sessions 10000] [--audit-rows 100000] [--runs 5]   (a few minutes)

Two data dirs are written through the store (``Database.save_session``, ``end_session`` and the journal's
signed audit rows, in large transactions so setting up takes seconds, not hours): one with 10 sessions, one with
``--sessions`` (every tenth one ended, as a long-used device has them) and ``--audit-rows`` audit rows. Then,
alternating between the two so both see the same machine:

- ``walletsync sessions --offline`` and ``walletsync sessions`` against a local relay (the whole command:
  starting Python, opening the keys and the database, listing), and bench/floor.py, the same job done with the
  bare libraries (reading the rows, subscribing to and fetching every topic), as its floor;
- the app's first paint: spawn ``python -m walletsync`` in a 120x40 pty until the first session's name is on
  the screen;
- the app's idle CPU: once painted and settled (going online, filling the table: "busy after first paint"
  ends with the first second in which it used under 10 % of a core), the process's CPU time (user + system,
  from /proc) over a few seconds of doing nothing, as a share of one core.

The keys are in a throw-away Secret Service keyring (the bench re-runs itself under ``dbus-run-session``),
as in ``bench/app.py``: a key file would add its Argon2id to both sides and hide the ratio. Nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fcntl  # noqa: E402
import termios  # noqa: E402

from bench.common import start_relay, under_a_keyring  # noqa: E402
from walletsync.protocol.state import Session  # noqa: E402
from walletsync.service import Companion, Config  # noqa: E402

PYTHON = sys.executable
SIZE = (120, 40)
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
BATCH = 10_000
ADDRESS = "0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"
IDLE_SECONDS = 5.0
SETTLED = 0.10


def _session(n: int, now: int) -> Session:
    chains = ["eip155:1", "eip155:10", "eip155:137"]
    return Session(
        topic=os.urandom(32).hex(),
        sym_key=os.urandom(32),
        pairing_topic=os.urandom(32).hex(),
        self_public_key=os.urandom(32).hex(),
        peer_public_key=os.urandom(32).hex(),
        peer_metadata={
            "name": f"Bench Wallet {n}",
            "description": "a phone wallet",
            "url": f"https://wallet{n}.example",
            "icons": [f"https://wallet{n}.example/icon.png"],
        },
        controller_public_key=os.urandom(32).hex(),
        namespaces={
            "eip155": {
                "chains": chains,
                "accounts": [f"{c}:{ADDRESS}" for c in chains],
                "methods": ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"],
                "events": ["accountsChanged", "chainChanged"],
            }
        },
        expiry=now + 7 * 86400 - n,
        is_controller=False,
        acknowledged=True,
        required_namespaces={},
        optional_namespaces={
            "eip155": {
                "chains": chains,
                "methods": ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"],
                "events": ["accountsChanged", "chainChanged"],
            }
        },
    )


def build(home: Path, sessions: int, audit_rows: int) -> None:
    """A data dir with ``sessions`` sessions (every tenth ended) and ``audit_rows`` signed audit rows."""

    async def go() -> None:
        companion = await Companion.open(Config(data_dir=str(home)), offline=True)
        db, now = companion.db, int(time.time())
        try:
            for start in range(0, sessions, BATCH):
                with db.transaction():
                    for n in range(start, min(sessions, start + BATCH)):
                        s = _session(n, now)
                        db.save_session(s, name=f"bench-{n:05d}", now=now - sessions + n)
                        if n % 10 == 9:
                            db.end_session(s.topic, "deleted")
            topics = [s.topic for s in db.sessions()]
            for start in range(0, audit_rows, BATCH):
                with db.transaction():
                    for n in range(start, min(audit_rows, start + BATCH)):
                        companion.journal.audit(
                            "request_answered",
                            topics[n % len(topics)],
                            id=n,
                            method="personal_sign",
                            result="0x" + "cd" * 65,
                        )
        finally:
            await companion.close()

    asyncio.run(go())


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def _spawn(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, cwd=ROOT)
    os.close(slave)
    return process, master


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def app_run(
    argv: list[str], env: dict[str, str], marker: bytes, idle: float, timeout: float = 60.0
) -> tuple[float, float]:
    """Seconds from spawn until ``marker`` is on the pty, and the share of a core the app then uses over ``idle`` s."""
    started = time.perf_counter()
    process, master = _spawn(argv, env)
    seen = b""

    def drain(until: float) -> None:
        nonlocal seen
        while time.perf_counter() < until:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen = (seen + os.read(master, 65536))[-200_000:]
                except OSError:
                    return

    try:
        painted = None
        while painted is None and time.perf_counter() - started < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
                if marker in ANSI.sub(b"", seen):
                    painted = time.perf_counter() - started
        if painted is None:
            raise RuntimeError(f"{marker!r} not shown within {timeout} s; last output: {ANSI.sub(b'', seen)[-300:]!r}")
        while time.perf_counter() - started < painted + timeout:  # settled: going online, filling the table
            cpu, wall = _cpu_seconds(process.pid), time.perf_counter()
            drain(wall + 1.0)
            if (_cpu_seconds(process.pid) - cpu) / (time.perf_counter() - wall) < SETTLED:
                break
        busy = time.perf_counter() - started - painted - 1.0
        cpu, wall = _cpu_seconds(process.pid), time.perf_counter()
        drain(wall + idle)
        return painted, busy, (_cpu_seconds(process.pid) - cpu) / (time.perf_counter() - wall)
    finally:
        os.write(master, b"q")
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.close(master)


def main() -> None:
    under_a_keyring()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--audit-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip", action="append", default=[], choices=["offline", "online", "app"])
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="walletsync-bench-scale-"))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(SIZE[0]), "LINES": str(SIZE[1])}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    for name in ("PYTHONDONTWRITEBYTECODE", "WALLETCONNECT_PROJECT_ID"):
        env.pop(name, None)
    relay, url = start_relay(env)
    try:
        small, large = work / "small", work / "large"
        started = time.perf_counter()
        build(small, 10, 10)
        build(large, args.sessions, args.audit_rows)
        print(
            f"data dirs written in {time.perf_counter() - started:.1f} s: 10 sessions; {args.sessions:,} sessions + {args.audit_rows:,} audit rows"
        )
        subprocess.run(
            [PYTHON, "-c", "import textual.app, walletsync.cli, walletsync.app.app"], env=env, cwd=ROOT, check=True
        )
        floor = [PYTHON, str(ROOT / "bench" / "floor.py")]
        subprocess.run([*floor, "--store"], env=env, cwd=ROOT, check=True)

        def cli(home: Path, *rest: str) -> list[str]:
            return [PYTHON, "-m", "walletsync", "--data-dir", str(home), "--relay", url, *rest]

        figures: dict[str, list[float]] = {}

        def note(label: str, value: float) -> None:
            figures.setdefault(label, []).append(value)

        for _ in range(args.runs):  # interleaved, so both sides see the same machine
            note("python -c pass", timed([PYTHON, "-c", "pass"], env))
            for size, home in (("10", small), ("big", large)):
                if "offline" not in args.skip:
                    note(f"sessions --offline/{size}", timed(cli(home, "sessions", "--offline"), env))
                if "online" not in args.skip:
                    note(f"sessions (local relay)/{size}", timed(cli(home, "sessions"), env))
                    note(f"its floor: bare libraries/{size}", timed([*floor, url, str(home)], env))
                if "app" not in args.skip:
                    paint, busy, cpu = app_run(cli(home), env, b"bench-00000", IDLE_SECONDS)
                    note(f"app first paint/{size}", paint)
                    note(f"app busy after first paint/{size}", busy)
                    note(f"app idle CPU (share of a core)/{size}", cpu)
    finally:
        relay.terminate()
        relay.wait()
        shutil.rmtree(work, ignore_errors=True)

    print(f"medians of {args.runs} runs; python -c pass {statistics.median(figures['python -c pass']) * 1000:.0f} ms")
    for label in dict.fromkeys(k.rsplit("/", 1)[0] for k in figures if "/" in k):
        few, many = statistics.median(figures[f"{label}/10"]), statistics.median(figures[f"{label}/big"])
        if "CPU" in label:
            print(
                f"{label:36} 10 sessions {few * 100:5.1f} %   {args.sessions:,} sessions {many * 100:5.1f} %   (target < 2 %)"
            )
        else:
            print(
                f"{label:36} 10 sessions {few * 1000:6.0f} ms   {args.sessions:,} sessions {many * 1000:6.0f} ms   "
                f"ratio {many / few:.2f}×" + ("" if "busy" in label or "floor" in label else "   (target ≤ 1.5×)")
            )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
