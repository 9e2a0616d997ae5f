"""One contract for every mailbox store: memory, SQLite and Redis must behave the same.

Undelivered = unexpired and not acked by anyone but its publisher: only those count
against the mailbox limit (``add(..., max_undelivered)``), so a busy topic whose
subscriber keeps up never fills, while acked messages stay stored for later
subscribers (a second device) until their TTL ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from walletsync.relay.mailbox import STORED_OVERHEAD as O
from walletsync.relay.mailbox import MailboxFull, StoredMessage, message_id
from walletsync.relay.mailboxes import StoreSpecError, StoreUnavailable, open_store
from walletsync.relay.mailboxes.memory import MemoryStore
from walletsync.relay.mailboxes.redisdb import RedisStore
from walletsync.relay.mailboxes.sqlite import SqliteStore

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


def msg(
    text: str,
    *,
    topic: str = T1,
    publisher: str = ALICE,
    at: int | None = None,
    ttl_ms: int = 5 * MINUTE,
    tag: int = 1108,
) -> StoredMessage:
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
    assert await store.add(msg("AAAA", publisher=CAROL, at=NOW + 5)) is False, (
        "dedup is by message content, not by publisher/time"
    )
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
    assert await store.count_undelivered("f" * 64, NOW) == 0
    assert await store.count("f" * 64, NOW) == 0
    assert await store.contains("f" * 64, message_id("x")) is False


# --- ack of unknown messages --------------------------------------------------------------


async def test_ack_of_unknown_message_is_harmless(store):
    """A stray or late ack (unknown id, unknown topic) neither fails nor hides other messages, nor frees room."""
    await store.add(msg("m1"))
    await store.ack(T1, "0" * 64, BOB)
    await store.ack("e" * 64, message_id("m1"), BOB)
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["m1"]
    assert await store.count_undelivered(T1, NOW) == 1
    assert await store.contains(T1, "0" * 64) is False and await store.contains("e" * 64, message_id("m1")) is False


async def test_ack_before_the_message_exists_leaves_no_trace(store):
    """An ack for a message the store does not hold is dropped: it neither hides that message nor counts it delivered if it is published later."""
    await store.ack(T1, message_id("later"), BOB)
    await store.add(msg("later"))
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["later"]
    assert await store.count_undelivered(T1, NOW) == 1
    with pytest.raises(MailboxFull):
        await store.add(msg("next", at=NOW + 1), max_undelivered=1)


# --- undelivered messages and the mailbox limit -------------------------------------------


async def test_ack_by_a_reader_makes_a_message_delivered(store):
    """Once a client other than the publisher acks a message it stops counting as undelivered; other messages still count."""
    await store.add(msg("m1"))
    await store.add(msg("m2", at=NOW + 1))
    assert await store.count_undelivered(T1, NOW) == 2
    await store.ack(T1, message_id("m1"), BOB)
    assert await store.count_undelivered(T1, NOW) == 1
    await store.ack(T1, message_id("m1"), CAROL)  # a second reader changes nothing more
    await store.ack(T1, message_id("m1"), BOB)
    assert await store.count_undelivered(T1, NOW) == 1
    assert await store.count(T1, NOW) == 2, "a delivered message is still stored"


async def test_ack_by_the_publisher_does_not_make_a_message_delivered(store):
    """A publisher acking its own message (the SDK never does, but batchReceive could) has not passed it on to anyone."""
    await store.add(msg("mine", publisher=ALICE))
    await store.ack(T1, message_id("mine"), ALICE)
    assert await store.count_undelivered(T1, NOW) == 1
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["mine"]


async def test_a_delivered_message_still_reaches_a_later_subscriber(store):
    """Bob's ack frees the mailbox, but Carol (a second device subscribing later) still gets the message until its TTL ends."""
    await store.add(msg("hello"), max_undelivered=1)
    await store.ack(T1, message_id("hello"), BOB)
    await store.add(msg("again", at=NOW + 1), max_undelivered=1)  # room again: "hello" was delivered
    assert texts(await store.undelivered(T1, CAROL, NOW)) == ["hello", "again"]
    assert texts(await store.undelivered(T1, BOB, NOW)) == ["again"]


async def test_a_topic_whose_subscriber_acks_never_fills(store):
    """However many messages pass through, a topic whose reader acks each one stays below any limit."""
    for i in range(25):
        assert await store.add(msg(f"m{i}", at=NOW + i), max_undelivered=3) is True
        await store.ack(T1, message_id(f"m{i}"), BOB)
    assert await store.count_undelivered(T1, NOW + 25) == 0
    assert await store.count(T1, NOW + 25) == 25


