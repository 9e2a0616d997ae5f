"""``forge script --broadcast --unlocked``: the Deploy script's 3 transactions (deploy a Counter, add 1, add 2) all
mined, in nonce order, whether forge sends them at once or one after the other's receipt (``--slow``)."""

from __future__ import annotations

import pytest

from tests.bridge_tools.chain import mined, nonce
from tests.bridge_tools.conftest import ACCOUNT

COUNT = "0x06661abd"  # count()


@pytest.mark.parametrize("pace", ["at-once", "slow"])
async def test_forge_script_mines_all_three_transactions_in_nonce_order(node_url, anvil, foundry, pace):
    first = nonce(anvil, ACCOUNT)
    slow = ["--slow"] if pace == "slow" else []
    script = ["script", "Deploy", "--broadcast", "--unlocked", "--sender", ACCOUNT, "--rpc-url", node_url, *slow]
    ran = (await foundry.forge(*script)).ok()
    assert "ONCHAIN EXECUTION COMPLETE & SUCCESSFUL" in ran.stdout, ran.stdout

    record = foundry.broadcast_record("Deploy.s.sol", anvil.chain_id)
    assert [t["transactionType"] for t in record["transactions"]] == ["CREATE", "CALL", "CALL"]
    chain = [mined(anvil, t["hash"]) for t in record["transactions"]]
    assert [receipt["status"] for _, receipt in chain] == ["0x1"] * 3
    assert [int(tx["nonce"], 16) for tx, _ in chain] == [first, first + 1, first + 2]
    assert {tx["from"].lower() for tx, _ in chain} == {ACCOUNT.lower()}
    places = [(int(r["blockNumber"], 16), int(r["transactionIndex"], 16)) for _, r in chain]
    assert places == sorted(places)  # mined in the order of their nonces
    counter = chain[0][1]["contractAddress"]
    assert all(tx["to"].lower() == counter.lower() for tx, _ in chain[1:])
    assert int(anvil.call("eth_call", {"to": counter, "data": COUNT}, "latest"), 16) == 3
    assert nonce(anvil, ACCOUNT) == first + 3
