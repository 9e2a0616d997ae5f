"""Each kind of call the decoder knows, against calldata built with eth-abi: its words, exact effects, warnings."""

from __future__ import annotations

import pytest

from tests.decode.registry import (
    BOB,
    DAI,
    MAX,
    ME,
    MULTICALL3,
    NFT,
    NOW,
    PERMIT2,
    ROUTER,
    STRANGER,
    USDC,
    WETH,
    SmallRegistry,
    calldata,
    hexdata,
)
from walletsync.decode.model import NATIVE, Effect, Undecodable
from walletsync.decode.transaction import MAX_CALLS, MAX_DEPTH, decode_transaction
from walletsync.decode.warning import FAR_EXPIRY_DAYS

DAY = 86_400


def decode(
    to: str | None, data: str = "0x", *, value: int = 0, account: str | None = ME, chain: str = "eip155:1", **more
):
    tx = {"to": to, "data": data, "value": hex(value), **more}
    return decode_transaction(tx, chain, SmallRegistry(), account=account, now=NOW)


def codes(decoded) -> list[str]:
    return [w.code for w in decoded.warnings]


# --- ERC-20 -------------------------------------------------------------------------------------------------------


def test_a_transfer_of_a_known_token_is_exact_and_moves_tokens_out_of_the_account():
    decoded = decode(USDC, hexdata("transfer(address,uint256)", BOB, 500_250_000))
    assert decoded.summary == "Transfer 500.25 USDC 0xA0b8…eB48 to 0xbBbB…BBbB"
    assert decoded.effects == (Effect("send", "eip155:1", USDC, 500_250_000, BOB),)
    assert decoded.warnings == ()
    (call,) = decoded.calls
    assert call.function == "transfer(address,uint256)" and call.selector == "0xa9059cbb"
    assert call.arguments == (("to", "address", BOB), ("amount", "uint256", "500250000"))


def test_a_token_the_registry_does_not_know_is_counted_in_base_units_and_called_unknown():
    decoded = decode(STRANGER, hexdata("transfer(address,uint256)", BOB, 10**30))
    assert decoded.summary == f"Transfer {10**30} base units of token 0x9999…9999 to 0xbBbB…BBbB"
    assert decoded.effects == (Effect("send", "eip155:1", STRANGER, 10**30, BOB),)
    assert codes(decoded) == ["unknown_contract"]
    assert STRANGER in decoded.warnings[0].message


@pytest.mark.parametrize(
    ("amount", "limit"), [(MAX, None), (2**255, None), (2**255 - 1, 2**255 - 1), (1_000_000, 1_000_000)]
)
def test_an_approval_is_unlimited_from_half_the_range_up(amount, limit):
    decoded = decode(USDC, hexdata("approve(address,uint256)", PERMIT2, amount))
    assert decoded.effects == (Effect("approve", "eip155:1", USDC, limit, PERMIT2),)
    if limit is None:
        assert decoded.summary == "Approve UNLIMITED USDC 0xA0b8…eB48 for 0x0000…8BA3 (Permit2)"
        assert codes(decoded) == ["unlimited_approval"]
        assert "0x0000…8BA3 (Permit2) may take all the USDC 0xA0b8…eB48 you hold" in decoded.warnings[0].message
    else:
        assert codes(decoded) == []


def test_an_approval_of_zero_revokes_and_grants_nothing():
    decoded = decode(USDC, hexdata("approve(address,uint256)", BOB, 0))
    assert decoded.summary == "Revoke the approval of 0xbBbB…BBbB for USDC 0xA0b8…eB48"
    assert decoded.effects == () and decoded.warnings == ()


def test_transfer_from_counts_only_when_the_tokens_are_the_accounts():
    mine = decode(DAI, hexdata("transferFrom(address,address,uint256)", ME, BOB, 3 * 10**18))
    assert mine.summary == "Transfer 3 DAI 0x6B17…1d0F from 0x1111…1111 (you) to 0xbBbB…BBbB"
    assert mine.effects == (Effect("send", "eip155:1", DAI, 3 * 10**18, BOB),)
    theirs = decode(DAI, hexdata("transferFrom(address,address,uint256)", STRANGER, ME, 3 * 10**18))
    assert theirs.effects == ()
    unknown_account = decode(DAI, hexdata("transferFrom(address,address,uint256)", STRANGER, BOB, 1), account=None)
    assert unknown_account.effects == (Effect("send", "eip155:1", DAI, 1, BOB),), "unknown account: counted"


