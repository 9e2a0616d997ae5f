"""The store's replay memory: what survives a restart, and how two processes agree who handled a message."""

from __future__ import annotations

import sqlite3
import threading

from walletsync.protocol.state import ReplayMemory
from walletsync.store.db import MIGRATIONS, REPLAY_KEEP_ENDED, REPLAY_PER_TOPIC, REPLAY_TRIM_EVERY, Database

KEY = bytes(range(32))
NOW = 1_800_000_000
TOPIC = "ab" * 32


def test_a_message_is_fresh_once_and_its_memory_comes_back_in_order(tmp_path):
    db = Database(tmp_path / "w.db", KEY)
    first = ReplayMemory(seen={TOPIC: ("d1", "d2")}, handled_ids={TOPIC: (7,)}, last_update_ms={TOPIC: 5})
    with db.transaction():
        assert db.remember(first, now=NOW) is True
    with db.transaction():
        assert db.remember(ReplayMemory(seen={TOPIC: ("d3", "d2")}), now=NOW) is False  # d2 was handled
    with db.transaction():
        assert db.remember(ReplayMemory(handled_ids={TOPIC: (7,)}), now=NOW) is False  # same request, other bytes
    with db.transaction():
        db.remember(ReplayMemory(last_update_ms={TOPIC: 3}, last_event_ms={(TOPIC, "chainChanged"): 9}), now=NOW)
    db.close()
    memory = Database(tmp_path / "w.db", KEY).replay_memory({TOPIC})
    assert memory.seen == {TOPIC: ("d1", "d2", "d3")} and memory.handled_ids == {TOPIC: (7,)}
    assert memory.last_update_ms == {TOPIC: 5}  # an older time never moves it back
    assert memory.last_event_ms == {(TOPIC, "chainChanged"): 9}
    assert not Database(tmp_path / "w.db", KEY).replay_memory({"cd" * 32})


def test_the_memory_is_bounded_per_topic(tmp_path):
    """Always the newest REPLAY_PER_TOPIC at least, in order, and never more than REPLAY_TRIM_EVERY beyond them;
    a process recording on a topic for the first time cuts it back to exactly the newest."""
    db = Database(tmp_path / "w.db", KEY)
    total = REPLAY_PER_TOPIC + 3 * REPLAY_TRIM_EVERY
    for n in range(total):
        with db.transaction():
            db.remember(ReplayMemory(seen={TOPIC: (f"d{n}",)}), now=NOW)
        seen = db.replay_memory({TOPIC}).seen[TOPIC]
        assert len(seen) <= REPLAY_PER_TOPIC + REPLAY_TRIM_EVERY
        assert seen == tuple(f"d{k}" for k in range(n + 1 - len(seen), n + 1))
    assert len(seen) > REPLAY_PER_TOPIC  # what is kept meanwhile (else this test would not show the bound)
    db.close()
    restarted = Database(tmp_path / "w.db", KEY)
    with restarted.transaction():
        restarted.remember(ReplayMemory(seen={TOPIC: (f"d{total}",)}), now=NOW)
    assert restarted.replay_memory({TOPIC}).seen[TOPIC] == tuple(
        f"d{k}" for k in range(total + 1 - REPLAY_PER_TOPIC, total + 1)
    )


def test_the_memory_of_unused_topics_is_purged_once_no_relay_can_hold_their_messages(tmp_path):
    db = Database(tmp_path / "w.db", KEY)
    with db.transaction():
        db.remember(ReplayMemory(seen={TOPIC: ("old",)}, last_update_ms={TOPIC: 1}), now=NOW)
    with db.transaction():
        db.purge_replay(now=NOW + REPLAY_KEEP_ENDED - 1)
    assert db.replay_memory({TOPIC}).seen
    with db.transaction():
        db.purge_replay(now=NOW + REPLAY_KEEP_ENDED + 1)
    assert not db.replay_memory({TOPIC})


def test_two_processes_racing_on_one_message_agree_on_one_handler(tmp_path):
    """Each connection stands for a process that got the same push: exactly one records it as fresh."""
    Database(tmp_path / "w.db", KEY).close()
    for round_ in range(20):
        dbs = [Database(tmp_path / "w.db", KEY) for _ in range(4)]
        start = threading.Barrier(len(dbs))
        results: list[bool] = []

        def handle(db: Database) -> None:
            start.wait()
            with db.transaction():
                results.append(db.remember(ReplayMemory(seen={TOPIC: (f"push-{round_}",)}), now=NOW))

        threads = [threading.Thread(target=handle, args=(db,)) for db in dbs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, False, False, True]
        for db in dbs:
            db.close()


def test_a_store_of_the_first_schema_gains_the_replay_memory(tmp_path):
    path = tmp_path / "w.db"
    with sqlite3.connect(path) as old:
        old.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    db = Database(path, KEY)
    assert db._db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    with db.transaction():
        assert db.remember(ReplayMemory(seen={TOPIC: ("d",)}), now=NOW)


def test_data_version_moves_only_for_other_connections(tmp_path):
    mine, other = Database(tmp_path / "w.db", KEY), Database(tmp_path / "w.db", KEY)
    before = mine.data_version()
    with mine.transaction():
        mine.remember(ReplayMemory(seen={TOPIC: ("mine",)}), now=NOW)
    assert mine.data_version() == before
    with other.transaction():
        other.remember(ReplayMemory(seen={TOPIC: ("theirs",)}), now=NOW)
    assert mine.data_version() != before
