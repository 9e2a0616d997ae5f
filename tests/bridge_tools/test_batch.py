"""A JSON-RPC batch of reads (an array, as ethers sends): one answer per call, in the order asked, each what the node
itself answers, an error kept in its place."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

from tests.bridge_tools.conftest import ACCOUNT, FRIEND

BATCH = [
    {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []},
    {"jsonrpc": "2.0", "id": "balance", "method": "eth_getBalance", "params": [ACCOUNT, "latest"]},
    {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber", "params": []},
    {"jsonrpc": "2.0", "id": "bad", "method": "eth_getBalance", "params": ["0xnot-an-address", "latest"]},
    {"jsonrpc": "2.0", "id": 1, "method": "net_version", "params": []},
    {"jsonrpc": "2.0", "id": 2, "method": "eth_getTransactionCount", "params": [FRIEND, "latest"]},
    {"jsonrpc": "2.0", "id": "code", "method": "eth_getCode", "params": [FRIEND, "latest"]},
]


def post(url: str, body: Any) -> Any:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def test_a_batched_read_array_comes_back_in_order(node_url, anvil):
    answers = await asyncio.to_thread(post, node_url, BATCH)
    assert isinstance(answers, list) and [a["id"] for a in answers] == [r["id"] for r in BATCH]
    direct = await asyncio.to_thread(post, anvil.url, BATCH)  # nothing is mined in between
    assert [a.get("result") for a in answers] == [a.get("result") for a in direct]
    assert "error" in answers[3] and answers[3]["error"]["code"] == direct[3]["error"]["code"]
    assert all("error" not in a for i, a in enumerate(answers) if i != 3)
    assert answers[0]["result"] == hex(anvil.chain_id)
