"""Reading balances from real nodes (anvil): figures match what was sent, a dead RPC falls back and says so, two
nodes differing at one block disagree, a head that stops advancing is stale (the clock is injected)."""

from __future__ import annotations

import pytest

from tests.balances.conftest import CHAIN, FRIEND, STRANGER, TOKEN, registry_of
from walletsync.balances.status import STALE_AFTER
from walletsync.service.balances import Target, read_balances

ETH = 10**18


def clock_at(seconds: int):
    return lambda: float(seconds)


def by_asset(rows, account):
    return {r.asset.symbol: r for r in rows if r.account == account}


async def test_native_and_token_balances_match_what_was_sent(start_node):
    node = start_node()
    node.deploy_token()
    node.send_eth(FRIEND, 3 * ETH // 2)
    node.send_token(FRIEND, 2_500_000)
    block, stamp = node.head()
    targets = [Target(FRIEND, "friend", (CHAIN,)), Target(STRANGER, None, (CHAIN,))]
    rows = await read_balances(registry_of(node.url), targets, clock_at(stamp + 2))
    friend, stranger = by_asset(rows, FRIEND), by_asset(rows, STRANGER)
    assert friend["ETH"].amount == node.balance(FRIEND) == 10_000 * ETH + 3 * ETH // 2
    assert friend["ETH"].display() == "10001.5" and friend["TST"].display() == "2.5"
    assert friend["TST"].amount == 2_500_000 and friend["TST"].asset.address == TOKEN
    for row in rows:
        assert (row.status, row.rpc, row.block, row.age_s, row.fallback_from) == ("ok", node.url, block, 2, ())
    assert stranger["TST"].amount == 0 and stranger["TST"].status == "ok"  # no activity: a real zero
    assert stranger["ETH"].amount == 10_000 * ETH and friend["ETH"].label == "friend"


async def test_a_killed_node_falls_back_to_the_next_rpc_and_says_so(start_node):
    first, second = start_node(), start_node()
    for node in (first, second):
        node.deploy_token()
        node.send_token(FRIEND, 7)
    _, stamp = second.head()
    first.stop()
    rows = await read_balances(registry_of(first.url, second.url), [Target(FRIEND, None, (CHAIN,))], clock_at(stamp))
    for row in rows:
        assert (row.status, row.rpc, row.fallback_from) == ("unreachable", second.url, (first.url,))
    assert by_asset(rows, FRIEND)["TST"].amount == 7
    assert rows[0].to_json()["fallback_from"] == [first.url]


async def test_every_rpc_dead_is_no_figure(start_node):
    node = start_node()
    node.stop()
    rows = await read_balances(registry_of(node.url), [Target(FRIEND, None, (CHAIN,))], clock_at(0), timeout=2)
    for row in rows:
        assert (row.status, row.amount, row.to_json()["amount"]) == ("unreachable", None, None)
        assert row.error and node.url in row.error


async def test_two_nodes_differing_at_one_block_disagree(start_node):
    first, second = start_node(), start_node()
    for node, wei, units in ((first, ETH, 5), (second, 2 * ETH, 5)):
        node.deploy_token()
        node.send_eth(FRIEND, wei)
        node.send_token(FRIEND, units)
    assert first.head()[0] == second.head()[0]
    _, stamp = first.head()
    rows = await read_balances(registry_of(first.url, second.url), [Target(FRIEND, None, (CHAIN,))], clock_at(stamp))
    eth, tst = by_asset(rows, FRIEND)["ETH"], by_asset(rows, FRIEND)["TST"]
    assert (eth.status, eth.amount, eth.rpc) == ("disagree", 10_001 * ETH, first.url)
    assert eth.other is not None and (eth.other.rpc, eth.other.amount) == (second.url, 10_002 * ETH)
    assert eth.to_json()["other"]["display"] == "10002"
    assert (tst.status, tst.amount) == ("ok", 5)  # the same figure at the same block: checked, and agreed


async def test_a_second_node_ahead_is_read_at_the_lower_head(start_node):
    first, second = start_node(), start_node()
    first.send_eth(FRIEND, ETH)
    second.send_eth(FRIEND, ETH)
    second.send_eth(FRIEND, ETH)  # one block further: still comparable at block 1
    _, stamp = second.head()
    rows = await read_balances(
        registry_of(first.url, second.url, token=False), [Target(FRIEND, None, (CHAIN,))], clock_at(stamp)
    )
    assert (rows[0].status, rows[0].block, rows[0].amount) == ("ok", 1, 10_001 * ETH)


async def test_a_head_that_stops_advancing_is_stale(start_node):
    node = start_node()
    node.send_eth(FRIEND, ETH)
    block, stamp = node.head()
    later = stamp + STALE_AFTER + 30  # the node mines nothing more; the clock moves on
    rows = await read_balances(registry_of(node.url, token=False), [Target(FRIEND, None, (CHAIN,))], clock_at(later))
    for row in rows:
        assert (row.status, row.block, row.age_s) == ("stale", block, STALE_AFTER + 30)
    assert by_asset(rows, FRIEND)["ETH"].amount == 10_001 * ETH


async def test_a_token_not_deployed_is_an_error_not_a_zero(start_node):
    node = start_node()  # no token deployed: balanceOf at TOKEN answers "0x"
    _, stamp = node.head()
    rows = await read_balances(registry_of(node.url), [Target(FRIEND, None, (CHAIN,))], clock_at(stamp))
    tst = by_asset(rows, FRIEND)["TST"]
    assert (tst.status, tst.amount) == ("unreachable", None)
    assert tst.error and "no token contract" in tst.error


@pytest.mark.parametrize("chain", ["eip155:987654321012", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"])
async def test_a_chain_without_rpc_says_how_to_add_one(chain):
    rows = await read_balances(registry_of(), [Target(FRIEND, None, (chain,))], clock_at(0))
    assert [r.status for r in rows] == ["unreachable"] and rows[0].amount is None
    assert rows[0].error and ("chains rpc" in rows[0].error or "eip155" in rows[0].error)
