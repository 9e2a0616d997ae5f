"""``walletsync balances``, ``watch`` and ``chains rpc`` as a user runs them: a paired reference phone's account and
watched addresses, read from real anvil nodes, in the JSON contract; the cache shown again with its age."""

from __future__ import annotations

from tests.balances.conftest import CHAIN, FRIEND, SENDER, STRANGER, TOKEN
from tests.companion.conftest import cli

__all__ = ["cli"]  # the fixture: walletsync as a user runs it, with a relay for pairing

CONTRACT = ["account", "label", "chain", "asset", "symbol", "amount", "decimals", "display", "rpc", "block", "age_s", "status"]  # fmt: skip


async def test_balances_of_a_session_and_watched_addresses(cli, start_node):
    node = start_node()
    node.deploy_token()
    node.send_eth(FRIEND, 10**18 // 4)
    node.send_token(FRIEND, 1_234_567)
    added = cli.json("chains", "rpc", "31337", "add", node.url)
    assert added["added"] is True and added["rpcs"] == [node.url] and added["currency"] == "ETH"
    cli.json("chains", "token", "add", CHAIN, TOKEN, "--symbol", "TST", "--decimals", "6")
    pair = await cli.spawn("pair", "--json", "--name", "desk phone", "--chains", CHAIN)
    phone = await cli.phone((await pair.expect("uri"))["uri"], "--approve")
    session = await pair.expect("session")
    assert await pair.exit_code() == 0 and session["accounts"] == [f"{CHAIN}:{SENDER}"]
    await phone.close()  # the session stays live: its account is read like any other
    watched = cli.json("watch", "add", FRIEND.lower(), "--label", "friend", "--chains", "31337")
    assert watched == {"address": FRIEND, "label": "friend", "chains": [CHAIN], "added_at": watched["added_at"]}
    cli.json("watch", "add", STRANGER, "--chains", CHAIN)
    assert [w["address"] for w in cli.json("watch")] == [FRIEND, STRANGER]

    rows = cli.json("balances")
    assert all(list(row)[:12] == CONTRACT for row in rows)
    mine = {(r["account"], r["symbol"]): r for r in rows if r["chain"] == CHAIN}
    friend_eth, friend_tst = mine[(FRIEND, "ETH")], mine[(FRIEND, "TST")]
    assert friend_eth["amount"] == str(node.balance(FRIEND)) and friend_eth["display"] == "10000.25"
    assert (friend_tst["amount"], friend_tst["display"], friend_tst["label"]) == ("1234567", "1.234567", "friend")
    assert mine[(STRANGER, "TST")]["amount"] == "0" and mine[(STRANGER, "TST")]["status"] == "ok"
    block, _ = node.head()
    for row in mine.values():
        assert (row["rpc"], row["block"], row["status"], row["cached"]) == (node.url, block, "ok", False)
        assert isinstance(row["age_s"], int) and row["age_s"] >= 0
    sender = mine[(SENDER, "TST")]
    assert (sender["label"], sender["amount"], sender["status"]) == ("desk phone", str(10**12 - 1_234_567), "ok")

    again = cli.json("balances")  # read a moment ago: from the cache
    assert {r["amount"] for r in again} == {r["amount"] for r in rows} and all(r["cached"] for r in again)
    node.send_eth(FRIEND, 1)
    fresh = {(r["account"], r["symbol"]): r for r in cli.json("balances", "--refresh")}
    assert fresh[(FRIEND, "ETH")]["amount"] == str(int(friend_eth["amount"]) + 1)
    assert not fresh[(FRIEND, "ETH")]["cached"] and fresh[(FRIEND, "ETH")]["block"] == block + 1

    text = cli.run("balances")
    assert text.returncode == 0 and "friend" in text.stdout and "1.234567" in text.stdout

    assert cli.json("watch", "remove", "friend")["address"] == FRIEND
    assert cli.json("watch", "remove", "friend", ok=False)["error"]["code"] == "not_watched"


async def test_a_dead_preferred_rpc_falls_back_and_two_nodes_disagree(cli, start_node):
    first, second, third = start_node(), start_node(), start_node()
    first.send_eth(FRIEND, 1)
    second.send_eth(FRIEND, 1)
    third.send_eth(FRIEND, 2)  # the same block number, another state
    for node in (first, second, third):
        cli.json("chains", "rpc", CHAIN, "add", node.url)
    cli.json("watch", "add", FRIEND, "--chains", CHAIN)
    first.stop()
    (row,) = cli.json("balances", "--refresh")
    assert (row["status"], row["rpc"], row["fallback_from"]) == ("disagree", second.url, [first.url])
    assert row["amount"] == str(10_000 * 10**18 + 1) and row["other"]["amount"] == str(10_000 * 10**18 + 2)
    assert row["other"]["rpc"] == third.url

    cli.json("chains", "rpc", CHAIN, "remove", third.url)
    (row,) = cli.json("balances", "--refresh")
    assert (row["status"], row["rpc"], row["fallback_from"], row["other"]) == (
        "unreachable",
        second.url,
        [first.url],
        None,
    )
    text = cli.run("balances")
    assert "fell back from" in text.stdout and first.url in text.stdout

    second.stop()
    (row,) = cli.json("balances", "--refresh")  # no RPC answers: the last figure, said to be unreachable and cached
    assert (row["status"], row["cached"], row["amount"]) == ("unreachable", True, str(10_000 * 10**18 + 1))
    assert row["error"]


def test_bad_watch_input_is_a_typed_error(cli):
    assert cli.json("watch", "add", "0x1234", ok=False)["error"]["code"] == "bad_watch"
    assert cli.json("watch", "add", FRIEND, "--chains", "solana:abc", ok=False)["error"]["code"] == "bad_watch"
    assert cli.json("watch", "add", FRIEND, "--label", "a\x1bb", ok=False)["error"]["code"] == "bad_watch"
    cli.json("watch", "add", FRIEND, "--label", "friend")
    assert cli.json("watch", "add", STRANGER, "--label", "FRIEND", ok=False)["error"]["code"] == "name_taken"
    assert cli.json("balances") and cli.json("chains", "rpc", CHAIN, "remove", "http://x.example", ok=False)


def test_watch_list_changes_are_audited(cli):
    """Adding, relabelling and removing a watched address each leave a signed row (they are changes worth a backup);
    watching it again as it is leaves none."""
    cli.json("watch", "add", FRIEND, "--label", "friend", "--chains", "1")
    cli.json("watch", "add", FRIEND, "--label", "friend", "--chains", "1")
    cli.json("watch", "add", FRIEND, "--label", "pal")
    assert cli.json("watch", "add", FRIEND, "--label", "")["label"] is None  # '' takes the label away
    assert cli.json("watch", "add", FRIEND)["label"] is None and cli.json("watch", "add", FRIEND, "--label", "pal")
    cli.json("watch", "remove", "pal")
    rows = [r for r in cli.json("audit") if r["kind"].startswith("watch_")]
    assert [(r["kind"], r["data"]["label"]) for r in rows] == [
        ("watch_added", "friend"),
        ("watch_changed", "pal"),
        ("watch_changed", None),
        ("watch_changed", "pal"),
        ("watch_removed", "pal"),
    ]
    assert rows[0]["data"]["chains"] == ["eip155:1"] and rows[0]["data"]["address"].lower() == FRIEND.lower()
    assert cli.json("audit", "verify")["ok"]


def test_an_rpc_urls_api_key_is_not_printed(cli):
    """Providers put the key in the URL: the terminal sees it cut; the JSON document (the configuration) has it."""
    url = "https://rpc.example/v3/0123456789abcdef0123456789abcdef"
    text = cli.run("chains", "rpc", CHAIN, "add", url)
    assert (
        text.returncode == 0 and "0123456789abcdef" not in text.stdout and "https://rpc.example/v3/0123…" in text.stdout
    )
    assert url in cli.json("chains", "rpc", CHAIN, "prefer", url)["rpcs"]


def test_the_watch_list_names_its_chains(cli):
    added = cli.run("watch", "add", FRIEND, "--label", "cold", "--chains", "1,8453")
    assert added.returncode == 0 and added.stdout.strip().endswith("as 'cold' on Ethereum, Base")
    listed = cli.run("watch").stdout.splitlines()
    assert listed[0].split() == ["ADDRESS", "LABEL", "CHAINS"] and listed[1].endswith("'cold'  Ethereum, Base")
