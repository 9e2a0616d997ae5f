"""A minimal Ethereum JSON-RPC node over HTTP on loopback, for the wallet's and the companion's RPC paths."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from eth_account import Account
from eth_utils import keccak


def _transaction_json(tx_hash: str, raw: str) -> dict:
    """What a node returns for a pending transaction (enough fields for web3 to parse)."""
    sender = Account.recover_transaction(raw)
    return {
        "hash": tx_hash,
        "from": sender,
        "to": None,
        "nonce": "0x0",
        "value": "0x0",
        "gas": "0x5208",
        "input": "0x",
        "blockHash": None,
        "blockNumber": None,
        "transactionIndex": None,
        "type": "0x2",
        "chainId": "0x1",
        "v": "0x0",
        "r": "0x1",
        "s": "0x1",
        "maxFeePerGas": "0x1",
        "maxPriorityFeePerGas": "0x1",
    }


class FakeNode:
    """A minimal Ethereum JSON-RPC node over HTTP that records what it was sent."""

    def __init__(self, chain_id: int = 1) -> None:
        self.chain_id = chain_id
        self.calls: list[dict] = []
        self.mined: dict[str, str] = {}
        self.keeps_transactions = True
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                node.calls.append(request)
                body = json.dumps(
                    {"jsonrpc": "2.0", "id": request["id"], "result": node.answer(request["method"], request["params"])}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def answer(self, method: str, params: list):
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "eth_getTransactionCount":
            return "0x7"
        if method == "eth_estimateGas":
            return hex(50_000)
        if method == "eth_maxPriorityFeePerGas":
            return hex(2 * 10**9)
        if method == "eth_getBlockByNumber":
            return {
                "number": "0x10",
                "hash": "0x" + "11" * 32,
                "parentHash": "0x" + "22" * 32,
                "baseFeePerGas": hex(5 * 10**9),
                "timestamp": "0x1",
                "transactions": [],
            }
        if method == "eth_sendRawTransaction":
            tx_hash = "0x" + keccak(bytes.fromhex(params[0][2:])).hex()
            if self.keeps_transactions:
                self.mined[tx_hash] = params[0]
            return tx_hash
        if method == "eth_getTransactionByHash":
            raw = self.mined.get(params[0])
            return None if raw is None else _transaction_json(params[0], raw)
        raise AssertionError(f"unexpected node call {method}")

    def raw_sent(self) -> str:
        (raw,) = [c["params"][0] for c in self.calls if c["method"] == "eth_sendRawTransaction"]
        return raw
