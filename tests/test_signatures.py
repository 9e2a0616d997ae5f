"""Signature checks and request building: what `walletsync sign` asks for and whether the answer is real.

If these fail, `walletsync sign` reports a forged or foreign signature as
verified, crashes on a misbehaving phone's answer, or pushes a malformed
transaction to the phone instead of telling the user what is wrong.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given, settings
from hypothesis import strategies as st

from walletsync.errors import WalletsyncError
from walletsync.signatures import MalformedRequest, Verdict, build_request, read_request, verify_response

SIGNER = Account.from_key(b"\x11" * 32)
STRANGER = Account.from_key(b"\x22" * 32)
RECIPIENT = "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"

# The EIP-712 specification's example (eips.ethereum.org/EIPS/eip-712), with its published signature by "cow".
MAIL = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
        "Mail": [
            {"name": "from", "type": "Person"},
            {"name": "to", "type": "Person"},
            {"name": "contents", "type": "string"},
        ],
    },
    "primaryType": "Mail",
    "domain": {
        "name": "Ether Mail",
        "version": "1",
        "chainId": 1,
        "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
    },
    "message": {
        "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents": "Hello, Bob!",
    },
}
COW = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
COW_SIGNATURE = (
    "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
    "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562" + "1c"
)


def personal_signature(account, message: bytes) -> str:
    return "0x" + bytes(account.sign_message(encode_defunct(primitive=message)).signature).hex()


def typed_signature(account, typed: dict) -> str:
    return "0x" + bytes(account.sign_typed_data(full_message=typed).signature).hex()


# --- personal_sign --------------------------------------------------------------------


def test_personal_sign_of_hex_message_verifies():
    message = b"Log in to walletsync\nnonce: 42"
    verdict = verify_response(
        "personal_sign", ["0x" + message.hex(), SIGNER.address], personal_signature(SIGNER, message), SIGNER.address
    )
    assert verdict == Verdict(True, SIGNER.address, SIGNER.address, "signed by the session account")


def test_personal_sign_of_plain_text_verifies():
    """Some dapps send the text itself instead of its hex."""
    signature = personal_signature(SIGNER, "hello phone ✓".encode())
    verdict = verify_response("personal_sign", ["hello phone ✓", SIGNER.address], signature, SIGNER.address)
    assert verdict.verified and verdict.recovered == SIGNER.address


def test_what_build_request_asks_for_is_what_verify_checks():
    method, params = build_request(message="sign me", account=SIGNER.address)
    assert (method, params) == ("personal_sign", ["0x" + b"sign me".hex(), SIGNER.address])
    assert verify_response(method, params, personal_signature(SIGNER, b"sign me"), SIGNER.address).verified


def test_account_case_does_not_matter_and_addresses_come_back_checksummed():
    verdict = verify_response("personal_sign", ["0x00"], personal_signature(SIGNER, b"\x00"), SIGNER.address.lower())
    assert verdict.verified and verdict.account == SIGNER.address and verdict.recovered == SIGNER.address


def test_signature_by_another_key_is_a_mismatch():
    verdict = verify_response(
        "personal_sign", ["0x6869", SIGNER.address], personal_signature(STRANGER, b"hi"), SIGNER.address
    )
    assert verdict.verified is False
    assert verdict.recovered == STRANGER.address
    assert "mismatch" in verdict.reason and STRANGER.address in verdict.reason and SIGNER.address in verdict.reason


def test_signature_of_another_message_is_a_mismatch():
    verdict = verify_response("personal_sign", ["0x6869"], personal_signature(SIGNER, b"ho"), SIGNER.address)
    assert verdict.verified is False and "mismatch" in verdict.reason


def test_recovery_ids_zero_and_one_are_accepted():
    """Some wallets answer with v in {0, 1} instead of {27, 28}."""
    signature = personal_signature(SIGNER, b"v")
    low_v = signature[:-2] + format(int(signature[-2:], 16) - 27, "02x")
    assert verify_response("personal_sign", ["0x76"], low_v, SIGNER.address).verified


# --- eth_signTypedData_v4 -------------------------------------------------------------


def test_eip712_specification_example_verifies():
    """Known answer: the signature published in EIP-712 recovers to the spec's "Cow" wallet."""
    verdict = verify_response("eth_signTypedData_v4", [COW, json.dumps(MAIL)], COW_SIGNATURE, COW)
    assert verdict.verified and verdict.recovered == COW


