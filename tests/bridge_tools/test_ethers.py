"""ethers v6's ``JsonRpcProvider(url).getSigner(address)``: its signatures recover to the account (checked by ethers
and again here by walletsync's own verifier) and its sendTransaction is mined."""

from __future__ import annotations

import asyncio
import json

from tests.bridge_tools.chain import mined
from tests.bridge_tools.conftest import ACCOUNT, FRIEND
from tests.tools import ethers
from walletsync.signatures import verify_response

MESSAGE = "walletsync: sign in from ethers ✓"


async def test_ethers_sign_message_recovers_to_the_account(node_url, tmp_path):
    result = (await ethers(node_url, ACCOUNT, "sign-message", MESSAGE, home=tmp_path)).ok().json()
    assert result["signed"] == MESSAGE and result["recovered"] == ACCOUNT
    params = ["0x" + MESSAGE.encode().hex(), ACCOUNT]  # personal_sign as ethers sends it
    assert verify_response("personal_sign", params, result["signature"], ACCOUNT).verified


async def test_ethers_sign_typed_data_recovers_to_the_account(node_url, anvil, tmp_path):
    result = (await ethers(node_url, ACCOUNT, "sign-typed-data", home=tmp_path)).ok().json()
    assert result["recovered"] == ACCOUNT
    assert int(result["signed"]["domain"]["chainId"], 16) == anvil.chain_id  # ethers sends it as hex text
    params = [ACCOUNT, json.dumps(result["signed"])]  # eth_signTypedData_v4 as ethers sends it
    assert verify_response("eth_signTypedData_v4", params, result["signature"], ACCOUNT).verified


async def test_ethers_send_transaction_mines(node_url, anvil, tmp_path):
    before = anvil.balance(FRIEND)
    result = (await ethers(node_url, ACCOUNT, "send-transaction", FRIEND, "1", home=tmp_path)).ok().json()
    assert result["status"] == 1
    tx, receipt = mined(anvil, result["hash"])
    assert (
        receipt["status"] == "0x1" and tx["from"].lower() == ACCOUNT.lower() and int(tx["nonce"], 16) == result["nonce"]
    )
    assert anvil.balance(FRIEND) == before + 1


async def test_ethers_websocket_provider_hears_of_new_blocks(node_url, anvil, tmp_path):
    """ethers' WebSocketProvider listens for blocks with eth_subscribe("newHeads"), which an HTTP node cannot serve:
    through the endpoint it hears of a block mined after it started listening, as it does from anvil's own socket."""
    ws = node_url.replace("http://", "ws://", 1)
    before = int(await asyncio.to_thread(anvil.call, "eth_blockNumber"), 16)
    listening = asyncio.ensure_future(ethers(ws, ACCOUNT, "next-block", home=tmp_path))
    for _ in range(60):  # a block at a time until it has heard of one (it may not listen yet when the first comes)
        await asyncio.to_thread(anvil.call, "evm_mine")
        done, _pending = await asyncio.wait({listening}, timeout=1.0)
        if done:
            break
    heard = listening.result().ok().json()["block"]
    assert heard > before
