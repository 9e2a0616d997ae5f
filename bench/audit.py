"""``walletsync audit verify`` on a long log: the whole command, next to ``python -c pass`` from the same run.

Run: .venv/bin/python bench/audit.py [--rows 100000]   (about a minute; no relay, no network)

The log is written the way the companion writes it (``Journal.audit``: each row signed, chained and its
head re-signed), in transactions of 10,000 rows so that setting up takes seconds, into a data dir whose
secrets are in a ``--keyring-file``. Then the CLI command runs five times as a user would run it
(``--keyring-file`` with ``$WALLETSYNC_PASSPHRASE``): the figure includes starting Python, importing,
unlocking the key file (Argon2id) and reading the rows. Also printed: ``verify`` alone on the same rows in
memory, and checking every row's own signature (what it did before the chain covered signatures).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from walletsync import audit  # noqa: E402
from walletsync.service import Companion, Config  # noqa: E402

PASSPHRASE = "walletsync bench"
BATCH = 10_000
RUNS = 5


def write_rows(home: Path, keys: Path, rows: int) -> tuple[list[audit.AuditEntry], bytes]:
    """``rows`` audit rows through the companion's journal; the rows and the device's public key."""

    async def go() -> tuple[list[audit.AuditEntry], bytes]:
        config = Config(data_dir=str(home), relay="ws://127.0.0.1:9", keyring_file=str(keys), passphrase=PASSPHRASE)
        companion = await Companion.open(config)
        try:
            done = len(companion.db.audit_entries())
            while done < rows:
                with companion.db.transaction():
                    for _ in range(min(BATCH, rows - done)):
                        done += 1
                        companion.journal.audit(
                            "request_answered", "ab" * 32, id=done, method="personal_sign", result="0x" + "cd" * 65
                        )
            return companion.db.audit_entries(), bytes(companion.secrets.identity.public_key)
        finally:
            await companion.close()

    return asyncio.run(go())


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="walletsync-bench-audit-") as work:
        home, keys = Path(work) / "data", Path(work) / "data.keys"
        started = time.perf_counter()
        entries, public_key = write_rows(home, keys, args.rows)
        print(f"{len(entries):,} rows written through the journal in {time.perf_counter() - started:.1f} s")

        env = {**os.environ, "WALLETSYNC_PASSPHRASE": PASSPHRASE}
        verify = [sys.executable, "-m", "walletsync", "--data-dir", str(home), "--keyring-file", str(keys)]
        verify += ["--relay", "ws://127.0.0.1:9", "audit", "verify", "--json"]
        baseline, command = [], []
        for _ in range(RUNS):  # interleaved, so both see the same machine
            baseline.append(timed([sys.executable, "-c", "pass"], env))
            command.append(timed(verify, env))
        in_memory = []
        for _ in range(3):
            started = time.perf_counter()
            assert audit.verify(entries, public_key).ok
            in_memory.append(time.perf_counter() - started)
        key = audit._verify_key(public_key)
        started = time.perf_counter()
        assert all(audit._signed_by(key, entry) for entry in entries)
        every_signature = time.perf_counter() - started

    base, whole = statistics.median(baseline), statistics.median(command)
    print(f"audit verify, whole command ({args.rows:,} rows)   median {whole:6.2f} s   (target < 3 s for 100,000)")
    print(f"python -c pass                          median {base:6.3f} s   (baseline; ratio {whole / base:.0f}×)")
    print(f"verify() alone, in memory               median {statistics.median(in_memory):6.2f} s")
    print(f"every row's own signature (the old way)        {every_signature:6.2f} s")
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end {load:.2f}; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