@pytest.mark.parametrize("as_text", [True, False], ids=["json-text", "object"])
def test_typed_data_signed_by_the_account_verifies(as_text):
    typed = json.dumps(MAIL) if as_text else MAIL
    verdict = verify_response(
        "eth_signTypedData_v4", [SIGNER.address, typed], typed_signature(SIGNER, MAIL), SIGNER.address
    )
    assert verdict.verified and verdict.recovered == SIGNER.address


def test_typed_data_built_then_verified():
    method, params = build_request(typed_data=json.dumps(MAIL, indent=2), account=SIGNER.address.lower())
    assert method == "eth_signTypedData_v4" and params[0] == SIGNER.address
    assert json.loads(params[1]) == MAIL and "\n" not in params[1]
    assert verify_response(method, params, typed_signature(SIGNER, MAIL), SIGNER.address).verified


def test_typed_data_signed_by_another_key_is_a_mismatch():
    verdict = verify_response(
        "eth_signTypedData_v4", [SIGNER.address, MAIL], typed_signature(STRANGER, MAIL), SIGNER.address
    )
    assert not verdict.verified and verdict.recovered == STRANGER.address and "mismatch" in verdict.reason


def test_typed_data_with_a_changed_message_is_a_mismatch():
    changed = copy.deepcopy(MAIL)
    changed["message"]["contents"] = "Send everything to Eve"
    verdict = verify_response("eth_signTypedData_v4", [COW, changed], COW_SIGNATURE, COW)
    assert not verdict.verified and "mismatch" in verdict.reason


# --- answers that are not signatures --------------------------------------------------


@pytest.mark.parametrize(
    "result",
    [
        None,
        {},
        {"signature": "0x00"},
        123,
        ["0x"],
        "",
        "hello",
        "0x" + "zz" * 65,
        "0x" + "ab" * 64,
        "0x" + "ab" * 66,
        "ab" * 65,
        "0x" + "00" * 65,
        "0x" + "ff" * 65,
    ],
)
def test_garbage_answers_are_verdicts_not_exceptions(result):
    verdict = verify_response("personal_sign", ["0x6869", SIGNER.address], result, SIGNER.address)
    assert verdict.verified is False and verdict.recovered is None
    assert verdict.reason.startswith("not a signature: ")


def test_a_bad_recovery_id_is_not_a_signature():
    signature = personal_signature(SIGNER, b"hi")[:-2] + "05"
    verdict = verify_response("personal_sign", ["0x6869"], signature, SIGNER.address)
    assert not verdict.verified and verdict.reason.startswith("not a signature: ")


def test_unreadable_request_params_are_a_verdict():
    verdict = verify_response(
        "eth_signTypedData_v4", [SIGNER.address, "{not json"], typed_signature(SIGNER, MAIL), SIGNER.address
    )
    assert not verdict.verified and verdict.reason.startswith("cannot rebuild what was signed")


# --- eth_sendTransaction and unknown methods ------------------------------------------


@pytest.mark.parametrize("result", ["0x" + "ab" * 32, "0x" + "AB" * 32])
def test_a_well_formed_transaction_hash_is_accepted(result):
    verdict = verify_response("eth_sendTransaction", [{"from": SIGNER.address}], result, SIGNER.address)
    assert verdict == Verdict(True, None, SIGNER.address, "well-formed transaction hash")


