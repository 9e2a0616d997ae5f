"""What the chain says, asked of anvil directly: the witness of what a tool did through whatever it was pointed at."""

from __future__ import annotations

import time
from typing import Any

from tests.procs import AnvilNode


def nonce(anvil: AnvilNode, account: str) -> int:
    return int(anvil.call("eth_getTransactionCount", account, "latest"), 16)


def mined(anvil: AnvilNode, tx_hash: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The transaction as mined and its receipt."""
    return anvil.call("eth_getTransactionByHash", tx_hash), receipt(anvil, tx_hash)


def receipt(anvil: AnvilNode, tx_hash: str, timeout: float = 30.0) -> dict[str, Any]:
    """The receipt, once anvil has mined the transaction (it answers a send before its block is sealed)."""
    deadline = time.monotonic() + timeout
    while (found := anvil.call("eth_getTransactionReceipt", tx_hash)) is None:
        assert time.monotonic() < deadline, f"{tx_hash} not mined within {timeout:g} s"
        time.sleep(0.02)
    return dict(found)


def deploy(anvil: AnvilNode, sender: str, bytecode: str) -> str:
    """Deploy ``bytecode`` from anvil's unlocked ``sender``; the new contract's address."""
    deployed = receipt(anvil, anvil.call("eth_sendTransaction", {"from": sender, "data": bytecode}))
    assert deployed["status"] == "0x1", deployed
    return str(deployed["contractAddress"])
