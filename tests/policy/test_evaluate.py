"""The policy rules on requests built as dapps send them (calldata encoded with eth-abi), without a phone."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode

from tests.policy.conftest import ETH, FRIEND, PHONE, STRANGER, USDC, SmallRegistry
from walletsync.decode.model import NATIVE, OVER_CAP, RECIPIENT_NOT_ALLOWED, Call, ChainRef, Decoded
from walletsync.decode.transaction import decode_transaction
from walletsync.decode.typed_data import decode_typed_data
from walletsync.policy.evaluate import (
    DAY,
    HOUR,
    Refusal,
    Request,
    Reservation,
    Use,
    evaluate,
    warnings,
)
from walletsync.policy.model import NativeCap, Policies, Policy, TokenCap
from walletsync.service.policies import decoded_request

SESSION, OTHER = "aa" * 32, "bb" * 32
NOW = 1_700_000_000
MAX = 2**256 - 1
USDC_CAP = TokenCap("eip155:1", USDC, "USDC", 6, "500")
REGISTRY = SmallRegistry()


def calldata(selector: str, types: list[str], values: list) -> str:
    return "0x" + selector + encode(types, values).hex()


def send(value: int, to: str = FRIEND, session: str = SESSION) -> Request:
    tx = {"from": PHONE, "to": to, "value": hex(value)}
    return Request(session, "eth_sendTransaction", "eip155:1", decode_transaction(tx, "eip155:1", REGISTRY, now=NOW))


def token_call(data: str, token: str = USDC) -> Request:
    tx = {"from": PHONE, "to": token, "data": data}
    return Request(
        SESSION, "eth_sendTransaction", "eip155:1", decode_transaction(tx, "eip155:1", REGISTRY, account=PHONE, now=NOW)
    )


def transfer(units: int, to: str = FRIEND) -> Request:
    return token_call(calldata("a9059cbb", ["address", "uint256"], [to, units]))


def approve(units: int, spender: str = FRIEND) -> Request:
    return token_call(calldata("095ea7b3", ["address", "uint256"], [spender, units]))


def used(reservation: Reservation | Refusal, at: int = NOW, state="spent", session=SESSION, expiry=None) -> Use:
    assert isinstance(reservation, Reservation), reservation
    return Use(session, at, expiry or at + 300, state, reservation.amounts)


def session_policy(policy: Policy) -> Policies:
    return Policies(None, {SESSION: policy})


CAP = session_policy(Policy(native_caps=(NativeCap("*", "0.1"),)))


def test_two_sends_of_006_under_a_01_cap_the_second_refused_until_the_window_slides():
    first = evaluate(CAP, send(6 * ETH // 100), [], NOW, REGISTRY)
    assert first == Reservation({("eip155:1", NATIVE): 6 * ETH // 100})
    history = [used(first)]
    second = evaluate(CAP, send(6 * ETH // 100), history, NOW + 60, REGISTRY)
    assert isinstance(second, Refusal) and second.rule == "native_cap"
    assert "0.06 ETH on Ethereum (eip155:1) would make 0.12 ETH in 24 h" in second.message
    assert "0.04 ETH left" in second.message
    assert isinstance(evaluate(CAP, send(4 * ETH // 100), history, NOW + 60, REGISTRY), Reservation)
    assert isinstance(evaluate(CAP, send(6 * ETH // 100), history, NOW + DAY - 1, REGISTRY), Refusal)
    assert isinstance(evaluate(CAP, send(6 * ETH // 100), history, NOW + DAY, REGISTRY), Reservation)


def test_a_reservation_counts_until_its_request_expires_a_rejection_never_and_a_late_answer_again():
    first = evaluate(CAP, send(6 * ETH // 100), [], NOW, REGISTRY)
    again = send(6 * ETH // 100)
    assert isinstance(evaluate(CAP, again, [used(first, state="reserved")], NOW + 299, REGISTRY), Refusal)
    assert isinstance(evaluate(CAP, again, [used(first, state="reserved")], NOW + 300, REGISTRY), Reservation)
    assert isinstance(evaluate(CAP, again, [used(first, state="released")], NOW + 1, REGISTRY), Reservation)
    # the store reads an answer that came after the expiry as spent: it counts again
    assert isinstance(evaluate(CAP, again, [used(first, state="spent")], NOW + 400, REGISTRY), Refusal)


def test_the_all_sessions_policy_counts_every_session_and_a_session_policy_only_its_own():
    everyone = Policies(Policy(native_caps=(NativeCap("eip155:1", "0.1"),)))
    other = used(evaluate(everyone, send(6 * ETH // 100, session=OTHER), [], NOW, REGISTRY), session=OTHER)
    refused = evaluate(everyone, send(6 * ETH // 100), [other], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "native_cap" and "all-sessions policy" in refused.message
    assert isinstance(evaluate(CAP, send(6 * ETH // 100), [other], NOW, REGISTRY), Reservation)
    both = Policies(everyone.all, CAP.sessions)  # every limit of both applies: the narrower one refuses
    refused = evaluate(both, send(ETH // 10 + 1), [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and "the session's policy" in refused.message


def test_an_erc20_transfer_over_the_token_cap_is_refused_by_its_decoded_amount():
    caps = session_policy(Policy(token_caps=(USDC_CAP,)))
    first = evaluate(caps, transfer(400 * 10**6), [], NOW, REGISTRY)
    assert first == Reservation({("eip155:1", USDC): 400 * 10**6})
    refused = evaluate(caps, transfer(101 * 10**6), [used(first)], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "token_cap"
    assert "101 USDC 0xA0b8…eB48 would make 501 in 24 h" in refused.message
    assert isinstance(evaluate(caps, transfer(100 * 10**6), [used(first)], NOW, REGISTRY), Reservation)


def test_a_transfer_from_someone_else_to_the_account_spends_nothing():
    caps = session_policy(Policy(token_caps=(USDC_CAP,)))
    data = calldata("23b872dd", ["address", "address", "uint256"], [FRIEND, PHONE, 10**12])
    assert evaluate(caps, token_call(data), [], NOW, REGISTRY) == Reservation({})
    data = calldata("23b872dd", ["address", "address", "uint256"], [PHONE, FRIEND, 10**12])
    assert isinstance(evaluate(caps, token_call(data), [], NOW, REGISTRY), Refusal)


def test_approve_max_is_refused_unless_unlimited_approvals_are_allowed_and_never_under_a_cap():
    refused = evaluate(session_policy(Policy()), approve(MAX), [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "unlimited_approval"
    assert "--allow-unlimited-approvals" in refused.message
    allowed = session_policy(Policy(allow_unlimited_approvals=True))
    assert evaluate(allowed, approve(MAX), [], NOW, REGISTRY) == Reservation({})
    capped = session_policy(Policy(allow_unlimited_approvals=True, token_caps=(USDC_CAP,)))
    refused = evaluate(capped, approve(MAX), [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "token_cap"
    everyone_refuses = Policies(Policy(), allowed.sessions)  # both must allow it
    assert evaluate(everyone_refuses, approve(MAX), [], NOW, REGISTRY).rule == "unlimited_approval"  # type: ignore[union-attr]
    for_all = calldata("a22cb465", ["address", "bool"], [FRIEND, True])
    assert evaluate(session_policy(Policy()), token_call(for_all), [], NOW, REGISTRY).rule == "unlimited_approval"  # type: ignore[union-attr]


def test_an_approval_and_a_permit_count_their_allowance():
    caps = session_policy(Policy(token_caps=(USDC_CAP,)))
    assert evaluate(caps, approve(500 * 10**6), [], NOW, REGISTRY) == Reservation({("eip155:1", USDC): 500 * 10**6})
    assert isinstance(evaluate(caps, approve(500 * 10**6 + 1), [], NOW, REGISTRY), Refusal)
    permit = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": "USD Coin", "chainId": 1, "verifyingContract": USDC},
        "message": {"owner": PHONE, "spender": FRIEND, "value": str(600 * 10**6), "nonce": 0, "deadline": 2**40},
    }
    decoded = decode_typed_data(permit, "eip155:1", REGISTRY, now=NOW)
    refused = evaluate(caps, Request(SESSION, "eth_signTypedData_v4", "eip155:1", decoded), [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "token_cap"
    params = [PHONE, json.dumps(permit)]
    assert decoded_request("eth_signTypedData_v4", params, "eip155:1", PHONE, REGISTRY, NOW) == decoded


def test_the_allowlist_applies_to_the_native_recipient_the_token_recipient_and_the_spender():
    allow = session_policy(Policy(recipients=frozenset({FRIEND}), allow_unlimited_approvals=True))
    assert isinstance(evaluate(allow, send(1, to=FRIEND), [], NOW, REGISTRY), Reservation)
    refused = evaluate(allow, send(1, to=STRANGER), [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "recipient_not_allowed" and STRANGER in refused.message
    # the token contract is not the recipient: the address inside the calldata is
    assert isinstance(evaluate(allow, transfer(5, to=FRIEND), [], NOW, REGISTRY), Reservation)
    refused = evaluate(allow, transfer(5, to=STRANGER), [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "recipient_not_allowed" and STRANGER in refused.message
    refused = evaluate(allow, approve(5, spender=STRANGER), [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and "spender" in refused.message
    unknown = token_call("0xdeadbeef" + "00" * 32, token=STRANGER)
    refused = evaluate(allow, unknown, [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and "cannot read" in refused.message
    creation = {"from": PHONE, "value": "0x1", "data": "0x6000"}
    decoded = decode_transaction(creation, "eip155:1", REGISTRY, now=NOW)
    refused = evaluate(allow, Request(SESSION, "eth_sendTransaction", "eip155:1", decoded), [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "recipient_not_allowed"


def test_an_unreadable_call_on_a_capped_token_is_refused_and_increase_allowance_counts():
    caps = session_policy(Policy(token_caps=(USDC_CAP,)))
    unknown = token_call(calldata("deadbeef", ["address", "uint256"], [FRIEND, 1]))
    refused = evaluate(caps, unknown, [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "token_cap" and "cannot read" in refused.message
    increase = token_call(calldata("39509351", ["address", "uint256"], [FRIEND, 501 * 10**6]))
    refused = evaluate(caps, increase, [], NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "token_cap" and "501 USDC" in refused.message


def test_chains_methods_and_the_rate():
    policy = session_policy(
        Policy(chains=frozenset({"eip155:1"}), methods=frozenset({"personal_sign"}), max_requests_per_hour=2)
    )
    message = Request(
        SESSION, "personal_sign", "eip155:1", decoded_request("personal_sign", [], "eip155:1", PHONE, REGISTRY, NOW)
    )
    assert evaluate(policy, message, [], NOW, REGISTRY) == Reservation({})
    other_chain = Request(SESSION, "personal_sign", "eip155:137", message.decoded)
    assert evaluate(policy, other_chain, [], NOW, REGISTRY).rule == "chain_not_allowed"  # type: ignore[union-attr]
    assert evaluate(policy, send(1), [], NOW, REGISTRY).rule == "method_not_allowed"  # type: ignore[union-attr]
    history = [Use(SESSION, NOW - 10, NOW, "released"), Use(SESSION, NOW - 20, NOW, "spent")]
    refused = evaluate(policy, message, history, NOW, REGISTRY)
    assert isinstance(refused, Refusal) and refused.rule == "rate_limit"
    assert isinstance(evaluate(policy, message, history, NOW + HOUR - 10, REGISTRY), Reservation)


def test_a_method_walletsync_cannot_read_is_refused_by_a_policy_that_counts_value():
    raw = Request(
        SESSION, "eth_sign", "eip155:1", decoded_request("eth_sign", [PHONE, "0x00"], "eip155:1", PHONE, REGISTRY, NOW)
    )
    assert evaluate(session_policy(Policy()), raw, [], NOW, REGISTRY).rule == "unreadable_request"  # type: ignore[union-attr]
    lenient = session_policy(Policy(allow_unlimited_approvals=True, max_requests_per_hour=5))
    assert isinstance(evaluate(lenient, raw, [], NOW, REGISTRY), Reservation)
    switch = Request(SESSION, "wallet_switchEthereumChain", "eip155:1", None)
    assert isinstance(evaluate(session_policy(Policy()), switch, [], NOW, REGISTRY), Reservation)


def test_without_a_policy_everything_passes_and_is_still_counted():
    assert evaluate(Policies(), send(5 * ETH), [], NOW, REGISTRY) == Reservation({("eip155:1", NATIVE): 5 * ETH})
    assert evaluate(Policies(), approve(MAX), [], NOW, REGISTRY) == Reservation({})


def test_policy_warnings_for_decode():
    policy = session_policy(Policy(native_caps=(NativeCap("*", "0.1"),), recipients=frozenset({FRIEND})))
    found = warnings(policy, send(ETH, to=STRANGER), [], NOW, REGISTRY)
    assert [w.code for w in found] == [RECIPIENT_NOT_ALLOWED, OVER_CAP]
    assert warnings(policy, send(1, to=FRIEND), [], NOW, REGISTRY) == ()


@pytest.mark.parametrize("data", ["0x", "0xa9059cbb", "0xa9059cbb" + "ff" * 64, "0x095ea7b3" + "00" * 31])
def test_truncated_or_garbage_calldata_is_an_unknown_function_not_a_crash(data):
    decoded = decode_transaction({"to": USDC, "data": data}, "eip155:1", REGISTRY, now=NOW)
    assert decoded is not None
    assert all(e.asset != USDC for e in decoded.effects)


def test_a_function_only_named_by_a_selector_list_is_still_one_walletsync_cannot_count():
    """Decoding may name ``mint`` from its selector list without reading its effects: the policy treats it as
    unread whatever the warnings say."""
    call = Call(USDC, 0, "mint(address,uint256)", "0x40c10f19", (), "mint", "0x40c10f19")
    decoded = Decoded("transaction", "mint", ChainRef("eip155:1", None, None), (call,))
    request = Request(SESSION, "eth_sendTransaction", "eip155:1", decoded)
    assert evaluate(session_policy(Policy(token_caps=(USDC_CAP,))), request, [], NOW, REGISTRY).rule == "token_cap"  # type: ignore[union-attr]
    allow = session_policy(Policy(recipients=frozenset({FRIEND})))
    assert evaluate(allow, request, [], NOW, REGISTRY).rule == "recipient_not_allowed"  # type: ignore[union-attr]
