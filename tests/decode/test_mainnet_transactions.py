"""Real mainnet transactions, decoded: a USDC transfer, an unlimited approval, a Uniswap multicall, an NFT
approval for all, and a WETH withdrawal with a stray trailing byte.

fixtures/mainnet.json has them as ``eth_getTransactionByHash`` returns them. Each is first proved genuine here:
re-encoded, its keccak is the hash it was published with, and its signature recovers its ``from`` — so the
calldata decoded is exactly what was signed and sent on chain 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_checksum_address

from tests.decode.registry import NOW, USDC, WETH, SmallRegistry
from walletsync.decode.model import Effect
from walletsync.decode.transaction import decode_transaction

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "mainnet.json").read_text())["transactions"]
QUANTITIES = ("chainId", "nonce", "gas", "maxFeePerGas", "maxPriorityFeePerGas", "value", "v", "r", "s", "type")


def _decoded(name: str):
    tx = FIXTURES[name]
    return decode_transaction(
        {"from": tx["from"], "to": tx["to"], "value": tx["value"], "input": tx["input"], "chainId": tx["chainId"]},
        "eip155:1",
        SmallRegistry(),
        now=NOW,
    )


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_fixture_is_the_signed_transaction_it_claims_to_be(name):
    tx = FIXTURES[name]
    fields = {k: int(v, 16) for k, v in tx.items() if k in QUANTITIES}
    signed = TypedTransaction.from_dict(
        {**fields, "to": to_checksum_address(tx["to"]), "data": tx["input"], "accessList": tx["accessList"]}
    ).encode()
    assert "0x" + keccak(signed).hex() == tx["hash"]
    assert Account.recover_transaction(signed).lower() == tx["from"]


def test_a_usdc_transfer():
    """0x375a65193952fbcfead0b6188c910dafc00c3af0f6091a1b637d49f30d34e63d"""
    decoded = _decoded("usdc_transfer")
    to = "0xfd8de82Dd656a001Dc200152d8BDfE99B844B65f"
    assert decoded.summary == "Transfer 7993.9968 USDC 0xA0b8…eB48 to 0xfd8d…B65f"
    assert decoded.effects == (Effect("send", "eip155:1", USDC, 7_993_996_800, to),)
    assert decoded.warnings == ()


def test_an_unlimited_approval():
    """0xb2bee04ab14f4b74270d611a481e47550992f2f1ee637b4861be1494e0513ded: approve(spender, 2**256-1) of a token
    this registry does not list."""
    decoded = _decoded("unlimited_approve")
    token, spender = "0xD31a59c85aE9D8edEFeC411D448f90841571b89c", "0xD1ca1F4dBB645710f5D5a9917AA984a47524f49A"
    assert decoded.summary == "Approve UNLIMITED token 0xD31a…b89c for 0xD1ca…f49A"
    assert decoded.effects == (Effect("approve", "eip155:1", token, None, spender),)
    assert [w.code for w in decoded.warnings] == ["unknown_contract", "unlimited_approval"]


def test_a_uniswap_multicall():
    """0xb4392ab71fbc5ffb17dba3fd48fbd8bee3e505d11796b0b4eb6e67af0ded81f4: SwapRouter02's
    multicall(deadline, [exactInputSingle(...)]): opened, its swap named from the bundled list but not decoded."""
    decoded = _decoded("uniswap_multicall")
    (call,) = decoded.calls
    assert call.function == "multicall(uint256,bytes[])"
    assert (
        call.summary == "1 call to 0x68b3…Fc45 (Uniswap SwapRouter02) in one (multicall, deadline 2025-06-29 08:43 UTC)"
    )
    (swap,) = call.calls
    assert swap.selector == "0x04e45aaf" and swap.function is None and swap.data.startswith("0x04e45aaf")
    assert swap.summary == "Call exactInputSingle on 0x68b3…Fc45 (Uniswap SwapRouter02)"
    assert [w.code for w in decoded.warnings] == ["unknown_function"]
    assert "exactInputSingle((address,address,uint24,address,uint256,uint256,uint160))" in decoded.warnings[0].message
    assert decoded.effects == ()


def test_an_nft_approval_for_all():
    """0x20ea0eb2a3a3928ccfa86246fdf5f1f4ddd8c98a04f67ace5e149e22ecfe6b3a: setApprovalForAll(OpenSea's conduit,
    true)."""
    decoded = _decoded("nft_approval_for_all")
    collection, operator = "0x2EE6AF0dFf3A1CE3F7E3414C52c48fd50d73691e", "0x1E0049783F008A0085193E00003D00cd54003c71"
    assert decoded.summary == "Approve 0x1E00…3c71 for ALL your tokens of 0x2EE6…691e"
    assert decoded.effects == (Effect("approve_all", "eip155:1", collection, None, operator),)
    assert [w.code for w in decoded.warnings] == ["unknown_contract", "approval_for_all"]


def test_a_weth_withdrawal_with_a_trailing_byte():
    """0xd204de779284ed1eeab03e96f8863d50b21350233fe380f6c5d8063e40ad7292: withdraw(wad) with one byte more than
    its argument, which the EVM ignores, and so does the decoder."""
    assert len(bytes.fromhex(FIXTURES["weth_withdraw"]["input"][2:])) == 4 + 32 + 1
    decoded = _decoded("weth_withdraw")
    assert decoded.calls[0].to == WETH
    assert decoded.summary == "Unwrap 0.000538815 WETH 0xC02a…6Cc2 into ETH"
    assert decoded.effects == () and decoded.warnings == ()
