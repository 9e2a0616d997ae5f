"""eth_subscribe on the bridge's WebSocket, for an upstream node that has none (HTTP): ``newHeads`` and ``logs``
notifications as anvil's own WebSocket sends them, checked side by side against anvil; over HTTP, and for what is
not offered, a clear error. Real parts: the companion and reference phone over a real relay, anvil."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.bridge.conftest import bridged, mined, post
from walletsync.bridge.jsonrpc import Fault
from walletsync.bridge.subscribing import Wanted, wanted
from walletsync.bridge.watching import MAX_SUBSCRIPTIONS

RUNTIME = "60006000a000"
"""PUSH1 0 PUSH1 0 LOG0 STOP: a contract that logs (no topics, no data) on any call."""
DEPLOY = "0x6006600c60003960066000f3" + RUNTIME
"""Its init code: copy the 6 runtime bytes to memory and return them."""


def call(method: str, params: Any = None, id: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": [] if params is None else params}


async def send_from(anvil, sender: str, **tx: Any) -> dict[str, Any]:
    """A transaction from one of anvil's own unlocked accounts (not the phone's), mined."""
    tx_hash = await asyncio.to_thread(anvil.call, "eth_sendTransaction", {"from": sender, **tx})
    return await mined(anvil, tx_hash)


@asynccontextmanager
async def websocket(url: str):
    async with aiohttp.ClientSession() as http, http.ws_connect(url.replace("http", "ws", 1)) as socket:
        yield socket


async def answer(socket, body: dict[str, Any], notes: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer to ``body`` (notifications arriving first are kept in ``notes``)."""
    await socket.send_json(body)
    async with asyncio.timeout(30):
        while True:
            message = await socket.receive_json()
            if message.get("method") == "eth_subscription":
                notes.append(message["params"])
            elif message.get("id") == body["id"]:
                return message


async def notified(socket, notes: list[dict[str, Any]], found) -> dict[str, Any]:
    """The first notification (already here, or to come) for which ``found(params)`` holds."""
    async with asyncio.timeout(30):
        while True:
            for note in notes:
                if found(note):
                    return note
            message = await socket.receive_json()
            if message.get("method") == "eth_subscription":
                notes.append(message["params"])


@asynccontextmanager
async def node(kind: str, start_relay, anvil, tmp_path):
    """The URL a tool would use: anvil's own, or the bridge's in front of anvil."""
    if kind == "anvil":
        yield anvil.url
        return
    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url) as b:
        yield b.url


@pytest.mark.parametrize("kind", ["anvil", "bridge"])
async def test_new_heads_and_logs_arrive_as_anvils_own_websocket_sends_them(kind, start_relay, anvil, tmp_path):
    sender = (await asyncio.to_thread(anvil.call, "eth_accounts"))[1]
    contract = (await send_from(anvil, sender, data=DEPLOY))["contractAddress"]
    async with node(kind, start_relay, anvil, tmp_path) as url, websocket(url) as socket:
        notes: list[dict[str, Any]] = []
        heads = (await answer(socket, call("eth_subscribe", ["newHeads"], id=1), notes))["result"]
        logs = (await answer(socket, call("eth_subscribe", ["logs", {"address": contract}], id=2), notes))["result"]
        assert heads != logs and all(isinstance(s, str) and s.startswith("0x") for s in (heads, logs))

        receipt = await send_from(anvil, sender, to=contract)
        header = await notified(
            socket, notes, lambda n: n["subscription"] == heads and n["result"]["number"] == receipt["blockNumber"]
        )
        assert header["result"]["hash"] == receipt["blockHash"] and "parentHash" in header["result"]
        entry = (await notified(socket, notes, lambda n: n["subscription"] == logs))["result"]
        assert (entry["address"].lower(), entry["transactionHash"], entry["blockNumber"]) == (
            contract.lower(),
            receipt["transactionHash"],
            receipt["blockNumber"],
        )

        assert (await answer(socket, call("eth_unsubscribe", [logs], id=3), notes))["result"] is True
        assert (await answer(socket, call("eth_unsubscribe", [logs], id=4), notes))["result"] is False


async def test_what_is_not_offered_is_a_clear_error(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url) as b:
        status, over_http = await asyncio.to_thread(post, b.url, call("eth_subscribe", ["newHeads"]))
        assert status == 200 and over_http["error"]["code"] == -32601 and "WebSocket" in over_http["error"]["message"]
        async with websocket(b.url) as socket:
            notes: list[dict[str, Any]] = []
            pending = await answer(socket, call("eth_subscribe", ["newPendingTransactions"]), notes)
            assert pending["error"]["code"] == -32602 and "not offered" in pending["error"]["message"]
            for i in range(MAX_SUBSCRIPTIONS):
                assert "result" in await answer(socket, call("eth_subscribe", ["newHeads"], id=10 + i), notes)
            over = await answer(socket, call("eth_subscribe", ["newHeads"], id=99), notes)
            assert over["error"]["code"] == -32005


def test_subscription_params_are_checked():
    address, topic = "0x" + "ab" * 20, "0x" + "cd" * 32
    assert wanted(["newHeads"]) == Wanted("newHeads")
    assert wanted(["logs"]) == Wanted("logs", {})
    assert wanted(["logs", {"address": [address], "topics": [topic, None, [topic]]}]) == Wanted(
        "logs", {"address": [address], "topics": [topic, None, [topic]]}
    )
    for bad in ([], ["logs", {"fromBlock": "0x1"}], ["logs", {"address": "0x12"}], ["logs", {"topics": [1]}], [1]):
        assert isinstance(wanted(bad), Fault), bad


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_any_params_give_a_subscription_or_a_fault(params):
    assert isinstance(wanted(params), (Wanted, Fault))


async def test_a_hostile_nodes_error_reaches_the_tool_with_a_json_rpc_code():
    """A node answering eth_blockNumber with a non-integer error code: the tool gets -32603, never the node's text
    as a code."""
    import json as json_module
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from walletsync.bridge.upstream import Upstream
    from walletsync.bridge.watching import Subscriptions

    class Hostile(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json_module.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": "boom", "message": "no"}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        async with aiohttp.ClientSession() as http:
            upstream = Upstream(f"http://127.0.0.1:{server.server_port}", http)

            async def send(message: Any) -> None:
                raise AssertionError(f"nothing to notify: {message}")

            subscriptions = Subscriptions(lambda: upstream, send)
            value, fault = await subscriptions.subscribe(["newHeads"])
            assert value is None and fault is not None and fault.code == -32603 and not subscriptions.subs
            await subscriptions.close()
    finally:
        server.shutdown()