def test_increase_allowance_and_an_on_chain_permit_are_approvals():
    raised = decode(USDC, hexdata("increaseAllowance(address,uint256)", BOB, 5_000_000))
    assert raised.summary == "Raise the approval of 0xbBbB…BBbB by 5 USDC 0xA0b8…eB48"
    assert raised.effects == (Effect("approve", "eip155:1", USDC, 5_000_000, BOB),)
    permit = decode(
        USDC,
        hexdata(
            "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
            ME,
            BOB,
            MAX,
            NOW + DAY,
            27,
            b"r" * 32,
            b"s" * 32,
        ),
    )
    assert permit.effects == (Effect("permit", "eip155:1", USDC, None, BOB),)
    assert codes(permit) == ["unlimited_approval"]


# --- NFTs ---------------------------------------------------------------------------------------------------------


def test_erc721_transfer_from_on_an_unknown_contract_hedges_between_amount_and_id():
    decoded = decode(NFT, hexdata("transferFrom(address,address,uint256)", ME, BOB, 7804))
    assert (
        decoded.summary
        == "Transfer 7804 (an amount, or an NFT's id) of token 0xBC4C…f13D from 0x1111…1111 (you) to 0xbBbB…BBbB"
    )
    assert codes(decoded) == ["unknown_contract"]
    assert decoded.effects[0].counterparty == BOB


@pytest.mark.parametrize(
    ("signature", "extra"),
    [("safeTransferFrom(address,address,uint256)", ()), ("safeTransferFrom(address,address,uint256,bytes)", (b"hi",))],
)
def test_erc721_safe_transfers_send_one_nft(signature, extra):
    decoded = decode(NFT, hexdata(signature, ME, BOB, 7804, *extra))
    assert decoded.summary == "Transfer NFT #7804 of 0xBC4C…f13D from 0x1111…1111 (you) to 0xbBbB…BBbB"
    assert decoded.effects == (Effect("send", "eip155:1", NFT, 1, BOB, token_id=7804),)


def test_approval_for_all_warns_and_its_revocation_does_not():
    granted = decode(NFT, hexdata("setApprovalForAll(address,bool)", BOB, True))
    assert granted.summary == "Approve 0xbBbB…BBbB for ALL your tokens of 0xBC4C…f13D"
    assert granted.effects == (Effect("approve_all", "eip155:1", NFT, None, BOB),)
    assert codes(granted) == ["unknown_contract", "approval_for_all"]
    revoked = decode(NFT, hexdata("setApprovalForAll(address,bool)", BOB, False))
    assert revoked.effects == () and codes(revoked) == ["unknown_contract"]


def test_erc1155_transfers_send_each_amount_of_each_id():
    single = decode(NFT, hexdata("safeTransferFrom(address,address,uint256,uint256,bytes)", ME, BOB, 3, 25, b""))
    assert single.summary == "Transfer 25 of token #3 of 0xBC4C…f13D from 0x1111…1111 (you) to 0xbBbB…BBbB"
    assert single.effects == (Effect("send", "eip155:1", NFT, 25, BOB, token_id=3),)
    batch = decode(
        NFT, hexdata("safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)", ME, BOB, [3, 4], [25, 1], b"")
    )
    assert batch.effects == (
        Effect("send", "eip155:1", NFT, 25, BOB, token_id=3),
        Effect("send", "eip155:1", NFT, 1, BOB, token_id=4),
    )
    assert "2 kinds of token" in batch.summary and "25 of #3, 1 of #4" in batch.summary
    uneven = decode(
        NFT, hexdata("safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)", ME, BOB, [3, 4], [25], b"")
    )
    assert uneven.effects == () and "the call would fail" in uneven.summary


# --- WETH, native value, creation ---------------------------------------------------------------------------------


def test_wrapping_and_unwrapping_eth():
    wrapped = decode(WETH, hexdata("deposit()"), value=10**18)
    assert wrapped.summary == "Wrap 1 ETH into WETH 0xC02a…6Cc2"
    assert wrapped.effects == (Effect("send", "eip155:1", NATIVE, 10**18, WETH),)
    assert wrapped.warnings == (), "the chain's WETH is a known contract"
    unwrapped = decode(WETH, hexdata("withdraw(uint256)", 5 * 10**17))
    assert unwrapped.summary == "Unwrap 0.5 WETH 0xC02a…6Cc2 into ETH" and unwrapped.effects == ()


