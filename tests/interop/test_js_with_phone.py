"""The official JS SDK as the dapp, `walletsync phone` as the wallet, through a `walletsync relay`."""

from __future__ import annotations

import json

from tests.procs import JsPeer
from tests.test_phone import MESSAGE, NAMESPACES, TYPED, PhoneProcess


async def test_js_dapp_gets_a_verified_signature_from_the_phone(start_relay, log_dir):
    relay = start_relay("memory")
    dapp = await JsPeer.start(relay.url, log_dir, name="js-dapp")
    phone = None
    try:
        await dapp.send("connect", namespaces=NAMESPACES)
        uri = (await dapp.expect("uri"))["uri"]
        phone = await PhoneProcess.start(uri, relay.url, log_dir, "--approve", "--auto-approve")
        address = (await phone.expect("account"))["address"]
        assert (await phone.expect("proposal"))["peer"]["name"] == "js-dapp"
        session = await dapp.expect("session")
        assert session["peer"]["name"] == "walletsync phone"
        assert session["namespaces"]["eip155"]["accounts"] == [f"eip155:1:{address}"]
        assert (await phone.expect("session"))["topic"] == session["topic"]

        await dapp.send(
            "request", topic=session["topic"], chainId="eip155:1", method="personal_sign", params=[MESSAGE, address]
        )
        signature = (await dapp.expect("response"))["result"]
        assert (await phone.expect("response"))["result"] == signature
        await dapp.send("verify", address=address, message=MESSAGE, signature=signature)
        assert (await dapp.expect("verified"))["ok"] is True

        await dapp.send(
            "request",
            topic=session["topic"],
            chainId="eip155:1",
            method="eth_signTypedData_v4",
            params=[address, json.dumps(TYPED)],
        )
        signature = (await dapp.expect("response"))["result"]
        await dapp.send("verifyTyped", address=address, typedData=TYPED, signature=signature)
        assert (await dapp.expect("verified"))["ok"] is True

        await dapp.send("ping", topic=session["topic"])
        await dapp.expect("pong")
        await dapp.send("disconnect", topic=session["topic"])
        assert (await phone.expect("deleted"))["by"] == "peer"
        assert await phone.exit_code() == 0
    finally:
        if phone is not None:
            await phone.close()
        await dapp.close()
