"""Real chain nodes for the balance tests: anvil instances (several at once), a test token deployed from the
bytecode in fixtures/Token.bin, and transfers sent from anvil's first (unlocked) account."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.procs import AnvilNode
from walletsync.chains.model import Token
from walletsync.chains.registry import Registry
from walletsync.chains.user import Additions, ChainEntry

CHAIN = "eip155:31337"
SENDER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
"""anvil's first account (unlocked), which deploys the token and sends."""
FRIEND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STRANGER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
"""Never sent anything on any node: its balances are real zeros."""
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
"""The token's address: the first contract SENDER deploys (nonce 0), the same on every fresh node."""
SUPPLY = 10**12
TOKEN_BIN = (Path(__file__).parent / "fixtures" / "Token.bin").read_text().strip()


class Node(AnvilNode):
    """An anvil node with the test's verbs: deploy the token, send ETH or tokens (each mined at once)."""

    def send_eth(self, to: str, wei: int) -> None:
        self._mined({"from": SENDER, "to": to, "value": hex(wei)})

    def deploy_token(self) -> str:
        receipt = self._mined({"from": SENDER, "data": "0x" + TOKEN_BIN + f"{SUPPLY:064x}"})
        assert receipt["contractAddress"].lower() == TOKEN.lower(), receipt
        return TOKEN

    def send_token(self, to: str, units: int) -> None:
        self._mined(
            {"from": SENDER, "to": TOKEN, "data": "0xa9059cbb" + to[2:].lower().rjust(64, "0") + f"{units:064x}"}
        )

    def head(self) -> tuple[int, int]:
        block = self.call("eth_getBlockByNumber", "latest", False)
        return int(block["number"], 16), int(block["timestamp"], 16)

    def _mined(self, tx: dict) -> dict:
        """Send ``tx`` and return its receipt once mined (anvil mines each at once, but may answer first)."""
        tx_hash = self.call("eth_sendTransaction", tx)
        deadline = time.monotonic() + 10
        while (receipt := self.call("eth_getTransactionReceipt", tx_hash)) is None:
            assert time.monotonic() < deadline, f"{tx_hash} not mined"
            time.sleep(0.005)
        assert receipt["status"] == "0x1", receipt
        return receipt


@pytest.fixture
def start_node(tmp_path):
    """``start_node()`` → a running anvil on chain 31337; all are stopped after the test."""
    started: list[Node] = []

    def start() -> Node:
        node = Node(tmp_path, chain_id=31337).start()
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def registry_of(*rpcs: str, token: bool = True) -> Registry:
    """A registry that knows chain 31337 with these RPCs (in order) and, with ``token``, the test token."""
    additions = Additions().with_chain(ChainEntry(CHAIN, "Anvil", "ETH", 18, (), tuple(rpcs)))
    if token:
        additions = additions.with_token(Token(CHAIN, TOKEN, "TST", 6, "Test Token", user=True))
    return Registry(additions)
