"""Reads are audited too, a row per client a period: the tally's rules (pure, Hypothesis), and the real endpoint."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from tests.bridge.conftest import PHONE, bridged, post
from walletsync.bridge.events import Client
from walletsync.bridge.reads import EVERY, MAX_CLIENTS, MAX_METHODS, OTHER, ReadTally

clients = st.builds(
    Client,
    st.sampled_from(["127.0.0.1:1000", "127.0.0.1:2000", "[::1]:3000", None]),
    st.sampled_from([None, "cast/1.7", "web3.py/7"]),
    st.sampled_from(["http", "ws"]),
)


@given(st.lists(st.tuples(clients, st.sampled_from(["eth_blockNumber", "eth_call", "eth_chainId"])), max_size=60))
def test_every_read_is_counted_once_and_a_period_starts_empty(reads):
    """Whatever the clients, the rows of a period add up to the reads made in it, a client's port does not split
    it, and what was taken is not taken again."""
    tally = ReadTally(0.0)
    for client, method in reads:
        tally.count(client, method)
    taken = tally.take(1.0)
    assert sum(n for _, counts in taken for n in counts.values()) == len(reads)
    assert len({(c["peer"], c["user_agent"], c["transport"]) for c, _ in taken}) == len(taken)
    assert all(c["peer"] is None or not c["peer"].endswith(("1000", "2000", "3000")) for c, _ in taken)
    assert tally.take(2.0) == []


def test_a_row_is_due_once_a_minute_and_only_with_something_to_write():
    tally = ReadTally(100.0)
    assert not tally.due(100.0 + EVERY)  # nothing read
    tally.count(Client("127.0.0.1:5", "cast/1.7"), "eth_blockNumber")
    assert not tally.due(100.0 + EVERY - 1)
    assert tally.due(100.0 + EVERY)


def test_clients_and_methods_past_the_bounds_are_counted_together():
    """A tool inventing methods or connecting under endless User-Agents cannot make a row grow without bound."""
    tally = ReadTally(0.0)
    for n in range(MAX_CLIENTS + 10):
        tally.count(Client("127.0.0.1:9", f"tool-{n}"), "eth_chainId")
    for n in range(MAX_METHODS + 10):
        tally.count(Client("127.0.0.1:9", "tool-0"), f"x_{n}")
    taken = dict((c["user_agent"], counts) for c, counts in tally.take(1.0))
    assert len(taken) == MAX_CLIENTS + 1 and sum(taken[OTHER].values()) == 10
    assert len(taken["tool-0"]) == MAX_METHODS + 1 and taken["tool-0"][OTHER] == 11  # eth_chainId, 31 x_, other


async def test_reads_through_the_endpoint_are_audited_with_their_client(start_relay, anvil, tmp_path):
    """A tool polling the endpoint gets no audit row per poll: when the endpoint stops (or a minute has passed), one
    ``bridge_reads`` row per client names it and counts what it asked, method by method."""
    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url, "--auto-approve") as b:
        poller = {"User-Agent": "poller/1.0 <b>"}
        for _ in range(3):
            await asyncio.to_thread(post, b.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}, poller)
        batch = [
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
            {"jsonrpc": "2.0", "id": 2, "method": "eth_getBalance", "params": [PHONE, "latest"]},
        ]
        await asyncio.to_thread(post, b.url, batch, poller)
        assert not [e for e in b.companion.audit_entries() if e.kind == "bridge_reads"]  # within its minute
        await b.server.close()
        await b.bridge.close()
        rows = [e.data for e in b.companion.audit_entries() if e.kind == "bridge_reads"]
        assert len(rows) == 1
        assert rows[0]["user_agent"] == "poller/1.0 <b>" and rows[0]["peer"] == "127.0.0.1"
        assert rows[0]["counts"] == {"eth_blockNumber": 3, "eth_chainId": 1, "eth_getBalance": 1}
        assert b.companion.verify_audit().ok
