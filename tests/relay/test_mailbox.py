"""Mailbox rules over MemoryStore: TTL and size limits, full mailboxes, duplicates, the publish rate limit.

The size limit counts undelivered messages only (not acked by anyone but their publisher):
a busy topic whose reader keeps up never fills; one nobody reads fills at the limit.
"""

from __future__ import annotations

import time

import pytest

from walletsync.relay.mailbox import Limits, Mailbox, RelayRefusal, TokenBucket, message_id
from walletsync.relay.mailboxes.memory import MemoryStore

TOPIC = "a" * 64
OTHER = "b" * 64
NOW = float(int(time.time()))  # whole seconds: now+ttl in ms is exact


async def publish(
    box: Mailbox,
    message: str = "AAAA",
    *,
    topic: str = TOPIC,
    ttl: int = 300,
    now: float = NOW,
    publisher: str = "did:key:alice",
):
    return await box.publish(
        topic=topic, message=message, ttl=ttl, tag=1108, prompt=True, attestation=None, publisher=publisher, now=now
    )


async def refusal(coro) -> RelayRefusal:
    with pytest.raises(RelayRefusal) as caught:
        await coro
    return caught.value


async def test_publish_returns_the_stored_message():
    """An accepted publish is stored with publishedAt = now (ms) and expiry = now + ttl, ready to fan out."""
    box = Mailbox(MemoryStore())
    stored = await publish(box, "hello", ttl=300, now=1_800_000_000.5)
    assert stored is not None
    assert (stored.topic, stored.message, stored.publisher, stored.tag, stored.prompt) == (
        TOPIC,
        "hello",
        "did:key:alice",
        1108,
        True,
    )
    assert stored.published_at == 1_800_000_000_500
    assert stored.expires_at == 1_800_000_000_500 + 300_000
    assert stored.id == message_id("hello")
    assert [m.message for m in await box.store.undelivered(TOPIC, "did:key:bob", 1_800_000_000_500)] == ["hello"]


async def test_ttl_below_minimum_is_refused():
    """A publish with a too-short TTL gets error data "TtlTooShort" (code -32600) and is not stored."""
    box = Mailbox(MemoryStore(), Limits(min_ttl=30))
    err = await refusal(publish(box, ttl=29))
    assert (err.tag, err.rpc_code) == ("TtlTooShort", -32600)
    assert "29" in str(err) and "30" in str(err)
    assert await box.store.count_undelivered(TOPIC, 0) == 0
    assert await publish(box, ttl=30) is not None, "the minimum itself is allowed"


async def test_ttl_above_maximum_is_refused():
    """A publish with a too-long TTL gets error data "TtlTooLong" (code -32600)."""
    box = Mailbox(MemoryStore(), Limits(max_ttl=604_800))
    err = await refusal(publish(box, ttl=604_801))
    assert (err.tag, err.rpc_code) == ("TtlTooLong", -32600)
    assert await publish(box, ttl=604_800) is not None, "the maximum itself is allowed"


async def test_default_ttl_bounds_fit_the_js_sdk():
    """Every TTL the JS SDK uses (30 s pairing ping … 7 days request expiry) is accepted by default."""
    box = Mailbox(MemoryStore())
    for i, ttl in enumerate((30, 300, 3600, 86400, 604_800)):
        assert await publish(box, f"m{i}", ttl=ttl) is not None


async def test_message_too_long_is_refused():
    """An oversized message gets error data "PayloadSizeExceeded"; one of exactly the limit is fine."""
    box = Mailbox(MemoryStore(), Limits(max_message_chars=100))
    err = await refusal(publish(box, "A" * 101))
    assert (err.tag, err.rpc_code) == ("PayloadSizeExceeded", -32600)
    assert await publish(box, "A" * 100) is not None


async def test_full_mailbox_is_refused():
    """The 4th unread message into a mailbox limited to 3 gets "MailboxLimitExceeded"; other topics are unaffected."""
    box = Mailbox(MemoryStore(), Limits(max_messages_per_mailbox=3))
    for i in range(3):
        assert await publish(box, f"m{i}") is not None
    err = await refusal(publish(box, "m3"))
    assert (err.tag, err.rpc_code) == ("MailboxLimitExceeded", -32000)
    assert "full" in str(err)
    assert await box.store.count_undelivered(TOPIC, int(NOW * 1000)) == 3
    assert await box.store.contains(TOPIC, message_id("m3")) is False, "a refused message is not stored"
    assert await publish(box, "m3", topic=OTHER) is not None


async def test_a_topic_whose_subscriber_acks_never_fills():
    """A busy topic whose reader acks every message takes any number of them (acked ones stay stored, but do not count)."""
    box = Mailbox(MemoryStore(), Limits(max_messages_per_mailbox=3))
    for i in range(50):
        stored = await publish(box, f"m{i}", now=NOW + i / 10)
        assert stored is not None, f"message {i} refused"
        await box.store.ack(TOPIC, stored.id, "did:key:bob")
    assert await box.store.count(TOPIC, int(NOW * 1000)) == 50
    later_device = await box.store.undelivered(TOPIC, "did:key:bob-laptop", int(NOW * 1000))
    assert len(later_device) == 50, "a second device subscribing later still gets them all"


