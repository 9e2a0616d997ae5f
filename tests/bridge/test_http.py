"""The bridge over raw HTTP: batches answered in order, the guard (Host, Origin, token), bounds, the codes tools act on
(4200, -32700, -32600), and an upstream's revert passed on unchanged (code 3 and its data)."""

from __future__ import annotations

import asyncio

from tests.bridge.conftest import PHONE, bridged, mined, post
from walletsync.bridge.jsonrpc import MAX_BODY

ERROR_SELECTOR = "deadbeef"
# Runtime code reverting with `deadbeef` followed by the word 42 (a custom error with one argument), and the creation
# code returning it: PUSH32 selector, MSTORE at 0; PUSH1 42, MSTORE at 4; REVERT(0, 36).
RUNTIME = "7f" + ERROR_SELECTOR + "00" * 28 + "600052" + "602a600452" + "60246000fd"
CREATION = "602e80600b6000396000f3" + RUNTIME
REVERT_DATA = "0x" + ERROR_SELECTOR + f"{42:064x}"


def call(method: str, params: list | None = None, id: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": params or []}


async def test_a_batch_is_answered_in_order_and_reads_are_proxied_unchanged(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url, "--auto-approve") as b:
        batch = [
            call("eth_blockNumber", id=7),
            call("eth_chainId", id="a"),
            call("eth_getBalance", [PHONE, "latest"], id=3),
            {"jsonrpc": "2.0", "method": "eth_blockNumber"},  # a notification: run, not answered
            call("net_version", id=None),
            "not a request",
            call("anvil_noSuchMethod", id=9),
            call("eth_accounts", id=10),
        ]
        status, answers = await asyncio.to_thread(post, b.url, batch)
        assert status == 200
        assert [a["id"] for a in answers] == [7, "a", 3, None, None, 9, 10]
        assert answers[0]["result"] == anvil.call("eth_blockNumber")
        assert answers[1]["result"] == "0x1"
        assert answers[2]["result"] == anvil.call("eth_getBalance", PHONE, "latest")
        assert answers[3]["result"] == "1"
        assert answers[4]["error"]["code"] == -32600
        assert answers[5]["error"]["code"] == -32601  # the upstream's own error, passed on
        assert answers[6]["result"] == [PHONE]

        assert (await asyncio.to_thread(post, b.url, b"{not json"))[1]["error"]["code"] == -32700
        assert (await asyncio.to_thread(post, b.url, []))[1]["error"]["code"] == -32600
        assert (await asyncio.to_thread(post, b.url, [call("eth_chainId")] * 101))[1]["error"]["code"] == -32600
        assert (await asyncio.to_thread(post, b.url, b" " * (MAX_BODY + 1)))[0] == 413

        for method in ("eth_sign", "eth_signTransaction", "personal_sendTransaction", "eth_signTypedData_v1"):
            status, answer = await asyncio.to_thread(post, b.url, call(method, [PHONE, "0x00"]))
            assert answer["error"]["code"] == 4200, method
        assert b.companion.requests() == []  # nothing reached the phone
        refused = [e.data for e in b.companion.audit_entries() if e.kind == "bridge_refused"]
        assert [r["method"] for r in refused] == [
            "eth_sign",
            "eth_signTransaction",
            "personal_sendTransaction",
            "eth_signTypedData_v1",
        ]
        assert all(r["reason"] == "method" for r in refused)


async def test_a_revert_keeps_code_3_and_its_data_in_calls_estimates_and_sends(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url, "--auto-approve") as b:
        deployer = anvil.call("eth_accounts")[1]
        deployed = anvil.call("eth_sendTransaction", {"from": deployer, "data": "0x" + CREATION})
        contract = (await mined(anvil, deployed))["contractAddress"]
        direct = await asyncio.to_thread(post, anvil.url, call("eth_call", [{"to": contract, "data": "0x"}, "latest"]))
        through = await asyncio.to_thread(post, b.url, call("eth_call", [{"to": contract, "data": "0x"}, "latest"]))
        assert through[1]["error"] == direct[1]["error"]
        assert through[1]["error"]["code"] == 3 and through[1]["error"]["data"] == REVERT_DATA
        estimate = await asyncio.to_thread(post, b.url, call("eth_estimateGas", [{"from": PHONE, "to": contract}]))
        assert estimate[1]["error"]["code"] == 3 and estimate[1]["error"]["data"] == REVERT_DATA
        # a send whose gas estimate reverts: the tool gets the revert (cast prints the custom error); no prompt
        send = await asyncio.to_thread(post, b.url, call("eth_sendTransaction", [{"from": PHONE, "to": contract}]))
        assert send[1]["error"]["code"] == 3 and send[1]["error"]["data"] == REVERT_DATA
        assert b.companion.requests() == []


async def test_foreign_host_and_origin_are_refused_and_audited_an_allowed_origin_and_the_token_pass(
    start_relay, anvil, tmp_path
):
    relay = start_relay("memory")
    app = "http://localhost:3000"
    async with bridged(
        relay.url, tmp_path / "home", tmp_path, anvil.url, origins=frozenset({app}), token="s3cret-token"
    ) as b:
        auth = {"Authorization": "Bearer s3cret-token"}
        ok = await asyncio.to_thread(post, b.url, call("eth_chainId"), auth)
        assert ok == (200, {"jsonrpc": "2.0", "id": 1, "result": "0x1"})
        for host in ("localhost", f"localhost:{b.port}", f"[::1]:{b.port}", f"127.0.0.1:{b.port}"):
            assert (await asyncio.to_thread(post, b.url, call("eth_chainId"), {**auth, "Host": host}))[0] == 200
        # DNS rebinding: a page's own name resolving to 127.0.0.1
        rebound = await asyncio.to_thread(post, b.url, call("eth_accounts"), {**auth, "Host": f"evil.example:{b.port}"})
        assert rebound[0] == 403 and "Host" in rebound[1]["error"]["message"]
        wrong_port = await asyncio.to_thread(post, b.url, call("eth_accounts"), {**auth, "Host": "127.0.0.1:1"})
        assert wrong_port[0] == 403
        page = await asyncio.to_thread(post, b.url, call("eth_accounts"), {**auth, "Origin": "https://evil.example"})
        assert page[0] == 403 and "origin" in page[1]["error"]["message"]
        allowed = await asyncio.to_thread(post, b.url, call("eth_accounts"), {**auth, "Origin": app})
        assert allowed[0] == 200 and allowed[1]["result"] == [PHONE]
        assert (await asyncio.to_thread(post, b.url, call("eth_chainId")))[0] == 401
        wrong = await asyncio.to_thread(post, b.url, call("eth_chainId"), {"Authorization": "Bearer nope"})
        assert wrong[0] == 401

        refused = [e for e in b.companion.audit_entries() if e.kind == "bridge_refused"]
        assert [r.data["reason"] for r in refused] == ["host", "host", "origin", "token"]  # the same again: one row
        assert refused[2].data["origin"] == "https://evil.example"
        assert refused[0].data["peer"].startswith("127.0.0.1:")


async def test_websocket_serves_json_rpc_on_the_same_port(start_relay, anvil, tmp_path):
    import aiohttp

    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url) as b:
        async with aiohttp.ClientSession() as http, http.ws_connect(b.url.replace("http", "ws")) as socket:
            await socket.send_json([call("eth_chainId", id=1), call("eth_accounts", id=2)])
            assert [a["result"] for a in await socket.receive_json()] == ["0x1", [PHONE]]
        async with aiohttp.ClientSession() as http:
            refused = await http.get(b.url, headers={"Origin": "https://evil.example", "Upgrade": "websocket"})
            assert refused.status == 403


async def test_requests_beyond_the_in_flight_bound_are_refused_with_limit_exceeded(start_relay, anvil, tmp_path):
    from walletsync.bridge.server import MAX_IN_FLIGHT

    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url) as b:
        b.server.in_flight = MAX_IN_FLIGHT  # as if that many sends were waiting for the phone
        status, answer = await asyncio.to_thread(post, b.url, call("eth_chainId"))
        assert status == 503 and answer["error"]["code"] == -32005
        b.server.in_flight = 0
        assert (await asyncio.to_thread(post, b.url, call("eth_chainId")))[0] == 200
