"""What the chain says, asked of anvil directly: the witness of what a tool did through whatever it was pointed at."""

from __future__ import annotations

from typing import Any

from tests.procs import AnvilNode


def nonce(anvil: AnvilNode, account: str) -> int:
    return int(anvil.call("eth_getTransactionCount", account, "latest"), 16)


def mined(anvil: AnvilNode, tx_hash: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The transaction as mined and its receipt."""
    return anvil.call("eth_getTransactionByHash", tx_hash), anvil.call("eth_getTransactionReceipt", tx_hash)


def deploy(anvil: AnvilNode, sender: str, bytecode: str) -> str:
    """Deploy ``bytecode`` from anvil's unlocked ``sender`` (anvil mines at once); the new contract's address."""
    tx_hash = anvil.call("eth_sendTransaction", {"from": sender, "data": bytecode})
    receipt = anvil.call("eth_getTransactionReceipt", tx_hash)
    assert receipt["status"] == "0x1", receipt
    return str(receipt["contractAddress"])