def test_a_plain_transfer_sends_the_native_currency():
    decoded = decode(BOB, value=15 * 10**17)
    assert decoded.summary == "Send 1.5 ETH to 0xbBbB…BBbB"
    assert decoded.effects == (Effect("send", "eip155:1", NATIVE, 15 * 10**17, BOB),)
    assert decoded.warnings == (), "a plain transfer calls no contract"
    elsewhere = decode(BOB, value=15 * 10**17, chain="eip155:999")
    assert elsewhere.summary == f"Send {15 * 10**17} wei to 0xbBbB…BBbB", "an unknown chain: the smallest unit"
    assert elsewhere.chain.to_json() == {"id": "eip155:999", "name": None, "currency": None}


def test_value_sent_with_a_contract_call_is_said_and_counted():
    decoded = decode(USDC, hexdata("transfer(address,uint256)", BOB, 1), value=2)
    assert decoded.summary.endswith(", sending 0.000000000000000002 ETH with it")
    assert Effect("send", "eip155:1", NATIVE, 2, USDC) in decoded.effects


def test_a_contract_creation_warns_and_counts_its_value():
    decoded = decode(None, "0x6080604052", value=5)
    assert decoded.summary == "Create a contract from 5 bytes of code, sending it 0.000000000000000005 ETH"
    assert decoded.calls[0].to is None and decoded.calls[0].data == "0x6080604052"
    assert decoded.effects == (Effect("send", "eip155:1", NATIVE, 5, None),)
    assert codes(decoded) == ["contract_creation"]


# --- Permit2 ------------------------------------------------------------------------------------------------------


def test_a_permit2_approval_has_an_expiry_and_a_far_one_warns():
    soon = decode(PERMIT2, hexdata("approve(address,address,uint160,uint48)", USDC, ROUTER, 10**6, NOW + 3600))
    assert soon.effects == (Effect("approve", "eip155:1", USDC, 10**6, ROUTER, expiry=NOW + 3600),)
    assert soon.summary == (
        "Approve 1 USDC 0xA0b8…eB48 for 0x68b3…Fc45 (Uniswap SwapRouter02) through Permit2 "
        "until 2025-06-15 16:06 UTC (in 1 h)"
    )
    assert soon.warnings == ()
    far = decode(PERMIT2, hexdata("approve(address,address,uint160,uint48)", USDC, ROUTER, 2**160 - 1, 2**48 - 1))
    assert far.effects[0].amount is None
    assert codes(far) == ["unlimited_approval", "far_expiry"]
    assert "never expires" in far.warnings[1].message and f"{FAR_EXPIRY_DAYS} days" in far.warnings[1].message
    just_within = NOW + FAR_EXPIRY_DAYS * DAY
    assert (
        codes(decode(PERMIT2, hexdata("approve(address,address,uint160,uint48)", USDC, ROUTER, 1, just_within))) == []
    )
    beyond = NOW + FAR_EXPIRY_DAYS * DAY + 1
    assert codes(decode(PERMIT2, hexdata("approve(address,address,uint160,uint48)", USDC, ROUTER, 1, beyond))) == [
        "far_expiry"
    ]


def test_a_permit2_expiration_of_zero_ends_at_once():
    decoded = decode(PERMIT2, hexdata("approve(address,address,uint160,uint48)", USDC, ROUTER, 5, 0))
    assert decoded.effects[0].expiry == NOW and decoded.warnings == ()


def test_permit2_permits_single_and_batch():
    single = decode(
        PERMIT2,
        hexdata(
            "permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)",
            ME,
            ((USDC, 2**160 - 1, NOW + DAY, 0), ROUTER, NOW + 600),
            b"\x01" * 65,
        ),
    )
    assert single.effects == (Effect("permit", "eip155:1", USDC, None, ROUTER, expiry=NOW + DAY),)
    assert codes(single) == ["unlimited_approval"]
    assert single.summary.startswith("Submit a Permit2 permit: 0x1111…1111 (you) lets 0x68b3…Fc45")
    batch = decode(
        PERMIT2,
        hexdata(
            "permit(address,((address,uint160,uint48,uint48)[],address,uint256),bytes)",
            ME,
            ([(USDC, 10**6, NOW + DAY, 0), (DAI, 10**18, NOW + 90 * DAY, 0)], ROUTER, NOW + 600),
            b"\x01" * 65,
        ),
    )
    assert batch.effects == (
        Effect("permit", "eip155:1", USDC, 10**6, ROUTER, expiry=NOW + DAY),
        Effect("permit", "eip155:1", DAI, 10**18, ROUTER, expiry=NOW + 90 * DAY),
    )
    assert codes(batch) == ["far_expiry"] and "DAI" in batch.warnings[0].message
    someone_elses = decode(
        PERMIT2,
        hexdata(
            "permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)",
            STRANGER,
            ((USDC, 1, NOW + DAY, 0), ROUTER, NOW + 600),
            b"",
        ),
    )
    assert someone_elses.effects == ()


