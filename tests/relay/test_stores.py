"""One contract for every mailbox store: memory, SQLite and Redis must behave the same."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from walletsync.relay.mailbox import StoredMessage, message_id
from walletsync.relay.stores import StoreSpecError, open_store
from walletsync.relay.stores.memory import MemoryStore
from walletsync.relay.stores.redisdb import RedisStore
from walletsync.relay.stores.sqlite import SqliteStore

REPO = Path(__file__).resolve().parents[2]
T1 = "1" * 64
T2 = "2" * 64
ALICE = "did:key:z6MkAlice"
BOB = "did:key:z6MkBob"
CAROL = "did:key:z6MkCarol"
# Redis expires keys on the real clock, so every time in this file is near the real "now" (reset per test).
NOW = int(time.time() * 1000)
MINUTE = 60_000


@pytest.fixture(autouse=True)
def _fresh_now():
    global NOW
    NOW = int(time.time() * 1000)


def msg(text: str, *, topic: str = T1, publisher: str = ALICE, at: int | None = None, ttl_ms: int = 5 * MINUTE, tag: int = 1108) -> StoredMessage:
    at = NOW if at is None else at
    return StoredMessage(topic, text, publisher, at, at + ttl_ms, tag, prompt=True, attestation=None)


def texts(messages: list[StoredMessage]) -> list[str]:
    return [m.message for m in messages]


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request, tmp_path):
    """A fresh, empty store of each kind; closed after the test."""
    if request.param == "memory":
        s = MemoryStore()
    elif request.param == "sqlite":
        s = SqliteStore(tmp_path / "relay.db")
    else:
        server = request.getfixturevalue("redis_server")
        server.flush()
        s = RedisStore(server.url)
    yield s
    await s.close()


# --- add / dedup ------------------------------------------------------------------------


async def test_add_is_new_then_duplicate(store):
    """A retried publish (same message on the same topic) is stored once, so the peer does not get it twice."""
    assert await store.add(msg("AAAA")) is True
    assert await store.add(msg("AAAA")) is False
    assert await store.add(msg("AAAA", publisher=CAROL, at=NOW + 5)) is False, "dedup is by message content, not by publisher/time"
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["AAAA"]


async def test_same_message_on_another_topic_is_separate(store):
    """The same ciphertext on two topics lands in both mailboxes."""
    assert await store.add(msg("AAAA", topic=T1)) is True
    assert await store.add(msg("AAAA", topic=T2)) is True
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["AAAA"]
    assert texts(await store.undelivered(T2, BOB, NOW)) == ["AAAA"]
    assert await store.count(T1, NOW) == 1 and await store.count(T2, NOW) == 1


async def test_stored_fields_round_trip(store):
    """What comes back out (topic, tag, publishedAt, attestation, prompt) is what was published."""
    original = StoredMessage(T1, "AQID", ALICE, NOW, NOW + MINUTE, 1100, True, "eyJhbGciOi.att.sig")
    await store.add(original)
    (back,) = await store.undelivered(T1, BOB, NOW)
    assert back == original
    assert back.id == hashlib.sha256(b"AQID").hexdigest()


# --- undelivered ------------------------------------------------------------------------


async def test_undelivered_excludes_the_publisher(store):
    """A client never gets its own publish back (the SDK would process its own proposal)."""
    await store.add(msg("from-alice", publisher=ALICE))
    await store.add(msg("from-bob", publisher=BOB, at=NOW + 1))
    assert texts(await store.undelivered(T1, ALICE, NOW)) == ["from-bob"]
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["from-alice"]
    assert texts(await store.undelivered(T1, CAROL, NOW)) == ["from-alice", "from-bob"]


async def test_ack_hides_the_message_only_for_that_client(store):
    """Bob's ack stops redelivery to Bob; Carol, who has not acked, still gets it."""
    await store.add(msg("m1"))
    await store.add(msg("m2", at=NOW + 1))
    await store.ack(T1, message_id("m1"), BOB)
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["m2"]
    assert texts(await store.undelivered(T1, CAROL, NOW)) == ["m1", "m2"]
    await store.ack(T1, message_id("m1"), BOB)  # acking twice is fine
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["m2"]


async def test_ack_is_per_topic(store):
    """Acking a message on one topic does not hide the same message on another topic."""
    await store.add(msg("same", topic=T1))
    await store.add(msg("same", topic=T2))
    await store.ack(T1, message_id("same"), BOB)
    assert texts(await store.undelivered(T1, BOB, NOW)) == []
    assert texts(await store.undelivered(T2, BOB, NOW)) == ["same"]


async def test_undelivered_excludes_expired(store):
    """A message whose TTL has ended is not delivered any more (expires_at <= now is expired)."""
    await store.add(msg("short", ttl_ms=10_000))
    await store.add(msg("long", at=NOW + 1, ttl_ms=MINUTE))
    assert texts(await store.undelivered(T1, BOB, NOW + 9_999)) == ["short", "long"]
    assert texts(await store.undelivered(T1, BOB, NOW + 10_000)) == ["long"]
    assert texts(await store.undelivered(T1, BOB, NOW + MINUTE + 1)) == []


async def test_undelivered_is_oldest_first(store):
    """Stored messages come out in publishedAt order even if they were stored out of order."""
    await store.add(msg("second", at=NOW + 2_000))
    await store.add(msg("first", at=NOW + 1_000))
    await store.add(msg("third", at=NOW + 3_000))
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["first", "second", "third"]


