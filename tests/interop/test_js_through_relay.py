"""The official JS SDK (dapp and wallet) completes a whole session through `walletsync relay`."""

from __future__ import annotations

import pytest

from tests.procs import JsPeer

NAMESPACES = {
    "eip155": {
        "chains": ["eip155:1"],
        "methods": ["personal_sign", "eth_signTypedData_v4"],
        "events": ["chainChanged", "accountsChanged"],
    }
}


async def js_session(relay_url: str, log_dir, *, sdk: str = "current", dapp_url: str | None = None):
    """A JS dapp and a JS wallet paired through the relay(s); returns (dapp, wallet, topic)."""
    dapp = await JsPeer.start(dapp_url or relay_url, log_dir, name=f"dapp-{sdk}", sdk=sdk)
    wallet = await JsPeer.start(
        relay_url, log_dir, name=f"wallet-{sdk}", sdk=sdk, flags=("--auto-approve", "--auto-sign")
    )
    await dapp.send("connect", namespaces=NAMESPACES)
    uri = (await dapp.expect("uri"))["uri"]
    await wallet.send("pair", uri=uri)
    session = await dapp.expect("session", timeout=30)
    await wallet.expect("session")
    return dapp, wallet, session["topic"]


async def full_flow(relay_url: str, log_dir, *, sdk: str = "current", dapp_url: str | None = None) -> None:
    dapp, wallet, topic = await js_session(relay_url, log_dir, sdk=sdk, dapp_url=dapp_url)
    try:
        address = wallet.events[0]["address"]
        await dapp.send(
            "request", topic=topic, chainId="eip155:1", method="personal_sign", params=["0x68656c6c6f", address]
        )
        signature = (await dapp.expect("response"))["result"]
        await dapp.send("verify", address=address, message="0x68656c6c6f", signature=signature)
        assert (await dapp.expect("verified"))["ok"] is True
        await dapp.send("ping", topic=topic)
        await dapp.expect("pong")
        await wallet.expect("ping")
        await dapp.send("disconnect", topic=topic)
        await dapp.expect("disconnected")
        deleted = await wallet.expect("delete")
        assert deleted["topic"] == topic
    finally:
        await dapp.close()
        await wallet.close()


@pytest.mark.parametrize("store", ["memory", "sqlite", "redis"])
async def test_js_dapp_and_wallet_full_session(start_relay, log_dir, store):
    relay = start_relay(store)
    await full_flow(relay.url, log_dir)
    calls = relay.log_path.read_text()
    assert "wc_proposeSession" in calls and "wc_approveSession" in calls, (
        "SDK 2.25 handshakes through the relay methods"
    )


async def test_legacy_sdk_handshake_over_irn_publish(start_relay, log_dir):
    """sign-client 2.21.5 proposes and approves with irn_publish, not wc_proposeSession."""
    relay = start_relay("sqlite")
    await full_flow(relay.url, log_dir, sdk="legacy")
    calls = relay.log_path.read_text()
    assert "irn_publish" in calls and "tag=1100" in calls and "tag=1101" in calls
    assert "wc_proposeSession" not in calls and "wc_approveSession" not in calls


async def test_two_relays_on_one_redis(start_relay, log_dir):
    """Dapp on node A, wallet on node B: the whole flow crosses nodes through Redis."""
    node_a, node_b = start_relay("redis"), start_relay("redis")
    await full_flow(node_b.url, log_dir, dapp_url=node_a.url)
