"""`walletsync policy` and a refused `walletsync sign` as a user runs them: real processes, relay, keyring, phone."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode

from tests.companion.conftest import Cli, paired
from tests.policy.conftest import ETH, FRIEND, USDC


@pytest.fixture
def cli(start_relay, tmp_path) -> Cli:
    logs = tmp_path / "logs"
    logs.mkdir()
    return Cli(tmp_path / "home", start_relay("memory").url, logs)


def pay(wei: int) -> str:
    return json.dumps({"to": FRIEND, "value": hex(wei)})


async def test_set_show_and_a_refused_sign_exit_1_with_the_rule(cli, anvil):
    session, phone = await paired(cli, "--auto-approve", "--rpc", anvil.url, name="phone")
    try:
        document = cli.json("policy", "set", "phone", "--max-native-per-day", "0.1", "--recipients", FRIEND.lower())
        assert document["file"]["attested"] is True and document["session"] == "phone"
        assert document["policy"] == {
            "max_native_per_day": [{"chain": "*", "per_day": "0.1"}],
            "recipients": [FRIEND],
            "allow_unlimited_approvals": False,
        }
        assert cli.json("sign", "phone", "--tx", pay(6 * ETH // 100), "--rpc", anvil.url)["verified"] is True
        out = cli.run("sign", "phone", "--tx", pay(6 * ETH // 100), "--json")
        assert out.returncode == 1
        error = json.loads(out.stdout)["error"]
        assert error["code"] == "policy_refused" and error["rule"] == "native_cap"
        assert "sending 0.06 ETH on Ethereum (eip155:1)" in error["message"] and "0.04 ETH left" in error["message"]
        text = cli.run("sign", "phone", "--tx", pay(6 * ETH // 100))
        assert text.returncode == 1 and "refused by policy (native_cap)" in text.stderr
        refusals = [r for r in cli.json("audit") if r["kind"] == "request_refused_by_policy"]
        assert [r["data"]["rule"] for r in refusals] == ["native_cap", "native_cap"]
        shown = cli.run("policy", "show", "phone")
        assert shown.returncode == 0 and "in force" in shown.stdout and "0.1 on every chain" in shown.stdout
    finally:
        await phone.close()


async def test_a_hand_edit_takes_effect_only_once_attested(cli):
    session, phone = await paired(cli, "--auto-approve", name="phone")
    try:
        cli.json("policy", "set", "--all", "--max-native-per-day", "0.1")
        path = cli.home / "policies.json"
        edited = json.loads(path.read_text())
        edited["all"]["max_token_per_day"] = [
            {"chain": "eip155:1", "token": USDC, "symbol": "USDC", "decimals": 6, "per_day": "500"}
        ]
        path.write_text(json.dumps(edited, indent=2))
        out = cli.run("sign", "phone", "--message", "hello", "--json")
        error = json.loads(out.stdout)["error"]
        assert out.returncode == 1 and error["rule"] == "policy_unattested"
        assert "walletsync policy attest" in error["message"]
        shown = cli.run("policy", "show")
        assert "NOT IN FORCE" in shown.stdout and "Every request is refused" in shown.stdout
        assert cli.json("policy", "attest")["file"]["attested"] is True
        assert cli.json("sign", "phone", "--message", "hello")["verified"] is True
        transfer = json.dumps(
            {"to": USDC, "data": "0xa9059cbb" + encode(["address", "uint256"], [FRIEND, 501 * 10**6]).hex()}
        )
        error = cli.json("sign", "phone", "--tx", transfer, ok=False)["error"]
        assert error["rule"] == "token_cap" and "501" in error["message"]
    finally:
        await phone.close()


async def test_clearing_and_the_errors_that_name_the_fix(cli):
    session, phone = await paired(cli, name="phone")
    try:
        error = cli.json("policy", "set", "phone", "--max-token-per-day", "NOSUCHTOKEN=500", ok=False)["error"]
        assert error["code"] == "unknown_token" and "walletsync chains token add" in error["message"]
        usdc = cli.json("policy", "set", "phone", "--max-token-per-day", "500 USDC")["policy"]["max_token_per_day"]
        assert usdc == [{"chain": "eip155:1", "token": USDC, "symbol": "USDC", "decimals": 6, "per_day": "500"}]
        error = cli.json("policy", "set", "phone", "--max-native-per-day", "0.1.2", ok=False)["error"]
        assert error["code"] == "bad_amount"
        assert "rule" not in error  # other errors keep their two fields
        cli.json("policy", "set", "phone", "--methods", "personal_sign")
        cli.json("policy", "set", "--all", "--max-requests-per-hour", "10")
        both = cli.json("policy", "show")
        assert both["all"]["max_requests_per_hour"] == 10
        assert [s["session"] for s in both["sessions"]] == ["phone"]
        assert cli.json("policy", "clear", "phone")["policy"] is None
        assert cli.json("policy", "clear", "--all")["all"] is None
        cli.json("policy", "set", "phone", "--methods", "personal_sign")
        cleared = cli.json("policy", "clear")
        assert cleared["all"] is None and cleared["sessions"] == []
        assert "No policies" in cli.run("policy").stdout
    finally:
        await phone.close()