def test_permit2_transfers_single_and_batch():
    single = decode(PERMIT2, hexdata("transferFrom(address,address,uint160,address)", ME, BOB, 10**6, USDC))
    assert single.summary == "Transfer through Permit2: 1 USDC 0xA0b8…eB48 from 0x1111…1111 (you) to 0xbBbB…BBbB"
    assert single.effects == (Effect("send", "eip155:1", USDC, 10**6, BOB),)
    batch = decode(
        PERMIT2,
        hexdata("transferFrom((address,address,uint160,address)[])", [(ME, BOB, 1, USDC), (STRANGER, BOB, 2, DAI)]),
    )
    assert batch.effects == (Effect("send", "eip155:1", USDC, 1, BOB),), "only the account's tokens count"


# --- multicalls ---------------------------------------------------------------------------------------------------


def test_a_uniswap_multicall_opens_its_calls_as_the_accounts():
    inner = [
        calldata(
            "selfPermit(address,uint256,uint256,uint8,bytes32,bytes32)", USDC, 10**6, NOW + 60, 27, b"r" * 32, b"s" * 32
        ),
        calldata("approve(address,uint256)", BOB, MAX),
    ]
    decoded = decode(ROUTER, hexdata("multicall(uint256,bytes[])", NOW + 600, inner))
    (call,) = decoded.calls
    assert (
        call.summary
        == "2 calls to 0x68b3…Fc45 (Uniswap SwapRouter02) in one (multicall, deadline 2025-06-15 15:16 UTC)"
    )
    assert [c.function for c in call.calls] == [
        "selfPermit(address,uint256,uint256,uint8,bytes32,bytes32)",
        "approve(address,uint256)",
    ]
    assert decoded.effects == (
        Effect("permit", "eip155:1", USDC, 10**6, ROUTER),
        Effect("approve", "eip155:1", ROUTER, None, BOB),
    )
    assert decoded.summary.startswith(call.summary + ": Submit a permit letting 0x68b3…Fc45")
    plain = decode(ROUTER, hexdata("multicall(bytes[])", inner[:1]))
    assert plain.calls[0].summary == "1 call to 0x68b3…Fc45 (Uniswap SwapRouter02) in one (multicall)"


def test_multicall3_calls_as_itself_so_only_calls_naming_the_account_count():
    calls = [
        (USDC, True, calldata("transfer(address,uint256)", BOB, 5)),
        (DAI, True, calldata("transferFrom(address,address,uint256)", ME, BOB, 7)),
        (NFT, False, calldata("setApprovalForAll(address,bool)", BOB, True)),
    ]
    decoded = decode(MULTICALL3, hexdata("aggregate3((address,bool,bytes)[])", calls))
    assert decoded.effects == (Effect("send", "eip155:1", DAI, 7, BOB),)
    assert "approval_for_all" not in codes(decoded), "Multicall3's own approval is not the account's"
    assert [c.to for c in decoded.calls[0].calls] == [USDC, DAI, NFT]
    assert "made by that contract as itself" in decoded.calls[0].summary
    valued = decode(
        MULTICALL3,
        hexdata("aggregate3Value((address,bool,uint256,bytes)[])", [(BOB, False, 3, b""), (BOB, False, 4, b"")]),
        value=7,
    )
    assert valued.effects == (Effect("send", "eip155:1", NATIVE, 7, MULTICALL3),), "the account sends to Multicall3"
    assert [c.value for c in valued.calls[0].calls] == [3, 4]
    older = decode(
        MULTICALL3, hexdata("aggregate((address,bytes)[])", [(USDC, calldata("transfer(address,uint256)", BOB, 5))])
    )
    assert older.effects == () and older.calls[0].calls[0].summary.startswith("Transfer 0.000005 USDC")


def test_multicalls_nested_past_the_bound_are_not_decoded_and_say_so():
    data = calldata("transfer(address,uint256)", BOB, 1)
    for _ in range(MAX_DEPTH + 1):
        data = calldata("multicall(bytes[])", [data])
    decoded = decode(ROUTER, "0x" + data.hex())
    assert "unknown_function" in codes(decoded)
    assert any(f"nested more than {MAX_DEPTH} deep" in w.message for w in decoded.warnings)
    assert decoded.effects == (), "the transfer was never reached"


