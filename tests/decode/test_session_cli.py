"""`walletsync decode --session S`: the request as `sign S` would send it (the session's chain and account) and what
its policies say, offline; real processes, relay and keyring (the phone only to pair)."""

from __future__ import annotations

import json

import pytest

from tests.companion.conftest import Cli, paired
from tests.decode.registry import MAX, PERMIT2, USDC, hexdata
from tests.policy.conftest import FRIEND, STRANGER

UNREACHABLE_RELAY = "ws://127.0.0.1:1"


@pytest.fixture
def cli(start_relay, tmp_path) -> Cli:
    logs = tmp_path / "logs"
    logs.mkdir()
    return Cli(tmp_path / "home", start_relay("memory").url, logs)


def pay(wei: str, to: str) -> str:
    return json.dumps({"to": to, "value": wei})


async def test_the_sessions_chain_is_the_default_and_no_relay_is_needed(cli):
    pair = await cli.spawn("pair", "--json", "--name", "desk", "--chains", "eip155:137")
    phone = await cli.phone((await pair.expect("uri"))["uri"], "--approve")
    await pair.expect("session")
    assert await pair.exit_code() == 0
    await phone.close()
    tx = pay("0x1", FRIEND)
    alone = cli.json("decode", "--tx", tx)
    assert alone["chain"]["id"] == "eip155:1" and "refusal" not in alone
    offline = Cli(cli.home, UNREACHABLE_RELAY, cli.logs).json("decode", "--tx", tx, "--session", "desk")
    assert offline["chain"] == {"id": "eip155:137", "name": "Polygon", "currency": "POL"}
    assert offline["refusal"] is None and offline["warnings"] == []
    named = cli.json("decode", "--tx", tx, "--session", "desk", "--chain", "eip155:10")
    assert named["chain"]["id"] == "eip155:10" and "eip155:10" in named["out_of_scope"], "not granted: sign refuses"
    assert offline["out_of_scope"] is None
    missing = cli.json("decode", "--tx", tx, "--session", "nobody", ok=False)["error"]
    assert missing["code"] == "unknown_session"


async def test_the_policies_warnings_and_refusal(cli):
    session, phone = await paired(cli, "--auto-approve", name="desk")
    await phone.close()
    cli.json("policy", "set", "desk", "--max-native-per-day", "0.1", "--recipients", FRIEND)
    over = cli.json("decode", "--tx", pay(hex(2 * 10**17), STRANGER), "--session", "desk")
    assert sorted(w["code"] for w in over["warnings"]) == ["over_cap", "recipient_not_allowed"]
    assert over["refusal"]["rule"] in ("native_cap", "recipient_not_allowed")
    fine = cli.json("decode", "--tx", pay(hex(10**16), FRIEND), "--session", "desk")
    assert fine["warnings"] == [] and fine["refusal"] is None
    approve = json.dumps({"to": USDC, "data": hexdata("approve(address,uint256)", PERMIT2, MAX)})
    text = cli.run("decode", "--tx", approve, "--session", "desk")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[-1].startswith("policy: would refuse it (unlimited_approval): ")
    assert "  unlimited_approval: unlimited approval" in text.stdout
    assert cli.run("decode", "--tx", pay("0x1", FRIEND), "--session", "desk").stdout.splitlines()[-1] == (
        "policy: no policy would refuse it now"
    )
    assert "request_pushed" not in [r["kind"] for r in cli.json("audit")]
