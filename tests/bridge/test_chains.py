"""The chain side of the bridge: legacy fees on a chain without EIP-1559, calldata named ``input`` and ``data``,
switching chains within the session's."""

from __future__ import annotations

import asyncio

from tests.bridge.conftest import PHONE, bridged, mined, post
from tests.procs import AnvilNode


def rpc(method: str, params: list) -> dict:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}


async def test_a_chain_without_base_fee_gets_a_legacy_gas_price_and_cast_style_calldata_mines(start_relay, tmp_path):
    berlin = AnvilNode(tmp_path, 1, "--hardfork", "berlin").start()
    try:
        assert "baseFeePerGas" not in berlin.call("eth_getBlockByNumber", "latest", False)
        relay = start_relay("memory")
        async with bridged(
            relay.url, tmp_path / "home", tmp_path, berlin.url, "--auto-approve", "--rpc", berlin.url
        ) as b:
            to = berlin.call("eth_accounts")[2]
            tx = {"from": PHONE, "to": to, "value": "0x7", "input": "0x", "data": "0x"}  # cast sends both
            tx_hash = (await asyncio.to_thread(post, b.url, rpc("eth_sendTransaction", [tx])))[1]["result"]
            assert (await mined(berlin, tx_hash))["status"] == "0x1"
            sent = berlin.call("eth_getTransactionByHash", tx_hash)
            assert sent["type"] == "0x0" and int(sent["gasPrice"], 16) == int(berlin.call("eth_gasPrice"), 16)
    finally:
        berlin.stop()


async def test_switching_chains_stays_within_the_session(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url) as b:
        same = await asyncio.to_thread(post, b.url, rpc("wallet_switchEthereumChain", [{"chainId": "0x1"}]))
        assert same[1] == {"jsonrpc": "2.0", "id": 1, "result": None}
        other = await asyncio.to_thread(post, b.url, rpc("wallet_switchEthereumChain", [{"chainId": "0x89"}]))
        assert other[1]["error"]["code"] == 4902
        bad = await asyncio.to_thread(post, b.url, rpc("wallet_switchEthereumChain", ["polygon"]))
        assert bad[1]["error"]["code"] == -32602
        assert (await asyncio.to_thread(post, b.url, rpc("eth_chainId", [])))[1]["result"] == "0x1"