async def test_a_topic_nobody_reads_fills_at_the_limit(store):
    """The limit-th undelivered message fits; the next is refused and not stored; other topics are unaffected."""
    for i in range(3):
        assert await store.add(msg(f"m{i}", at=NOW + i), max_undelivered=3) is True
    with pytest.raises(MailboxFull):
        await store.add(msg("m3", at=NOW + 3), max_undelivered=3)
    assert await store.contains(T1, message_id("m3")) is False
    assert await store.count_undelivered(T1, NOW + 3) == 3
    assert await store.add(msg("m3", topic=T2, at=NOW + 3), max_undelivered=3) is True
    assert await store.add(msg("m3", at=NOW + 3)) is True, "without a limit nothing is refused"


async def test_a_retry_into_a_full_mailbox_is_a_no_op(store):
    """A duplicate is just a duplicate (False), never MailboxFull, even when the mailbox is full."""
    await store.add(msg("first"), max_undelivered=2)
    await store.add(msg("second", at=NOW + 1), max_undelivered=2)
    assert await store.add(msg("first", at=NOW + 2), max_undelivered=2) is False
    assert await store.count_undelivered(T1, NOW) == 2


async def test_expired_messages_stop_counting_against_the_limit(store):
    """An undelivered message whose TTL ended frees its place at once, before any purge."""
    await store.add(msg("short", ttl_ms=10_000), max_undelivered=1)
    with pytest.raises(MailboxFull):
        await store.add(msg("blocked", at=NOW + 9_999), max_undelivered=1)
    assert await store.add(msg("later", at=NOW + 10_000), max_undelivered=1) is True
    assert await store.count_undelivered(T1, NOW + 10_000) == 1


# --- count / purge ------------------------------------------------------------------------


async def test_counts_count_only_unexpired(store):
    """Both counts (all messages, undelivered ones) only count messages that are still alive, at any "now"."""
    await store.add(msg("a", ttl_ms=10_000))
    await store.add(msg("b", ttl_ms=MINUTE))
    await store.add(msg("c", ttl_ms=MINUTE, topic=T2))
    for count in (store.count, store.count_undelivered):
        assert await count(T1, NOW + MINUTE) == 0
        assert await count(T1, NOW + 10_000) == 1
        assert await count(T1, NOW) == 2, "asking about an earlier time again gives the earlier answer"
        assert await count(T2, NOW) == 1


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
    assert await store.count_undelivered(T1, NOW) == 1 and await store.count(T1, NOW) == 1
    assert await store.count_undelivered(T2, NOW) == 0
    assert await store.contains(T1, message_id("old1")) is False
    assert await store.purge(NOW + 10_000) == 0, "a second purge has nothing left to remove"
    assert await store.add(msg("old1")) is True, "a purged message can be published anew"


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


async def test_sqlite_remembers_what_was_delivered_across_a_restart(tmp_path):
    """The mailbox limit's bookkeeping is rebuilt from the file: delivered stays delivered, undelivered still counts."""
    path = tmp_path / "relay.db"
    first = SqliteStore(path)
    await first.add(msg("read"))
    await first.add(msg("unread", at=NOW + 1))
    await first.add(msg("own-ack", at=NOW + 2))
    await first.ack(T1, message_id("read"), BOB)
    await first.ack(T1, message_id("own-ack"), ALICE)
    await first.close()
    second = SqliteStore(path)
    try:
        assert await second.count_undelivered(T1, NOW) == 2
        assert await second.count(T1, NOW) == 3
        assert await second.contains(T1, message_id("read"))
        with pytest.raises(MailboxFull):
            await second.add(msg("one-too-many", at=NOW + 3), max_undelivered=2)
        await second.ack(T1, message_id("unread"), BOB)
        assert await second.add(msg("fits-now", at=NOW + 3), max_undelivered=2) is True
    finally:
        await second.close()


async def test_sqlite_publish_is_durable_only_after_commit(tmp_path):
    """add() returns at once; after_commit() says when the message would survive a crash (the relay answers then)."""
    store = SqliteStore(tmp_path / "relay.db")
    try:
        await store.add(msg("m1"))
        seen: list[object] = []
        store.after_commit(seen.append)
        assert seen == [], "not committed yet: the commit comes at the loop's next turn"
        await store.committed()
        assert seen == [None]
        store.after_commit(seen.append)
        assert seen == [None, None], "nothing pending: called at once"
    finally:
        await store.close()


