"""A phone that changes a transaction before it signs it is caught once the transaction is mined: the official JS
SDK as the wallet (tests/interop/peer.mjs), signing with viem and broadcasting to anvil with more gas than asked."""

from __future__ import annotations

import asyncio

from tests.bridge.conftest import PHONE, mined, post, serve
from tests.policy.conftest import FRIEND
from tests.procs import JsPeer
from walletsync.bridge.events import TransactionAltered
from walletsync.service import Companion, Config

ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
"""anvil's first account (the reference phone's test key): funded on the node."""


async def test_a_send_the_phone_altered_is_warned_and_audited(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    flags = ("--auto-approve", "--auto-sign", "--rpc", anvil.url, "--alter-gas", "1000")
    peer = await JsPeer.start(relay.url, tmp_path, name="altering-wallet", flags=flags, key=ANVIL_KEY)
    companion = await Companion.open(Config(data_dir=str(tmp_path / "home"), relay=relay.url))
    try:
        await companion.start()
        offer = await companion.pair(name="js")
        await peer.send("pair", uri=offer.uri)
        session = await companion.wait_for_session(offer.proposal_id, 30)
        async with serve(companion, session, peer, anvil.url) as b:
            tx = {"from": PHONE, "to": FRIEND, "value": "0x1"}
            status, answer = await asyncio.to_thread(
                post, b.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction", "params": [tx]}
            )
            tx_hash = answer["result"]
            assert (await mined(anvil, tx_hash))["status"] == "0x1"
            altered = await b.reported(TransactionAltered)
            assert altered.hash == tx_hash
            assert [d["field"] for d in altered.differences] == ["gas"]
            assert int(altered.differences[0]["mined"], 16) == int(altered.differences[0]["asked"], 16) + 1000
            rows = [e for e in companion.audit_entries() if e.kind == "transaction_altered"]
            assert len(rows) == 1 and rows[0].data["hash"] == tx_hash
            assert rows[0].data["differences"] == altered.differences and rows[0].data["via"] == "rpc"
    finally:
        await companion.close()
        await peer.close()
