"""``forge script --broadcast --unlocked``: the Deploy script's 3 transactions (deploy a Counter, add 1, add 2) all
mined, with consecutive nonces in the script's order, whether forge sends them at once or one after the other's
receipt (``--slow``).

forge's broadcast record pairs its transactions with the hashes in the order the node answered, not the order sent
(``add_pending(index, hash)`` as each concurrent send completes), so without ``--slow`` a record's entry may carry
another transaction's hash: the chain, not the record, says which transaction got which nonce.
"""

from __future__ import annotations

import pytest
from eth_abi import encode

from tests.bridge_tools.chain import mined, nonce
from tests.bridge_tools.conftest import ACCOUNT

COUNT = "0x06661abd"  # count()
ADD = "0x1003e2d2"  # add(uint256)


@pytest.mark.parametrize("pace", ["at-once", "slow"])
async def test_forge_script_mines_all_three_transactions_in_nonce_order(node_url, anvil, foundry, pace):
    first = nonce(anvil, ACCOUNT)
    slow = ["--slow"] if pace == "slow" else []
    script = ["script", "Deploy", "--broadcast", "--unlocked", "--sender", ACCOUNT, "--rpc-url", node_url, *slow]
    ran = (await foundry.forge(*script)).ok()
    assert "ONCHAIN EXECUTION COMPLETE & SUCCESSFUL" in ran.stdout, ran.stdout

    record = foundry.broadcast_record("Deploy.s.sol", anvil.chain_id)
    chain = sorted((mined(anvil, t["hash"]) for t in record["transactions"]), key=lambda m: int(m[0]["nonce"], 16))
    assert [int(tx["nonce"], 16) for tx, _ in chain] == [first, first + 1, first + 2]
    assert [receipt["status"] for _, receipt in chain] == ["0x1"] * 3
    assert {tx["from"].lower() for tx, _ in chain} == {ACCOUNT.lower()}
    (create, deployed), (add_1, _), (add_2, _) = chain
    counter = deployed["contractAddress"]
    assert create["to"] is None and counter
    assert [(add_1["to"].lower(), add_1["input"]), (add_2["to"].lower(), add_2["input"])] == [
        (counter.lower(), ADD + encode(["uint256"], [n]).hex()) for n in (1, 2)
    ]
    places = [(int(r["blockNumber"], 16), int(r["transactionIndex"], 16)) for _, r in chain]
    assert places == sorted(places)
    assert int(anvil.call("eth_call", {"to": counter, "data": COUNT}, "latest"), 16) == 3
    assert nonce(anvil, ACCOUNT) == first + 3
