"""The phone says no: the tools report it as they report a wallet's rejection. These need the endpoint (anvil has no
phone): its session's reference phone, started without ``--auto-approve``, asks nobody and rejects every request."""

from __future__ import annotations

from tests.bridge_tools.chain import nonce
from tests.bridge_tools.conftest import ACCOUNT, FRIEND
from tests.tools import ethers


def handled(endpoint, method: str) -> list[dict]:
    return [e for e in endpoint.events() if e.get("event") == "request" and e.get("method") == method]


async def test_a_phone_rejection_makes_cast_exit_non_zero_with_user_denied(start_endpoint, anvil, foundry):
    async with start_endpoint() as (endpoint, phone):
        before = nonce(anvil, ACCOUNT)
        ran = await foundry.cast(
            "send", "--unlocked", "--from", ACCOUNT, FRIEND, "--value", "1wei", "--rpc-url", endpoint.url
        )
        assert ran.returncode != 0 and "User denied" in ran.stderr, ran.stderr
        assert (await phone.expect("request"))["method"] == "eth_sendTransaction"  # the phone was asked
        assert nonce(anvil, ACCOUNT) == before
        assert handled(endpoint, "eth_sendTransaction")


async def test_a_phone_rejection_is_action_rejected_in_ethers(start_endpoint, anvil, tmp_path):
    async with start_endpoint() as (endpoint, phone):
        before = nonce(anvil, ACCOUNT)
        for command, *args in (("sign-message", "no"), ("sign-typed-data",), ("send-transaction", FRIEND, "1")):
            ran = await ethers(endpoint.url, ACCOUNT, command, *args, home=tmp_path)
            assert ran.returncode == 1 and ran.json()["error"]["code"] == "ACTION_REJECTED", (command, ran)
        asked = [(await phone.expect("request"))["method"] for _ in range(3)]
        assert asked == ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"]
        assert nonce(anvil, ACCOUNT) == before
