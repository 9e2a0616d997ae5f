"""Foundry's ``cast`` with an unlocked account: a send mines, and a reverting call's custom error reaches it."""

from __future__ import annotations

from eth_abi import encode

from tests.bridge_tools.chain import deploy, mined, nonce
from tests.bridge_tools.conftest import ACCOUNT, FRIEND
from walletsync.eth import keccak256


async def test_cast_send_unlocked_mines_with_status_1(node_url, anvil, foundry):
    before = anvil.balance(FRIEND)
    ran = await foundry.cast(
        "send", "--unlocked", "--from", ACCOUNT, FRIEND, "--value", "1wei", "--rpc-url", node_url, "--json"
    )
    receipt = ran.ok().json()
    assert receipt["status"] == "0x1"
    tx, on_chain = mined(anvil, receipt["transactionHash"])
    assert on_chain["status"] == "0x1" and tx["from"].lower() == ACCOUNT.lower() and tx["to"].lower() == FRIEND.lower()
    assert int(tx["value"], 16) == 1 and anvil.balance(FRIEND) == before + 1


async def test_a_reverting_calls_custom_error_reaches_cast(node_url, anvil, foundry):
    """The node's revert (code 3, the error's ABI-encoded data) reaches cast as it was: ``cast call`` prints the
    custom error's selector and arguments; ``cast send`` fails at its gas estimate and names the error (from the
    selectors ``forge build`` cached), and nothing is sent."""
    counter = deploy(anvil, ACCOUNT, foundry.artifact("Counter.sol", "Counter")["bytecode"]["object"])
    data = "0x" + keccak256(b"TooMuch(uint256,uint256)")[:4].hex() + encode(["uint256", "uint256"], [1000, 100]).hex()
    sent_before = nonce(anvil, ACCOUNT)

    called = await foundry.cast("call", counter, "add(uint256)", "1000", "--rpc-url", node_url)
    assert called.returncode != 0
    assert "error code 3: execution reverted" in called.stderr and f'data: "{data}"' in called.stderr, called.stderr

    sent = await foundry.cast(
        "send", "--unlocked", "--from", ACCOUNT, counter, "add(uint256)", "1000", "--rpc-url", node_url
    )
    assert sent.returncode != 0
    assert "Failed to estimate gas" in sent.stderr and f'data: "{data}"' in sent.stderr, sent.stderr
    assert "TooMuch(1000, 100)" in sent.stderr, sent.stderr
    assert nonce(anvil, ACCOUNT) == sent_before


async def test_cast_over_websocket_reads_and_sends(node_url, anvil, foundry):
    """The same port speaks WebSocket (anvil's does; the endpoint's contract says so): cast reads and sends over it."""
    ws_url = "ws://" + node_url.removeprefix("http://")
    assert (await foundry.cast("chain-id", "--rpc-url", ws_url)).ok().stdout.strip() == str(anvil.chain_id)
    before = anvil.balance(FRIEND)
    ran = await foundry.cast(
        "send", "--unlocked", "--from", ACCOUNT, FRIEND, "--value", "2wei", "--rpc-url", ws_url, "--json"
    )
    assert ran.ok().json()["status"] == "0x1"
    assert anvil.balance(FRIEND) == before + 2
