"""An RPC is a stranger's server: a reply too large, not JSON, an HTTP error or a refused batch costs that RPC its
turn (the chain falls back to the next, a real anvil), and never becomes a figure."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.balances.conftest import CHAIN, FRIEND, registry_of
from walletsync.service.balance_reads import MAX_REPLY_BYTES
from walletsync.service.balances import Target, read_balances

Reply = Callable[[object], tuple[int, bytes]]


class HostileRpc:
    """An HTTP server on loopback answering every POST with what ``reply(request)`` gives (status, body)."""

    def __init__(self, reply: Reply) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, data = reply(body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def head_then(figures: Reply) -> Reply:
    """A fresh head at block 1 (now: 1000), then ``figures`` for every batch."""

    def reply(body):
        if isinstance(body, dict):
            return 200, json.dumps(
                {"jsonrpc": "2.0", "id": 1, "result": {"number": "0x1", "timestamp": "0x3e8"}}
            ).encode()
        return figures(body)

    return reply


HOSTILE = {
    "too large": lambda body: (200, b"[" + b" " * (MAX_REPLY_BYTES + 10) + b"]"),
    "not json": lambda body: (200, b"<html>rate limited</html>"),
    "http 429": lambda body: (429, b"slow down"),
    "batch refused": head_then(lambda body: (200, b'{"jsonrpc":"2.0","id":null,"error":{"message":"no batches"}}')),
    "figures not numbers": head_then(
        lambda body: (200, json.dumps([{"id": c["id"], "result": "lots"} for c in body]).encode())
    ),
}


@pytest.mark.parametrize("kind", HOSTILE)
async def test_a_hostile_rpc_gives_no_figure(kind):
    rpc = HostileRpc(HOSTILE[kind])
    try:
        rows = await read_balances(registry_of(rpc.url, token=False), [Target(FRIEND, None, (CHAIN,))], lambda: 1000.0)
    finally:
        rpc.close()
    assert [(r.status, r.amount) for r in rows] == [("unreachable", None)]
    assert rows[0].error and rpc.url in rows[0].error


@pytest.mark.parametrize("kind", HOSTILE)
async def test_a_hostile_first_rpc_falls_back_to_a_real_node(kind, start_node):
    node = start_node()
    _, stamp = node.head()
    rpc = HostileRpc(HOSTILE[kind])
    try:
        rows = await read_balances(
            registry_of(rpc.url, node.url, token=False), [Target(FRIEND, None, (CHAIN,))], lambda: float(stamp)
        )
    finally:
        rpc.close()
    assert [(r.status, r.amount, r.rpc, r.fallback_from) for r in rows] == [
        ("unreachable", node.balance(FRIEND), node.url, (rpc.url,))
    ]