def test_no_more_than_max_calls_are_decoded():
    many = [calldata("transfer(address,uint256)", BOB, 1)] * (MAX_CALLS + 5)
    decoded = decode(USDC, hexdata("multicall(bytes[])", many))
    assert len(decoded.effects) == MAX_CALLS - 1, "the multicall itself is one of the calls"
    assert any(f"past the first {MAX_CALLS} calls" in w.message for w in decoded.warnings)


# --- unknown, malformed -------------------------------------------------------------------------------------------


def test_an_unknown_selector_is_shown_raw_and_named_from_the_bundled_list_when_it_can_be():
    named = decode(ROUTER, "0x04e45aaf" + "00" * 96)
    (call,) = named.calls
    assert call.function is None and call.selector == "0x04e45aaf" and call.data == "0x04e45aaf" + "00" * 96
    assert named.summary == "Call exactInputSingle on 0x68b3…Fc45 (Uniswap SwapRouter02)"
    assert codes(named) == ["unknown_function"] and "exactInputSingle((address" in named.warnings[0].message
    nameless = decode(ROUTER, "0xdeadbeef")
    assert nameless.summary == "Call unknown function 0xdeadbeef on 0x68b3…Fc45 (Uniswap SwapRouter02)"
    short = decode(ROUTER, "0xdead")
    assert short.calls[0].selector is None and codes(short) == ["unknown_function"]


def test_a_known_selector_whose_arguments_do_not_decode_is_unknown_too():
    truncated = hexdata("transfer(address,uint256)", BOB, 5)[:-10]
    decoded = decode(USDC, truncated)
    assert decoded.effects == () and codes(decoded) == ["unknown_function"]
    assert "do not decode" in decoded.summary and decoded.calls[0].data == truncated


def test_trailing_bytes_after_the_arguments_are_ignored_as_the_evm_does():
    decoded = decode(USDC, hexdata("transfer(address,uint256)", BOB, 5) + "cafe")
    assert decoded.effects == (Effect("send", "eip155:1", USDC, 5, BOB),)


def test_a_chain_id_in_the_transaction_that_is_not_the_requests_warns():
    decoded = decode(BOB, value=1, chainId="0x89")
    assert codes(decoded) == ["chain_mismatch"]
    assert "names chain 137" in decoded.warnings[0].message and "Ethereum (eip155:1)" in decoded.warnings[0].message
    assert codes(decode(BOB, value=1, chainId="0x1")) == []


def test_data_and_input_are_both_read_and_must_agree():
    data = hexdata("transfer(address,uint256)", BOB, 5)
    via_input = decode_transaction({"to": USDC, "input": data}, "eip155:1", SmallRegistry(), now=NOW)
    assert via_input.effects == (Effect("send", "eip155:1", USDC, 5, BOB),)
    both = {"to": USDC, "input": data, "data": data.upper().replace("0X", "0x")}
    assert decode_transaction(both, "eip155:1", SmallRegistry(), now=NOW).effects == via_input.effects
    with pytest.raises(Undecodable, match="differ"):
        decode_transaction({"to": USDC, "input": data, "data": "0x"}, "eip155:1", SmallRegistry(), now=NOW)


@pytest.mark.parametrize(
    "tx",
    [[], "tx", {"to": "0x12"}, {"to": BOB, "value": -1}, {"to": BOB, "value": True}, {"to": BOB, "data": "0xabc"}],
)
def test_what_is_not_a_transaction_is_undecodable(tx):
    with pytest.raises(Undecodable):
        decode_transaction(tx, "eip155:1", SmallRegistry(), now=NOW)


def test_the_json_document_has_the_issues_shape():
    document = decode(USDC, hexdata("approve(address,uint256)", BOB, MAX)).to_json()
    assert set(document) == {"kind", "summary", "chain", "calls", "effects", "warnings"}
    assert document["chain"] == {"id": "eip155:1", "name": "Ethereum", "currency": "ETH"}
    assert document["effects"] == [
        {
            "kind": "approve",
            "chain": "eip155:1",
            "asset": USDC,
            "amount": None,
            "counterparty": BOB,
            "expiry": None,
            "token_id": None,
        }
    ]
    assert document["calls"][0]["arguments"][1] == {"name": "amount", "type": "uint256", "value": str(MAX)}
    assert document["warnings"][0]["code"] == "unlimited_approval"