async def test_sqlite_file_is_used_by_one_relay_at_a_time(tmp_path):
    """A second relay on the same file fails at once with a clear error (it could not keep the in-memory index right)."""
    path = tmp_path / "relay.db"
    first = SqliteStore(path)
    try:
        with pytest.raises(StoreUnavailable, match="in use by another process"):
            SqliteStore(path)
    finally:
        await first.close()
    second = SqliteStore(path)  # free again once the first is closed
    await second.close()


def test_sqlite_schema_1_file_is_converted(tmp_path):
    """A relay.db written by the previous relay (messages + acks tables) keeps its messages, acks and dedup."""
    path = tmp_path / "relay.db"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA_1)
    rows = [msg("kept"), msg("acked", at=NOW + 1), msg("own", at=NOW + 2)]
    old.executemany(
        "INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?)",
        [(m.topic, m.id, m.message, m.publisher, m.published_at, m.expires_at, m.tag, 1, m.attestation) for m in rows],
    )
    old.executemany(
        "INSERT INTO acks VALUES (?,?,?)",
        [(T1, message_id("acked"), BOB), (T1, message_id("own"), ALICE), (T1, "0" * 64, BOB)],
    )
    old.commit()
    old.close()

    async def check() -> None:
        store = SqliteStore(path)
        try:
            assert texts(await store.undelivered(T1, BOB, NOW)) == ["kept", "own"]
            assert texts(await store.undelivered(T1, CAROL, NOW)) == ["kept", "acked", "own"]
            assert await store.count_undelivered(T1, NOW) == 2, (
                "acked by Bob: delivered; acked by its own publisher: not"
            )
            assert await store.add(msg("kept")) is False
        finally:
            await store.close()

    asyncio.run(check())
    asyncio.run(check())  # a converted file opens as it is


SCHEMA_1 = """
CREATE TABLE messages (
    topic TEXT NOT NULL, id TEXT NOT NULL, message TEXT NOT NULL, publisher TEXT NOT NULL,
    published_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, tag INTEGER NOT NULL,
    prompt INTEGER NOT NULL, attestation TEXT,
    PRIMARY KEY (topic, id)
) WITHOUT ROWID;
CREATE INDEX messages_expiry ON messages (expires_at);
CREATE TABLE acks (
    topic TEXT NOT NULL, id TEXT NOT NULL, client_id TEXT NOT NULL,
    PRIMARY KEY (topic, id, client_id)
) WITHOUT ROWID;
"""


WRITER = textwrap.dedent(
    """
    import asyncio, sys, time
    from walletsync.relay.mailbox import StoredMessage
    from walletsync.relay.mailboxes.sqlite import SqliteStore

    store = SqliteStore(sys.argv[1])
    now = int(sys.argv[2])

    async def publish():
        await store.add(StoredMessage(sys.argv[3], "survivor", "did:key:z6MkAlice", now, now + 300_000, 1108, True, None))
        await store.committed()  # what the relay waits for before it answers a publish

    asyncio.run(publish())
    print("ok", flush=True)
    time.sleep(60)
    """
)


def test_sqlite_message_survives_kill_9_of_the_writer(tmp_path):
    """A publish the relay stored is still there after the relay process is SIGKILLed."""
    path = tmp_path / "relay.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(NOW), T1], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
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
    [
        ("sqlite:", "sqlite:/path"),
        ("ftp://x", "'ftp://x'"),
        ("", "memory, sqlite:PATH or redis://"),
        ("sqlite", "memory, sqlite:PATH or redis://"),
        ("Memory", "'Memory'"),
    ],
)
def test_open_store_rejects_bad_specs_with_a_helpful_message(spec, hint):
    """A typo in ``--store`` is a one-line error that says what is accepted, not a traceback."""
    with pytest.raises(StoreSpecError) as caught:
        open_store(spec)
    assert hint in str(caught.value)
    assert caught.value.code == "bad_store"


# --- byte limits (issue #9 item 3) and pages (item 2) ---------------------------------------


async def test_topic_bytes_limit_refuses_what_would_not_fit(store):
    """A topic holds at most ``max_topic_bytes`` (text + a per-message overhead), delivered or not, until purged;
    other topics are not affected."""
    limit = 1000 + 2 * O
    assert await store.add(msg("A" * 600), max_topic_bytes=limit) is True
    with pytest.raises(MailboxFull) as full:
        await store.add(msg("B" * 500), max_topic_bytes=limit)
    assert full.value.what == MailboxFull.TOPIC_BYTES
    await store.ack(T1, message_id("A" * 600), BOB)  # delivered messages still take room until they expire
    with pytest.raises(MailboxFull):
        await store.add(msg("B" * 500), max_topic_bytes=limit)
    assert await store.add(msg("C" * 400), max_topic_bytes=limit) is True, "exactly full is allowed"
    assert await store.add(msg("B" * 500, topic=T2), max_topic_bytes=limit) is True
    assert await store.add(msg("A" * 600), max_topic_bytes=limit) is False, "a retry is still a harmless duplicate"
    assert await store.stored_bytes(T1) == limit and await store.stored_bytes() == limit + 500 + O


