"""The device group's rows: what comes back is what went in, and no key or state is on disk in clear."""

from __future__ import annotations

import base64
import sqlite3

from walletsync.store.db import MIGRATIONS, Database
from walletsync.store.group_rows import GroupRow

STORAGE_KEY = bytes(range(32))
DATA_KEY = bytes(range(100, 132))
STATE = b'{"session/ab":{"key":"' + bytes(range(200, 232)).hex().encode() + b'"}}'


def all_bytes(tmp_path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("walletsync.db"))


def test_the_group_rows_round_trip_and_keep_nothing_secret_in_clear(tmp_path):
    db = Database(tmp_path / "walletsync.db", STORAGE_KEY)
    with db.transaction():
        db.save_group(GroupRow("g" * 64, "laptop", 1_800_000_000, 1, None))
        db.save_epoch_key(1, DATA_KEY)
        db.save_group_state(STATE, {"session/abc": STATE + b"-abc", "audit/x/1": b"row"})
        db.save_group_state(STATE, {"session/abc": STATE + b"-abc2"})  # an entity is kept once, the newest
        db.add_outbox(1, STATE + b"-change")
        assert db.add_group_entry("e" * 64, b"entry", 1) and not db.add_group_entry("e" * 64, b"entry", 2)
        db.device_seen("d" * 32, 5, None)
        db.device_seen("d" * 32, 3, '{"a":1}')
    assert db.group() == GroupRow("g" * 64, "laptop", 1_800_000_000, 1, None)
    assert db.epoch_keys() == {1: DATA_KEY}
    assert db.group_state() == STATE
    assert sorted(db.group_registers()) == sorted([STATE + b"-abc2", b"row"])
    assert db.outbox() == [(1, STATE + b"-change")] and db.outbox(1) == []
    assert db.group_entries() == [b"entry"]
    assert db.devices_seen() == {"d" * 32: (5, '{"a":1}')}  # the newest time, the newest report
    db.close()
    on_disk = all_bytes(tmp_path)
    for secret in (DATA_KEY, DATA_KEY.hex().encode(), base64.b64encode(DATA_KEY), STATE, STATE[20:60], b"session/abc"):
        assert secret not in on_disk


def test_leaving_the_group_forgets_its_keys_and_state(tmp_path):
    db = Database(tmp_path / "walletsync.db", STORAGE_KEY)
    with db.transaction():
        db.save_group(GroupRow("g" * 64, "laptop", 1, 1, None))
        db.save_epoch_key(1, DATA_KEY)
        db.save_group_state(STATE, {"session/abc": STATE})
    with db.transaction():
        db.leave_group()
    assert db.group() is None and db.epoch_keys() == {} and db.group_state() is None
    assert db.group_registers() == []


def test_a_data_dir_from_before_the_group_gains_its_tables(tmp_path):
    path = tmp_path / "walletsync.db"
    old = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:3]):  # up to the group's first tables
        old.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number + 1};\nCOMMIT;")
    old.close()
    db = Database(path, STORAGE_KEY)
    assert db.group() is None
    with db.transaction():
        db.save_epoch_key(1, DATA_KEY)
    assert db.epoch_keys() == {1: DATA_KEY}
