"""The bridge's deciding parts, pure and fast: the request/batch reader and the guard (Hypothesis), param orders,
filling, nonces, asked-vs-mined, routing and the codes tools act on."""

from __future__ import annotations

import json
import string
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from walletsync.bridge import faults, filling
from walletsync.bridge.compare import differences
from walletsync.bridge.guard import Guard, loopback_address, loopback_host
from walletsync.bridge.jsonrpc import MAX_BATCH, MAX_BODY, Call, Fault, Invalid, Parsed, answer_body, parse, too_deep
from walletsync.bridge.nonces import Nonces
from walletsync.bridge.params import sign_params, transaction
from walletsync.bridge.retries import Retries, request_key
from walletsync.bridge.routing import Route, phone_method, route

A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
B = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

# --- the reader -------------------------------------------------------------------------------

ids = st.one_of(st.none(), st.integers(-(2**63), 2**63), st.text(max_size=20))
params = st.one_of(
    st.lists(st.integers() | st.text(max_size=10), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
calls = st.builds(Call, ids, st.text(string.ascii_letters + "_", min_size=1, max_size=40), params, st.booleans()).map(
    lambda call: replace(call, id=None) if call.notification else call  # a notification has no id
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(st.binary(max_size=2000))
def test_any_bytes_are_read_or_refused_never_raised(body):
    parsed = parse(body)
    assert isinstance(parsed, Parsed | Fault)


@given(json_values)
def test_any_json_is_read_into_calls_or_invalid_members_in_order(document):
    parsed = parse(json.dumps(document))
    if isinstance(parsed, Fault):
        assert parsed.code == -32600 and (document == [] or len(document) > MAX_BATCH)
        return
    assert parsed.batch == isinstance(document, list)
    assert len(parsed.items) == (len(document) if isinstance(document, list) else 1)
    for item in parsed.items:
        assert isinstance(item, Call | Invalid)
        if isinstance(item, Invalid):
            assert item.fault.code == -32600


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(json_values, st.integers(0, 6))
def test_the_nesting_bound_counts_arrays_and_objects_not_brackets_in_strings(document, limit):
    assert too_deep(json.dumps(document).encode(), limit) == (_depth(document) > limit)


@given(st.lists(calls, min_size=1, max_size=MAX_BATCH))
def test_a_batch_of_requests_reads_back_as_sent_in_order(sent):
    parsed = parse(json.dumps([c.to_json() for c in sent]))
    assert isinstance(parsed, Parsed) and parsed.batch
    assert list(parsed.items) == sent
    answers = [None if c.notification else {"id": c.id} for c in sent]
    body = answer_body(parsed, answers)
    assert body == ([a for a in answers if a is not None] or None)


def test_bounds_empty_and_too_long_batches_and_bodies():
    assert parse(b"[]") == Fault(-32600, "Invalid request: an empty batch")
    assert parse(json.dumps([Call(1, "eth_chainId").to_json()] * (MAX_BATCH + 1))).code == -32600
    assert parse(b" " * (MAX_BODY + 1)).code == -32600
    assert parse(b"{").code == -32700
    # nested too deep: Python's reader would crash the process (a segfault, found by this test), so it is refused
    assert parse(b"[" * 100_000 + b"]" * 100_000).code == -32600
    invalid = parse(json.dumps({"jsonrpc": "1.0", "id": 5, "method": "x"}))
    assert invalid.items == (Invalid(5, invalid.items[0].fault),) and invalid.items[0].fault.code == -32600
    assert parse(json.dumps({"jsonrpc": "2.0", "id": True, "method": "x"})).items[0].id is None


# --- the guard --------------------------------------------------------------------------------

hosts = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda name, port: name + (f":{port}" if port is not None else ""),
        st.sampled_from(
            ["127.0.0.1", "localhost", "LOCALHOST", "[::1]", "127.0.0.2", "evil.example", "::1", "0.0.0.0"]
        ),
        st.none() | st.integers(0, 70000),
    ),
)


@given(hosts, st.integers(1, 65535))
def test_only_loopback_names_on_our_port_pass_the_host_check(host, port):
    name, _, given_port = (
        host.rpartition(":") if host.count(":") == 1 or host.startswith("[") and "]:" in host else (host, "", "")
    )
    expected = name.lower() in ("127.0.0.1", "localhost", "[::1]") and (given_port == "" or given_port == str(port))
    assert loopback_host(host, port) == expected


@given(st.none() | hosts, st.none() | st.text(max_size=30), st.none() | st.text(max_size=30))
def test_the_guard_refuses_unless_host_origin_and_token_all_pass(host, origin, token_given):
    guard = Guard(8545, frozenset({"http://localhost:3000"}), "tok")
    authorization = None if token_given is None else f"Bearer {token_given}"
    refusal = guard.check(host, origin, authorization)
    allowed = (
        loopback_host(host, 8545)
        and (origin is None or origin.strip().rstrip("/").lower() == "http://localhost:3000")
        and token_given is not None
        and token_given.strip() == "tok"
    )
    assert (refusal is None) == allowed
    if refusal is not None:
        assert refusal.reason in ("host", "origin", "token")


def test_a_refused_host_says_whether_its_port_or_its_name_is_wrong():
    guard = Guard(8545)
    assert guard.check("localhost:3000", None, None).message == (
        "refused: the Host header names port 3000, not this endpoint's 8545"
    )
    assert "not a loopback name" in guard.check("evil.example:8545", None, None).message
    assert "not a loopback name" in guard.check(None, None, None).message


def test_listening_is_loopback_only():
    assert all(loopback_address(h) for h in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.5"))
    assert not any(loopback_address(h) for h in ("0.0.0.0", "::", "192.168.1.2", "example.com", ""))


# --- routing and params -------------------------------------------------------------------------


def test_routes_signing_families_are_refused_not_proxied():
    assert route("eth_sendTransaction") is Route.SEND and route("personal_sign") is Route.SIGN
    assert route("eth_signTypedData") is Route.SIGN and phone_method("eth_signTypedData") == "eth_signTypedData_v4"
    for method in (
        "eth_sign",
        "eth_signTransaction",
        "personal_unlockAccount",
        "eth_signTypedData_v1",
        "wallet_addEthereumChain",
    ):
        assert route(method) is Route.REFUSED, method
    assert route("eth_call") is Route.PROXY and route("anvil_mine") is Route.PROXY


def test_both_param_orders_of_personal_sign_and_typed_data():
    assert sign_params("personal_sign", ["0x6869", A.lower()], [A]) == ["0x6869", A]
    assert sign_params("personal_sign", [A, "0x6869"], [A]) == ["0x6869", A]
    typed = {"domain": {"chainId": 1}, "types": {}, "message": {}}
    as_text = sign_params("eth_signTypedData_v4", [A, json.dumps(typed)], [A])
    assert (
        as_text == sign_params("eth_signTypedData_v4", [typed, A], [A]) == [A, json.dumps(typed, separators=(",", ":"))]
    )
    assert sign_params("personal_sign", ["0x6869", B], [A]).code == 4100
    assert sign_params("eth_signTypedData", [A, [{"type": "string"}]], [A]).code == 4200


def test_a_transaction_takes_input_or_data_and_its_account_and_chain_are_checked():
    cast_like = transaction(
        [{"from": A, "to": B, "input": "0xABCD", "data": "0xabcd", "gasLimit": 21000}], [A], "eip155:1"
    )
    assert cast_like == {"from": A, "to": B, "data": "0xabcd", "gas": hex(21000)}
    assert transaction([{"to": B, "value": "0x1"}], [A], "eip155:1")["from"] == A  # no from: the session's
    assert transaction([{"from": B, "to": B}], [A], "eip155:1").code == 4100
    assert transaction([{"from": A, "to": B, "input": "0x01", "data": "0x02"}], [A], "eip155:1").code == -32602
    assert transaction([{"from": A, "to": B, "chainId": "0x89"}], [A], "eip155:1").code == -32602
    assert transaction([{"from": A, "to": B, "gasPrice": "0x1", "maxFeePerGas": "0x2"}], [A], "eip155:1").code == -32602
    assert transaction([{"from": A}], [A], "eip155:1").code == -32602  # nothing to do


# --- filling ------------------------------------------------------------------------------------


def test_fees_eip1559_where_the_block_has_a_base_fee_legacy_where_not():
    tx = {"from": A, "to": B}
    assert filling.missing(tx) == filling.Missing(nonce=True, gas=True, fees=True)
    block = {"baseFeePerGas": hex(10)}
    history = {"baseFeePerGas": [hex(9), hex(12)], "reward": [[hex(3)], [hex(5)], [hex(4)]]}
    assert filling.eip1559_fees(tx, block, history, hex(2)) == {"maxFeePerGas": hex(26), "maxPriorityFeePerGas": hex(2)}
    assert filling.eip1559_fees(tx, block, history, None) == {"maxFeePerGas": hex(28), "maxPriorityFeePerGas": hex(4)}
    assert filling.eip1559_fees(tx, block, None, None)["maxPriorityFeePerGas"] == hex(filling.FALLBACK_PRIORITY_FEE)
    given = {**tx, "maxPriorityFeePerGas": hex(7)}
    assert filling.eip1559_fees(given, block, history, hex(2))["maxPriorityFeePerGas"] == hex(7)
    assert not filling.has_base_fee({"number": "0x1"}) and filling.legacy_fees("0x5") == {"gasPrice": "0x5"}
    filled = filling.fill(tx, nonce=3, gas="0x5208", fees={"gasPrice": "0x5"})
    assert filled == {**tx, "nonce": "0x3", "gas": "0x5208", "gasPrice": "0x5"}
    assert filling.missing(filled) == filling.Missing(nonce=False, gas=False, fees=False)


def test_nonces_in_flight_are_consecutive_and_a_given_back_one_is_taken_next():
    nonces = Nonces()
    assert [nonces.take(A, 5) for _ in range(3)] == [5, 6, 7]
    nonces.give_back(A, 6)  # rejected in the middle
    assert nonces.take(A, 5) == 6
    nonces.give_back(A, 7)  # the top: handed out again next
    assert nonces.take(A, 5) == 7
    assert nonces.take(A, 20) == 20  # the node knows of more (sent elsewhere)
    nonces.saw(A, 30)  # a tool chose one itself
    assert nonces.take(A.lower(), 20) == 31


@given(st.lists(st.tuples(st.sampled_from(["take", "back"]), st.integers(0, 3)), max_size=40))
def test_nonces_never_hand_out_one_that_is_still_out(steps):
    nonces, out, pending = Nonces(), set(), 0
    for action, bump in steps:
        if action == "take":
            nonce = nonces.take(A, pending)
            assert nonce not in out and nonce >= pending
            out.add(nonce)
        elif out:
            back = sorted(out)[bump % len(out)]
            out.discard(back)
            nonces.give_back(A, back)


# --- asked vs mined, and the codes ---------------------------------------------------------------


def test_differences_between_what_was_asked_and_what_was_mined():
    asked = {
        "from": A,
        "to": B,
        "value": "0x1",
        "data": "0xab",
        "nonce": "0x2",
        "gas": "0x5208",
        "maxFeePerGas": "0x10",
        "maxPriorityFeePerGas": "0x1",
    }
    mined = {
        "from": A.lower(),
        "to": B.lower(),
        "value": "0x1",
        "input": "0xAB",
        "nonce": "0x2",
        "gas": "0x5208",
        "maxFeePerGas": "0x10",
        "maxPriorityFeePerGas": "0x1",
        "type": "0x2",
    }
    assert differences(asked, mined) == []
    changed = {**mined, "gas": "0x6000", "input": "0xcd", "to": A}
    assert [d.field for d in differences(asked, changed)] == ["to", "data", "gas"]
    legacy = {**{k: v for k, v in mined.items() if not k.startswith("max")}, "gasPrice": "0x10", "type": "0x0"}
    assert [d.field for d in differences(asked, legacy)] == ["type", "maxFeePerGas", "maxPriorityFeePerGas"]


def test_the_phone_and_walletsync_said_in_the_codes_tools_act_on():
    assert (
        faults.from_phone("eth_sendTransaction", {"code": 5000, "message": "User rejected."}).to_json()["message"]
        == "User denied transaction signature"
    )
    assert faults.from_phone("personal_sign", {"code": 5000, "message": "x"}).code == 4001
    assert faults.from_phone("personal_sign", {"code": 5101, "message": "x"}).code == 4200
    assert faults.from_phone("personal_sign", {"code": 6000, "message": "x"}).code == 4900
    assert faults.from_phone("personal_sign", {"code": -32000, "message": "nonce too low"}).code == -32603
    refused = faults.from_refusal("policy_refused", "refused by policy (native_cap): …", "native_cap")
    assert refused.code == 4100 and refused.data == {"rule": "native_cap"}
    assert faults.from_refusal("timeout", "no answer from 'phone' within 305 s").code == -32603


async def test_retries_share_a_pending_answer_and_keep_it_only_for_a_client_that_left():
    now = [0.0]
    retries = Retries(lambda: now[0], window=60)
    key = request_key("eth_sendTransaction", "eip155:1", [{"to": B.lower(), "value": "0x1"}])
    assert key == request_key("eth_sendTransaction", "eip155:1", [{"value": "0x1", "to": B}])  # hex case, key order
    assert retries.earlier(key) is None
    retries.begin(key)
    waiting = retries.earlier(key)
    retries.end(key, ("0xhash", None), keep=False)  # its client got it
    assert await waiting == ("0xhash", None) and retries.earlier(key) is None
    retries.begin(key)
    retries.end(key, ("0xhash2", None), keep=True)  # its client had gone
    assert await retries.earlier(key) == ("0xhash2", None)
    assert retries.earlier(key) is None  # one retry gets it
    retries.begin(key)
    retries.end(key, ("0xhash3", None), keep=True)
    now[0] = 61
    assert retries.earlier(key) is None  # past the window