async def test_store_bytes_limit_counts_every_topic(store):
    """``max_store_bytes`` bounds the whole store, whatever topic (or client id) fills it; purging expired messages frees it."""
    limit = 1000 + O
    await store.add(msg("A" * 700, ttl_ms=MINUTE), max_store_bytes=limit)
    with pytest.raises(MailboxFull) as full:
        await store.add(msg("B" * 400, topic=T2), max_store_bytes=limit)
    assert full.value.what == MailboxFull.STORE_BYTES
    await store.purge(NOW + 2 * MINUTE)
    assert await store.stored_bytes() == 0
    assert await store.add(msg("B" * 400, topic=T2), max_store_bytes=limit) is True
    assert await store.stored_bytes() == 400 + O and await store.stored_bytes(T1) == 0


async def test_tiny_messages_count_their_overhead(store):
    """A flood of one-character messages fills the byte limit too (each costs its keeping, not just its text)."""
    for i in range(5):
        await store.add(msg(str(i)), max_topic_bytes=5 * (1 + O))
    with pytest.raises(MailboxFull):
        await store.add(msg("x"), max_topic_bytes=5 * (1 + O))


async def test_attestation_counts_towards_the_bytes(store):
    m = StoredMessage(T1, "A" * 10, ALICE, NOW, NOW + MINUTE, 1108, False, "x" * 5)
    assert await store.add(m, max_topic_bytes=15 + O) is True
    assert await store.stored_bytes(T1) == 15 + O


async def test_undelivered_page_is_bounded_and_resumable(store):
    """Pages are the oldest messages that fit the byte budget (at least one), leave out what ``skip`` names, and say whether more remain."""
    for i in range(6):
        await store.add(msg(f"{i}" + "x" * 999, at=NOW + i))
    await store.add(msg("mine" + "x" * 996, publisher=BOB, at=NOW + 10))
    seen: list[str] = []
    skip: set[str] = set()
    pages = 0
    while True:
        page, more = await store.undelivered_page(T1, BOB, NOW, 3000, skip)
        pages += 1
        assert 1 <= len(page) <= 2
        seen += [m.message[0] for m in page]
        skip.update(m.id for m in page)
        if not more:
            break
    assert seen == list("012345") and pages == 3
    page, more = await store.undelivered_page(T1, BOB, NOW, 10, set())
    assert [m.message[0] for m in page] == ["0"] and more, "one message however small the budget"
    assert await store.undelivered_page(T2, BOB, NOW, 10_000) == ([], False)


async def test_sqlite_counts_bytes_again_after_reopen(tmp_path):
    s = SqliteStore(tmp_path / "relay.db")
    await s.add(msg("A" * 300))
    await s.add(msg("B" * 200, topic=T2))
    await s.committed()
    await s.close()
    again = SqliteStore(tmp_path / "relay.db")
    try:
        assert await again.stored_bytes() == 500 + 2 * O and await again.stored_bytes(T2) == 200 + O
        with pytest.raises(MailboxFull):
            await again.add(msg("C" * 100), max_store_bytes=550 + 2 * O)
    finally:
        await again.close()


async def test_redis_nodes_share_one_byte_budget(redis_server):
    """Two relay nodes on one Redis fill one store: the limit holds across them, and purge by either node frees it once."""
    redis_server.flush()
    a, b = RedisStore(redis_server.url), RedisStore(redis_server.url)
    try:
        await a.add(msg("A" * 600, ttl_ms=MINUTE), max_store_bytes=1000 + O)
        with pytest.raises(MailboxFull):
            await b.add(msg("B" * 600, topic=T2), max_store_bytes=1000 + O)
        await asyncio.gather(a.purge(NOW + 2 * MINUTE), b.purge(NOW + 2 * MINUTE))
        assert await a.stored_bytes() == 0 and await b.stored_bytes(T1) == 0
        assert await b.add(msg("B" * 600, topic=T2), max_store_bytes=1000 + O) is True
        assert await a.stored_bytes() == 600 + O
    finally:
        await a.close()
        await b.close()
