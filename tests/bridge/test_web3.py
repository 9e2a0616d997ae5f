"""web3.py through the bridge, as a developer uses it: the reference phone signs (and broadcasts to anvil), anvil is
the upstream node, and the answers check out on chain and by recovery."""

from __future__ import annotations

import asyncio
import json

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from web3 import AsyncHTTPProvider, AsyncWeb3, HTTPProvider, Web3
from web3.exceptions import Web3RPCError

from tests.bridge.conftest import PHONE, bridged
from tests.policy.conftest import FRIEND
from tests.test_phone import TYPED
from walletsync.bridge.events import TransactionMined


def web3(url: str) -> AsyncWeb3:
    return AsyncWeb3(AsyncHTTPProvider(url, request_kwargs={"timeout": 120}))


async def test_send_transaction_with_only_from_to_value_mines_and_signatures_recover(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url, "--auto-approve", "--rpc", anvil.url) as b:
        w3 = web3(b.url)
        assert await w3.eth.chain_id == 1
        assert await w3.eth.accounts == [PHONE]
        before = await w3.eth.get_balance(FRIEND)
        tx_hash = await w3.eth.send_transaction({"from": PHONE, "to": FRIEND, "value": 12345})
        receipt = await w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        assert receipt["status"] == 1
        assert await w3.eth.get_balance(FRIEND) == before + 12345
        mined = await b.reported(TransactionMined)  # and as asked: nothing altered
        assert mined.hash == "0x" + bytes(tx_hash).hex()

        signature = await w3.provider.make_request("personal_sign", ["0x" + b"hello bridge".hex(), PHONE])
        recovered = Account.recover_message(encode_defunct(b"hello bridge"), signature=signature["result"])
        assert recovered == PHONE

        # web3.py's eth_signTypedData, asked of the phone as v4 (sync Web3: AsyncWeb3 8's formatter breaks on a dict)
        sync = Web3(HTTPProvider(b.url, request_kwargs={"timeout": 120}))
        typed = await asyncio.to_thread(sync.eth.sign_typed_data, PHONE, TYPED)
        assert Account.recover_message(encode_typed_data(full_message=TYPED), signature=typed) == PHONE

        # ethers' order: [address, JSON text]
        answer = await w3.provider.make_request("eth_signTypedData_v4", [PHONE, json.dumps(TYPED)])
        assert Account.recover_message(encode_typed_data(full_message=TYPED), signature=answer["result"]) == PHONE

        rows = [e for e in b.companion.audit_entries() if e.kind == "request_pushed"]
        assert len(rows) == 4 and all(r.data["via"]["via"] == "rpc" for r in rows)
        assert all(r.data["via"]["peer"].startswith("127.0.0.1:") for r in rows)

        with pytest.raises(Web3RPCError) as refused:
            await w3.eth.sign(PHONE, text="raw hash signing")  # eth_sign
        assert refused.value.rpc_response["error"]["code"] == 4200