@pytest.mark.parametrize("result", ["0x" + "ab" * 31, "ab" * 32, "0x" + "zz" * 32, None, {"hash": "0x" + "ab" * 32}])
def test_a_malformed_transaction_hash_is_refused(result):
    verdict = verify_response("eth_sendTransaction", [{}], result, SIGNER.address)
    assert verdict.verified is False and verdict.recovered is None and "not a transaction hash" in verdict.reason


def test_unknown_methods_are_not_verified():
    verdict = verify_response("eth_sign", [SIGNER.address, "0x6869"], personal_signature(SIGNER, b"hi"), SIGNER.address)
    assert verdict == Verdict(False, None, SIGNER.address, "walletsync cannot verify eth_sign")


def test_verdict_json():
    verdict = Verdict(True, SIGNER.address, SIGNER.address, "signed by the session account")
    assert verdict.to_json() == {
        "verified": True,
        "recovered": SIGNER.address,
        "account": SIGNER.address,
        "reason": "signed by the session account",
    }


# --- build_request --------------------------------------------------------------------


def test_transaction_is_normalized_and_from_filled_in():
    tx = json.dumps({"to": RECIPIENT.lower(), "value": 10**18, "gas": "0x5208", "nonce": 0, "data": "0x"})
    assert build_request(tx=tx, account=SIGNER.address) == (
        "eth_sendTransaction",
        [
            {
                "from": SIGNER.address,
                "to": RECIPIENT,
                "value": "0xde0b6b3a7640000",
                "gas": "0x5208",
                "nonce": "0x0",
                "data": "0x",
            }
        ],
    )


def test_transaction_with_matching_from_and_no_to_is_accepted():
    tx = json.dumps({"from": SIGNER.address.lower(), "data": "0x6080", "maxFeePerGas": "0x00ff"})
    method, [built] = build_request(tx=tx, account=SIGNER.address)
    assert built == {"from": SIGNER.address, "data": "0x6080", "maxFeePerGas": "0xff"}


def test_message_is_sent_as_utf8_hex():
    assert build_request(message="héllo", account=SIGNER.address)[1][0] == "0x" + "héllo".encode().hex()


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "give exactly one of --message, --typed-data or --tx"),
        ({"message": "a", "tx": "{}"}, "give exactly one of --message, --typed-data or --tx, not --message and --tx"),
        ({"message": ""}, "--message: the message is empty"),
        ({"message": "bad \udcff byte"}, "--message: the message is not valid UTF-8 text"),
        ({"typed_data": "{not json"}, "--typed-data: input is not JSON: "),
        (
            {"typed_data": "[1, 2]"},
            "--typed-data: must be a JSON object with types, primaryType, domain and message, got a list",
        ),
        (
            {"typed_data": json.dumps({k: v for k, v in MAIL.items() if k != "primaryType"})},
            "--typed-data: missing 'primaryType'",
        ),
        ({"typed_data": json.dumps({**MAIL, "domain": []})}, "--typed-data: 'domain' must be a JSON object"),
        ({"typed_data": json.dumps({**MAIL, "primaryType": "Letter"})}, "--typed-data: cannot be encoded as EIP-712: "),
        ({"typed_data": "[" * 5000}, "--typed-data: input nests too deeply"),
        ({"tx": "nope"}, "--tx: input is not JSON: "),
        ({"tx": "[]"}, "--tx: must be a JSON object, got a list"),
        ({"tx": '{"to": "0x12"}'}, "--tx: 'to' must be a 20-byte 0x address, got '0x12'"),
        (
            {"tx": json.dumps({"to": RECIPIENT.replace("b", "B", 1)})},
            "--tx: 'to' has a wrong EIP-55 checksum (a typo?)",
        ),
        ({"tx": '{"value": -1}'}, "--tx: 'value' must be between 0 and 2^256-1, got -1"),
        ({"tx": '{"value": "-0x1"}'}, "--tx: 'value' must be a 0x hex quantity or an integer, got '-0x1'"),
        ({"tx": '{"value": "100"}'}, "--tx: 'value' must be a 0x hex quantity or an integer, got '100'"),
        ({"tx": '{"gas": 1.5}'}, "--tx: 'gas' must be a 0x hex quantity or an integer, got 1.5"),
        ({"tx": '{"nonce": true}'}, "--tx: 'nonce' must be a 0x hex quantity or an integer, got True"),
        ({"tx": json.dumps({"value": 2**256})}, "--tx: 'value' must be between 0 and 2^256-1"),
        ({"tx": '{"data": "0x123"}'}, "--tx: 'data' must be 0x hex bytes, got '0x123'"),
        ({"tx": '{"gasLimit": "0x1"}'}, "--tx: unknown field 'gasLimit' (known: from, to, value, gas,"),
        ({"tx": "{}"}, "--tx: neither 'to' nor 'data': a transaction needs a recipient ('to'), or the code of a"),
        ({"tx": '{"value": "0x1", "to": null, "data": "0x"}'}, "--tx: neither 'to' nor 'data'"),
        ({"tx": '{"value": "0x1", "input": "0x"}'}, "--tx: neither 'to' nor 'data'"),
        (
            {"tx": json.dumps({"from": STRANGER.address, "to": RECIPIENT})},
            f"--tx: 'from' is {STRANGER.address}, but the session account is {SIGNER.address}",
        ),
    ],
)
def test_malformed_input_says_what_is_wrong(kwargs, expected):
    with pytest.raises(MalformedRequest) as info:
        build_request(account=SIGNER.address, **kwargs)
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, WalletsyncError) and info.value.code == "malformed_request"


