"""Backup: ``backup create`` and restoring it into a fresh data dir, each next to its floor — the same job done with
the bare libraries in the same run.

Run: .venv/bin/python bench/backup.py [--sessions 1000] [--audit-rows 10000] [--runs 5]   (a minute or two)

A data dir is written through the store (as bench/scale.py does): ``--sessions`` sessions and ``--audit-rows``
signed audit rows. Then, alternating so both see the same machine:

- **create** is the façade's ``create_backup`` with a passphrase (what ``walletsync backup create`` does after
  opening the companion); its floor is SQLite's online backup of the database to memory, one Argon2id with the
  vault's costs (libsodium's MODERATE), one XChaCha20-Poly1305 over the database's bytes (PyNaCl), and the result
  written to a file and synced;
- **restore** is reading the file with the passphrase and restoring it into a new data dir (``backup.read`` then
  ``backup.restore``: the audit log checked, the secrets stored in the keyring, files written); its floor is one
  Argon2id, one decryption and the database's bytes written to a file;
- **shares**: ``create_backup`` split into 3-of-5 SLIP-39 shares (no Argon2id) against the floor's copy and seal
  without the KDF.

Argon2id at MODERATE costs takes most of both on purpose (a vault in a cloud drive is attacked offline), so the
ratio says what walletsync adds beyond it. Keys in a throw-away Secret Service keyring (the bench re-runs itself
under ``dbus-run-session``). Nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt, crypto_aead_xchacha20poly1305_ietf_encrypt  # noqa: E402
from nacl.pwhash import argon2id  # noqa: E402

from bench.common import under_a_keyring  # noqa: E402
from bench.scale import build  # noqa: E402
from walletsync.service import Companion, Config, ShareSpec, backup  # noqa: E402

PASSPHRASE = "a long bench passphrase"


def floor_create(db_path: Path, output: Path, kdf: bool = True) -> bytes:
    """The bare job of ``create``: a consistent copy of the database, the key, the seal, the file written and synced."""
    source, memory = sqlite3.connect(str(db_path)), sqlite3.connect(":memory:")
    try:
        source.backup(memory)
        image = memory.serialize()
    finally:
        source.close()
        memory.close()
    salt, nonce = os.urandom(argon2id.SALTBYTES), os.urandom(24)
    key = (
        argon2id.kdf(
            32, PASSPHRASE.encode(), salt, opslimit=argon2id.OPSLIMIT_MODERATE, memlimit=argon2id.MEMLIMIT_MODERATE
        )
        if kdf
        else os.urandom(32)
    )
    sealed = salt + nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(bytes(image), b"", nonce, key)
    with open(output, "wb") as out:
        out.write(sealed)
        out.flush()
        os.fsync(out.fileno())
    return sealed


def floor_restore(sealed: bytes, target: Path) -> None:
    """The bare job of ``restore``: the key again, the decryption, the file written."""
    salt, nonce, body = sealed[:16], sealed[16:40], sealed[40:]
    key = argon2id.kdf(
        32, PASSPHRASE.encode(), salt, opslimit=argon2id.OPSLIMIT_MODERATE, memlimit=argon2id.MEMLIMIT_MODERATE
    )
    target.write_bytes(crypto_aead_xchacha20poly1305_ietf_decrypt(body, b"", nonce, key))


def main() -> None:
    under_a_keyring()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--audit-rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="walletsync-bench-backup-"))
    home = work / "home"
    started = time.perf_counter()
    build(home, args.sessions, args.audit_rows)
    print(f"data dir: {args.sessions} sessions, {args.audit_rows} audit rows ({time.perf_counter() - started:.1f} s)")
    os.environ["WALLETSYNC_BACKUP_PASSPHRASE"] = PASSPHRASE
    times: dict[str, list[float]] = {
        k: [] for k in ("create", "create floor", "restore", "restore floor", "shares", "shares floor")
    }
    sizes: dict[str, int] = {}

    async def run() -> None:
        companion = await Companion.open(Config(data_dir=str(home)), offline=True)
        try:
            for n in range(args.runs):
                file = work / f"b{n}.wsbackup"
                t = time.perf_counter()
                companion.create_backup(file, passphrase=PASSPHRASE, spec=None)
                times["create"].append(time.perf_counter() - t)
                t = time.perf_counter()
                sealed = floor_create(home / "walletsync.db", work / f"f{n}.sealed")
                times["create floor"].append(time.perf_counter() - t)
                sizes.update(file=file.stat().st_size, database=(home / "walletsync.db").stat().st_size)
                t = time.perf_counter()
                opened = backup.read(file.read_bytes(), passphrase=PASSPHRASE)
                backup.restore(Config(data_dir=str(work / f"restored{n}")), opened)
                times["restore"].append(time.perf_counter() - t)
                t = time.perf_counter()
                floor_restore(sealed, work / f"floor{n}.db")
                times["restore floor"].append(time.perf_counter() - t)
                t = time.perf_counter()
                companion.create_backup(work / f"s{n}.wsbackup", passphrase=None, spec=ShareSpec.simple(3, 5))
                times["shares"].append(time.perf_counter() - t)
                t = time.perf_counter()
                floor_create(home / "walletsync.db", work / f"fs{n}.sealed", kdf=False)
                times["shares floor"].append(time.perf_counter() - t)
        finally:
            await companion.close()

    asyncio.run(run())
    print(f"\nmedian of {args.runs} runs (min in brackets)")
    print(f"{'job':<10} {'walletsync':>16} {'floor':>16} {'ratio':>7}")
    for job in ("create", "restore", "shares"):
        mine, floor = times[job], times[f"{job} floor"]
        ratio = statistics.median(mine) / statistics.median(floor)
        print(
            f"{job:<10} {statistics.median(mine) * 1000:>9.0f} ms ({min(mine) * 1000:.0f})"
            f" {statistics.median(floor) * 1000:>9.0f} ms ({min(floor) * 1000:.0f}) {ratio:>6.2f}×"
        )
    print(f"\nbackup file {sizes['file'] / 1024:.0f} KiB for a {sizes['database'] / 1024:.0f} KiB database")


if __name__ == "__main__":
    main()
