"""walletsync's own engine and transport against the official JS SDK, in both roles."""

from __future__ import annotations

import pytest

from tests.procs import JsPeer
from tests.pypeer import TEST_ADDRESS, py_peer, recover_personal, sign_personal
from walletsync.protocol import events as ev
from walletsync.protocol.jsonrpc import sdk_error

NAMESPACES = {
    "eip155": {
        "chains": ["eip155:1"],
        "methods": ["personal_sign", "eth_sendTransaction"],
        "events": ["chainChanged", "accountsChanged"],
    }
}
MESSAGE = "0x68656c6c6f20776f726c64"


@pytest.mark.parametrize("handshake", ["relay", "legacy"])
async def test_walletsync_dapp_with_js_wallet(start_relay, log_dir, handshake):
    """walletsync proposes, the JS wallet approves and signs; the signature recovers to the JS wallet's account."""
    relay = start_relay("memory")
    wallet = await JsPeer.start(relay.url, log_dir, name="js-wallet", flags=("--auto-approve", "--auto-sign"))
    dapp = await py_peer(relay.url, "py-dapp", handshake=handshake)
    try:
        events = await dapp.run(dapp.engine.connect(dapp.now(), optional_namespaces=NAMESPACES))
        uri = next(e for e in events if isinstance(e, ev.PairingCreated)).uri
        await wallet.send("pair", uri=str(uri))
        session = (await dapp.next_event(ev.SessionSettled)).session
        assert session.peer_metadata["name"] == "js-wallet"
        (account,) = session.accounts
        address = account.split(":")[2]
        assert address == wallet.events[0]["address"]
        await wallet.expect("session")

        await dapp.run(dapp.engine.request(session.topic, "eip155:1", "personal_sign", [MESSAGE, address], dapp.now()))
        answered = await dapp.next_event((ev.RequestAnswered, ev.RequestFailed))
        assert isinstance(answered, ev.RequestAnswered)
        assert recover_personal(MESSAGE, answered.result) == address

        await dapp.run(dapp.engine.ping(session.topic, dapp.now()))
        assert (await dapp.next_event(ev.Acknowledged)).method == "wc_sessionPing"
        await dapp.run(dapp.engine.disconnect(session.topic, dapp.now()))
        assert (await wallet.expect("delete"))["topic"] == session.topic
    finally:
        await dapp.close()
        await wallet.close()


@pytest.mark.parametrize("handshake", ["relay", "legacy"])
async def test_js_dapp_with_walletsync_wallet(start_relay, log_dir, handshake):
    """The JS dapp proposes, walletsync approves and signs; the JS SDK verifies the signature."""
    relay = start_relay("memory")
    dapp = await JsPeer.start(relay.url, log_dir, name="js-dapp")
    wallet = await py_peer(relay.url, "py-wallet", handshake=handshake)
    try:
        await dapp.send("connect", namespaces=NAMESPACES)
        uri = (await dapp.expect("uri"))["uri"]
        await wallet.run(wallet.engine.pair(uri, wallet.now()))
        proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
        assert proposal.proposer_metadata["name"] == "js-dapp"
        granted = {
            "eip155": {
                "chains": ["eip155:1"],
                "accounts": [f"eip155:1:{TEST_ADDRESS}"],
                "methods": NAMESPACES["eip155"]["methods"],
                "events": NAMESPACES["eip155"]["events"],
            }
        }
        await wallet.run(wallet.engine.approve(proposal.id, granted, wallet.now()))
        topic = (await dapp.expect("session"))["topic"]
        ack = await wallet.next_event(ev.Acknowledged)
        assert (ack.topic, ack.method, ack.error) == (topic, "wc_sessionSettle", None)

        await dapp.send(
            "request", topic=topic, chainId="eip155:1", method="personal_sign", params=[MESSAGE, TEST_ADDRESS]
        )
        request = await wallet.next_event(ev.SessionRequestReceived)
        assert (request.method, request.params[0]) == ("personal_sign", MESSAGE)
        await wallet.run(wallet.engine.respond(topic, request.id, wallet.now(), result=sign_personal(MESSAGE)))
        signature = (await dapp.expect("response"))["result"]
        await dapp.send("verify", address=TEST_ADDRESS, message=MESSAGE, signature=signature)
        assert (await dapp.expect("verified"))["ok"] is True

        await dapp.send(
            "request",
            topic=topic,
            chainId="eip155:1",
            method="eth_sendTransaction",
            params=[{"from": TEST_ADDRESS, "to": TEST_ADDRESS, "value": "0x0"}],
        )
        request = await wallet.next_event(ev.SessionRequestReceived)
        await wallet.run(wallet.engine.respond(topic, request.id, wallet.now(), error=sdk_error("USER_REJECTED")))
        assert (await dapp.expect("response"))["error"]["code"] == 5000

        await wallet.run(wallet.engine.emit(topic, "eip155:1", "chainChanged", 1, wallet.now()))
        assert (await dapp.expect("event"))["params"]["event"]["name"] == "chainChanged"
        await dapp.send("ping", topic=topic)
        await wallet.next_event(ev.SessionPinged)
        await dapp.expect("pong")

        await dapp.send("disconnect", topic=topic)
        deleted = await wallet.next_event(ev.SessionDeleted)
        assert (deleted.topic, deleted.code, deleted.by) == (topic, 6000, "peer")
    finally:
        await wallet.close()
        await dapp.close()


async def test_js_wallet_rejecting_the_proposal(start_relay, log_dir):
    relay = start_relay("memory")
    wallet = await JsPeer.start(relay.url, log_dir, name="js-wallet", flags=("--auto-reject",))
    dapp = await py_peer(relay.url, "py-dapp")
    try:
        events = await dapp.run(dapp.engine.connect(dapp.now(), optional_namespaces=NAMESPACES))
        await wallet.send("pair", uri=str(next(e for e in events if isinstance(e, ev.PairingCreated)).uri))
        rejected = await dapp.next_event(ev.ProposalRejected)
        assert (rejected.error.code, rejected.error.message) == (5000, "User rejected.")
    finally:
        await dapp.close()
        await wallet.close()