def test_input_is_checked_without_an_account():
    """Bad input is found before any session is looked up: only ``from`` needs the session's account."""
    request = read_request(tx=json.dumps({"from": STRANGER.address, "to": RECIPIENT}))
    assert request.method == "eth_sendTransaction"
    with pytest.raises(MalformedRequest, match="'from' is"):
        request.params(SIGNER.address)
    assert request.params(STRANGER.address) == [{"from": STRANGER.address, "to": RECIPIENT}]
    with pytest.raises(MalformedRequest, match="neither 'to' nor 'data'"):
        read_request(tx='{"value": "0x1"}')


def test_the_account_must_be_an_address():
    with pytest.raises(MalformedRequest, match="session account must be a 0x address"):
        build_request(message="hi", account="eip155:1:" + SIGNER.address)


def test_eth_account_is_imported_lazily():
    """Loading eth-account takes about half a second; the app must not pay it at start-up."""
    code = "import sys, walletsync.signatures, walletsync.audit; print('eth_account' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- properties -----------------------------------------------------------------------

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
hex_text = st.binary(min_size=0, max_size=80).map(lambda raw: "0x" + raw.hex())
results = (
    json_value
    | hex_text
    | st.just(COW_SIGNATURE)
    | st.binary(min_size=65, max_size=65).map(lambda raw: "0x" + raw.hex())
)
mail_variants = st.builds(
    lambda contents, wallet, chain: {
        **MAIL,
        "domain": {**MAIL["domain"], "chainId": chain},
        "message": {**MAIL["message"], "contents": contents, "to": {"name": "Bob", "wallet": wallet}},
    },
    json_value,
    json_value | hex_text,
    json_value,
)
params = (
    st.lists(json_value, max_size=3)
    | json_value
    | st.tuples(st.just(COW), mail_variants | mail_variants.map(json.dumps)).map(list)
)
methods = st.sampled_from(["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction", "eth_sign"]) | st.text(
    max_size=20
)


@settings(max_examples=300, deadline=None)
@given(methods, params, results)
def test_verify_response_never_raises(method, params, result):
    verdict = verify_response(method, params, result, COW)
    assert isinstance(verdict, Verdict) and isinstance(verdict.reason, str)
    assert verdict.account == COW
    assert not verdict.verified or method in {"personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"}
    json.dumps(verdict.to_json())
