"""`walletsync rpc` as a user runs it: real processes, relay, keyring, phone and anvil; the JSON lines contract
(``listening`` first, a ``request`` per request), SIGTERM ends it with exit 0; what it refuses at start."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from tests.bridge.conftest import PHONE, mined, post
from tests.companion.conftest import Cli, paired
from tests.policy.conftest import FRIEND


@pytest.fixture
def cli(start_relay, tmp_path) -> Cli:
    logs = tmp_path / "logs"
    logs.mkdir()
    return Cli(tmp_path / "home", start_relay("memory").url, logs)


async def test_rpc_serves_until_sigterm_and_prints_a_json_line_per_request(cli, anvil):
    session, phone = await paired(cli, "--auto-approve", "--rpc", anvil.url, name="phone")
    try:
        rpc = await cli.spawn("rpc", "phone", "--json", "--port", "0", "--upstream", anvil.url)
        try:
            listening = await rpc.expect("listening")
            url = listening["url"]
            assert listening == {
                "event": "listening",
                "url": url,
                "ws": url.replace("http://", "ws://"),
                "session": "phone",
                "chain": "eip155:1",
                "accounts": [PHONE],
                "upstream": anvil.url,
            }
            assert url.startswith("http://127.0.0.1:")
            assert (await asyncio.to_thread(post, url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}))[1][
                "result"
            ] == "0x1"
            handled = await rpc.expect("request")
            assert handled["method"] == "eth_chainId" and handled["outcome"] == "ok"
            assert handled["client"]["peer"].startswith("127.0.0.1:") and handled["client"]["via"] == "rpc"

            send = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "eth_sendTransaction",
                "params": [{"to": FRIEND, "value": "0x5"}],
            }
            tx_hash = (await asyncio.to_thread(post, url, send))[1]["result"]
            assert (await mined(anvil, tx_hash))["status"] == "0x1"
            asking = await rpc.expect("asking")
            assert asking["method"] == "eth_sendTransaction" and "Send" in asking["decoded"]["summary"]
            assert (await rpc.expect("request"))["method"] == "eth_sendTransaction"
            assert (await rpc.expect("mined"))["hash"] == tx_hash
            rpc.proc.send_signal(signal.SIGTERM)
            assert await rpc.exit_code() == 0
        finally:
            await rpc.close()
        audit = cli.json("audit")
        pushed = [r for r in audit if r["kind"] == "request_pushed"]
        assert len(pushed) == 1 and pushed[0]["data"]["via"]["user_agent"].startswith("Python-urllib")
    finally:
        await phone.close()


async def test_rpc_stops_with_an_error_when_its_session_is_revoked_by_another_process(cli, anvil):
    """Every signing request would fail from then on: `rpc` says why and exits non-zero instead of serving on."""
    session, phone = await paired(cli, "--auto-approve", "--rpc", anvil.url, name="phone")
    try:
        rpc = await cli.spawn("rpc", "phone", "--json", "--port", "0", "--upstream", anvil.url)
        try:
            await rpc.expect("listening")
            revoked = await asyncio.to_thread(cli.run, "revoke", "phone")
            assert revoked.returncode == 0, revoked.stderr
            assert await rpc.exit_code() != 0
            error = rpc.events[-1]["error"]
            assert error["code"] == "rpc" and error["message"] == "stopped serving: session 'phone' is revoked"
        finally:
            await rpc.close()
    finally:
        await phone.close()


async def test_rpc_refuses_a_non_loopback_host_a_silent_upstream_a_foreign_chain_and_an_empty_token(cli, tmp_path):
    out = cli.run("rpc", "phone", "--host", "0.0.0.0", "--json")
    assert out.returncode == 1 and "not a loopback address" in json.loads(out.stdout)["error"]["message"]
    session, phone = await paired(cli, "--auto-approve", name="phone")
    try:
        # config.json's rpc for the chain comes before the registry's; one that does not answer is said at start
        (tmp_path / "home" / "config.json").write_text(json.dumps({"rpc": {"eip155:1": "http://127.0.0.1:9"}}))
        out = cli.run("rpc", "phone", "--json", "--port", "0")
        error = json.loads(out.stdout)["error"]
        assert out.returncode == 1 and error["code"] == "rpc_start"
        assert "http://127.0.0.1:9 does not answer" in error["message"]
        out = cli.run("rpc", "phone", "--json", "--port", "0", "--chain", "eip155:137")
        assert out.returncode == 1 and "no such chain" in json.loads(out.stdout)["error"]["message"]
        token = tmp_path / "empty-token"
        token.write_text("\n")
        out = cli.run("rpc", "phone", "--json", "--token-file", str(token))
        assert out.returncode == 1 and "first line" in json.loads(out.stdout)["error"]["message"]
    finally:
        await phone.close()


def test_a_tools_method_name_is_shown_as_data_on_the_terminal():
    """A tool may send any string as a method: the request line escapes its control characters and markup-like text
    and clips it, as it does the tool's User-Agent and the upstream's error message."""
    from walletsync.bridge.events import Client, RequestHandled
    from walletsync.commands.rpc import _handled_text

    hostile = "eth_\x1b[2Jcall[b]" + "x" * 500
    client = Client("127.0.0.1:9", "tool\x07/1")
    for error in (None, {"code": -32601, "message": "no \x1b]52;c;aGk=\x07 such"}):
        line = _handled_text(RequestHandled(hostile, client, "ok" if error is None else "error", error))
        assert not any(ch in line for ch in "\x1b\x07") and len(line) < 400
        assert "eth_\\x1b[2Jcall[b]" in line