async def test_undelivered_of_unknown_topic_is_empty(store):
    """Subscribing to a topic nobody published on yields nothing (and no error)."""
    assert await store.undelivered("f" * 64, BOB, NOW) == []
    assert await store.count("f" * 64, NOW) == 0


# --- ack of unknown messages --------------------------------------------------------------


async def test_ack_of_unknown_message_is_harmless(store):
    """A stray or late ack (unknown id, unknown topic) neither fails nor hides other messages."""
    await store.add(msg("m1"))
    await store.ack(T1, "0" * 64, BOB)
    await store.ack("e" * 64, message_id("m1"), BOB)
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["m1"]
    assert await store.count(T1, NOW) == 1


async def test_ack_before_the_message_exists_leaves_no_trace(store):
    """An ack for a message the store does not hold is dropped: it does not hide that message if it is published later."""
    await store.ack(T1, message_id("later"), BOB)
    await store.add(msg("later"))
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["later"]


# --- count / purge ------------------------------------------------------------------------


async def test_count_counts_only_unexpired(store):
    """The mailbox-size limit only counts messages that are still alive."""
    await store.add(msg("a", ttl_ms=10_000))
    await store.add(msg("b", ttl_ms=MINUTE))
    await store.add(msg("c", ttl_ms=MINUTE, topic=T2))
    assert await store.count(T1, NOW) == 2
    assert await store.count(T1, NOW + 10_000) == 1
    assert await store.count(T1, NOW + MINUTE) == 0
    assert await store.count(T2, NOW) == 1


async def test_purge_removes_expired_and_returns_how_many(store):
    """Purge drops exactly the expired messages, so the relay's storage does not grow forever."""
    await store.add(msg("old1", ttl_ms=10_000))
    await store.add(msg("old2", topic=T2, ttl_ms=10_000))
    await store.add(msg("young", at=NOW + 1, ttl_ms=MINUTE))
    await store.ack(T1, message_id("old1"), BOB)
    assert await store.purge(NOW + 10_000) == 2
    # Asking with an earlier "now" proves they are gone, not merely filtered out.
    assert texts(await store.undelivered(T1, CAROL, NOW)) == ["young"]
    assert texts(await store.undelivered(T2, CAROL, NOW)) == []
    assert await store.count(T1, NOW) == 1
    assert await store.purge(NOW + 10_000) == 0, "a second purge has nothing left to remove"


# --- durability (SQLite) -----------------------------------------------------------------


async def test_sqlite_message_survives_close_and_reopen(tmp_path):
    """A relay restarted on the same SQLite file still delivers what was stored, and remembers acks."""
    path = tmp_path / "relay.db"
    first = SqliteStore(path)
    await first.add(msg("kept"))
    await first.add(msg("acked", at=NOW + 1))
    await first.ack(T1, message_id("acked"), BOB)
    await first.close()
    second = SqliteStore(path)
    try:
        assert texts(await second.undelivered(T1, BOB, NOW)) == ["kept"]
        assert texts(await second.undelivered(T1, CAROL, NOW)) == ["kept", "acked"]
        assert await second.add(msg("kept")) is False, "dedup survives the restart too"
    finally:
        await second.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys, time
    from walletsync.relay.mailbox import StoredMessage
    from walletsync.relay.stores.sqlite import SqliteStore

    store = SqliteStore(sys.argv[1])
    now = int(sys.argv[2])
    asyncio.run(store.add(StoredMessage(sys.argv[3], "survivor", "did:key:z6MkAlice", now, now + 300_000, 1108, True, None)))
    print("ok", flush=True)
    time.sleep(60)
    """
)


def test_sqlite_message_survives_kill_9_of_the_writer(tmp_path):
    """A publish the relay stored is still there after the relay process is SIGKILLed."""
    path = tmp_path / "relay.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(NOW), T1], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout.readline().strip() == "ok"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=5) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    async def read() -> list[str]:
        store = SqliteStore(path)
        try:
            return texts(await store.undelivered(T1, BOB, NOW))
        finally:
            await store.close()

    assert asyncio.run(read()) == ["survivor"]


# --- open_store --------------------------------------------------------------------------


async def test_open_store_memory():
    """``--store memory`` gives an in-memory store."""
    store = open_store("memory")
    assert isinstance(store, MemoryStore)
    assert await store.add(msg("x")) is True


async def test_open_store_sqlite_path(tmp_path):
    """``--store sqlite:PATH`` opens (and creates, with parent folders) that file."""
    path = tmp_path / "sub" / "dir" / "relay.db"
    store = open_store(f"sqlite:{path}")
    try:
        assert isinstance(store, SqliteStore)
        assert await store.add(msg("x")) is True
        assert path.exists()
    finally:
        await store.close()


async def test_open_store_redis_url(redis_server):
    """``--store redis://HOST:PORT/DB`` talks to that Redis."""
    redis_server.flush()
    store = open_store(redis_server.url)
    try:
        assert isinstance(store, RedisStore)
        assert await store.add(msg("x")) is True
        assert await store.count(T1, NOW) == 1
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("spec", "hint"),
    [("sqlite:", "sqlite:/path"), ("ftp://x", "'ftp://x'"), ("", "memory, sqlite:PATH or redis://"), ("sqlite", "memory, sqlite:PATH or redis://"), ("Memory", "'Memory'")],
)
def test_open_store_rejects_bad_specs_with_a_helpful_message(spec, hint):
    """A typo in ``--store`` is a one-line error that says what is accepted, not a traceback."""
    with pytest.raises(StoreSpecError) as caught:
        open_store(spec)
    assert hint in str(caught.value)
    assert caught.value.code == "bad_store"