async def test_a_full_mailbox_frees_up_as_its_reader_catches_up():
    """Acking one message of a full mailbox makes room for exactly one more."""
    box = Mailbox(MemoryStore(), Limits(max_messages_per_mailbox=2))
    first = await publish(box, "m0")
    await publish(box, "m1")
    await refusal(publish(box, "m2"))
    await box.store.ack(TOPIC, first.id, "did:key:bob")  # type: ignore[union-attr]
    assert await publish(box, "m2") is not None
    await refusal(publish(box, "m3"))


async def test_acks_by_the_publisher_or_for_unknown_messages_free_no_room():
    """Only a reader's ack counts; the publisher's own ack and acks for messages not (yet) stored leave no trace."""
    box = Mailbox(MemoryStore(), Limits(max_messages_per_mailbox=2))
    await box.store.ack(TOPIC, message_id("m1"), "did:key:bob")  # before m1 exists
    await box.store.ack(TOPIC, "0" * 64, "did:key:bob")
    first = await publish(box, "m0")
    await box.store.ack(TOPIC, first.id, "did:key:alice")  # type: ignore[union-attr]  # alice published it
    await publish(box, "m1")
    err = await refusal(publish(box, "m2"))
    assert err.tag == "MailboxLimitExceeded"


async def test_full_mailbox_frees_up_when_messages_expire():
    """Expired messages stop counting against the mailbox limit."""
    box = Mailbox(MemoryStore(), Limits(max_messages_per_mailbox=2, min_ttl=10))
    await publish(box, "m0", ttl=10)
    await publish(box, "m1", ttl=10)
    await refusal(publish(box, "m2", ttl=10))
    assert await publish(box, "m2", ttl=10, now=NOW + 10) is not None


async def test_duplicate_publish_returns_none():
    """A retried publish (same message, same topic) is accepted but not fanned out a second time."""
    box = Mailbox(MemoryStore())
    assert await publish(box, "same") is not None
    assert await publish(box, "same", now=NOW + 5) is None
    assert await publish(box, "same", publisher="did:key:carol") is None
    assert await publish(box, "same", topic=OTHER) is not None, "the same message on another topic is new"
    assert await box.store.count_undelivered(TOPIC, int(NOW * 1000)) == 1


async def test_duplicate_publish_into_a_full_mailbox_is_still_a_no_op():
    """A retry of a message that is already stored does not fail just because the mailbox has since filled up."""
    box = Mailbox(MemoryStore(), Limits(max_messages_per_mailbox=2))
    await publish(box, "first")
    await publish(box, "second")
    assert await publish(box, "first") is None
    assert await publish(box, "first", now=NOW + 5, publisher="did:key:carol") is None


# --- rate limit ---------------------------------------------------------------------------


def test_token_bucket_allows_a_burst_then_refuses():
    """A client may publish ``burst`` messages at once, then is refused."""
    bucket = TokenBucket(rate=2.0, burst=3)
    assert [bucket.take("alice", 100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take("alice", 100.0) is False, "a refused take does not consume or reset anything"


def test_token_bucket_refills_at_its_rate_up_to_the_burst():
    """Tokens come back at ``rate`` per second and never exceed ``burst``."""
    bucket = TokenBucket(rate=2.0, burst=3)
    for _ in range(3):
        bucket.take("alice", 100.0)
    assert bucket.take("alice", 100.25) is False, "half a token is not enough"
    assert bucket.take("alice", 100.5) is True, "one token after 0.5 s at 2/s"
    assert bucket.take("alice", 100.5) is False
    assert [bucket.take("alice", 1000.0) for _ in range(4)] == [True, True, True, False], (
        "a long pause refills to burst, not more"
    )


def test_token_bucket_cost():
    """A batch costs one token per message; a batch bigger than what is left is refused whole."""
    bucket = TokenBucket(rate=1.0, burst=5)
    assert bucket.take("alice", 0.0, cost=4) is True
    assert bucket.take("alice", 0.0, cost=2) is False
    assert bucket.take("alice", 0.0, cost=1) is True


def test_check_rate_raises_too_many_requests():
    """Past the burst, a publish gets JSON-RPC error 3001 with data "TooManyRequests"."""
    box = Mailbox(MemoryStore(), Limits(publish_rate=1.0, publish_burst=2))
    box.check_rate("alice", 50.0)
    box.check_rate("alice", 50.0)
    with pytest.raises(RelayRefusal) as caught:
        box.check_rate("alice", 50.0)
    assert (caught.value.tag, caught.value.rpc_code) == ("TooManyRequests", 3001)
    box.check_rate("alice", 51.0)  # one second later, one more is allowed


def test_one_clients_exhausted_bucket_does_not_limit_another():
    """A chatty client being throttled does not throttle its peer."""
    box = Mailbox(MemoryStore(), Limits(publish_rate=1.0, publish_burst=2))
    box.check_rate("alice", 50.0)
    box.check_rate("alice", 50.0)
    with pytest.raises(RelayRefusal):
        box.check_rate("alice", 50.0)
    box.check_rate("bob", 50.0)
    box.check_rate("bob", 50.0)
    bucket = TokenBucket(rate=1.0, burst=1)
    assert bucket.take("alice", 0.0) and not bucket.take("alice", 0.0)
    assert bucket.take("bob", 0.0)
