"""The phone wallet's Signer: every answer checked by recovering the signer with eth_account."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import keccak

from tests.fakenode import FakeNode
from walletsync.signer import Signer, SignError, WalletKeyError, summarize

MNEMONIC = "test test test test test test test test test test test junk"
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDRESS = Account.from_key(KEY).address
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TYPED = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
        ],
        "Mail": [{"name": "from", "type": "string"}, {"name": "contents", "type": "string"}],
    },
    "primaryType": "Mail",
    "domain": {"name": "walletsync test", "version": "1", "chainId": 1},
    "message": {"from": "alice", "contents": "hello"},
}


@pytest.fixture
def signer() -> Signer:
    return Signer.from_key(KEY)


@pytest.mark.parametrize(
    "path, address",
    [
        ("m/44'/60'/0'/0/0", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        ("m/44'/60'/0'/0/1", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
    ],
)
def test_mnemonic_paths_give_the_known_addresses(path, address):
    signer = Signer.from_mnemonic(MNEMONIC, path)
    assert (signer.address, signer.path) == (address, path)


def test_key_gives_its_address_and_repr_hides_it(signer):
    assert signer.address == ADDRESS and signer.path is None
    assert KEY[2:] not in repr(signer) and ADDRESS in repr(signer)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Signer.from_key("0x1234"),
        lambda: Signer.from_mnemonic("test test"),
        lambda: Signer.from_mnemonic(MNEMONIC, "m/44'/x"),
    ],
)
def test_bad_keys_are_one_typed_error(make):
    with pytest.raises(WalletKeyError):
        make()


@pytest.mark.parametrize("message, signed_bytes", [("0x68656c6c6f", b"hello"), ("hello there", b"hello there")])
def test_personal_sign_recovers_to_the_address(signer, message, signed_bytes):
    signature = signer.sign("personal_sign", [message, ADDRESS], "eip155:1")
    assert signature.startswith("0x") and len(signature) == 132
    assert Account.recover_message(encode_defunct(primitive=signed_bytes), signature=signature) == ADDRESS


def test_personal_sign_accepts_the_old_parameter_order(signer):
    signature = signer.sign("personal_sign", [ADDRESS.lower(), "0x68656c6c6f"])
    assert Account.recover_message(encode_defunct(primitive=b"hello"), signature=signature) == ADDRESS


@pytest.mark.parametrize("typed", [TYPED, json.dumps(TYPED)])
def test_typed_data_v4_recovers_to_the_address(signer, typed):
    signature = signer.sign("eth_signTypedData_v4", [ADDRESS, typed], "eip155:1")
    assert Account.recover_message(encode_typed_data(full_message=TYPED), signature=signature) == ADDRESS


def test_typed_data_for_another_chain_is_refused(signer):
    with pytest.raises(SignError) as caught:
        signer.sign("eth_signTypedData_v4", [ADDRESS, TYPED], "eip155:137")
    assert caught.value.rpc_error.code == -32602 and "eip155:1" in caught.value.rpc_error.message


@pytest.mark.parametrize(
    "method, params, code",
    [
        ("personal_sign", ["0x68656c6c6f", OTHER], 5103),
        ("eth_signTypedData_v4", [OTHER, TYPED], 5103),
        ("eth_sendTransaction", [{"from": OTHER, "to": OTHER}], 5103),
        ("eth_sign", [ADDRESS, "0x00"], 5101),
        ("personal_sign", "not a list", -32602),
        ("personal_sign", [42, ADDRESS], -32602),
        ("eth_signTypedData_v4", [ADDRESS, "{not json"], -32602),
        ("eth_sendTransaction", [{"from": ADDRESS, "to": "0x12"}], -32602),
        ("eth_sendTransaction", [{"from": ADDRESS, "to": OTHER, "value": "lots"}], -32602),
        ("eth_sendTransaction", [{"from": ADDRESS, "to": OTHER, "chainId": "0x89"}], -32602),
    ],
)
def test_refusals_carry_the_json_rpc_error(signer, method, params, code):
    with pytest.raises(SignError) as caught:
        signer.sign(method, params, "eip155:1")
    assert caught.value.rpc_error.code == code


def test_transaction_on_a_non_evm_chain_is_unsupported(signer):
    with pytest.raises(SignError) as caught:
        signer.sign("eth_sendTransaction", [{"from": ADDRESS, "to": OTHER}], "solana:mainnet")
    assert caught.value.rpc_error.code == 5100


def test_send_transaction_signs_with_defaults_and_returns_the_hash(signer):
    tx_hash = signer.sign("eth_sendTransaction", [{"from": ADDRESS, "to": OTHER.lower(), "value": "0x10"}], "eip155:10")
    expected = Account.sign_transaction(
        {
            "chainId": 10,
            "to": OTHER,
            "value": 16,
            "data": "0x",
            "nonce": 0,
            "gas": 21000,
            "maxPriorityFeePerGas": 10**9,
            "maxFeePerGas": 30 * 10**9,
        },
        KEY,
    )
    assert tx_hash == "0x" + bytes(expected.hash).hex() == "0x" + keccak(bytes(expected.raw_transaction)).hex()


def test_send_transaction_keeps_given_legacy_fields(signer):
    tx = {
        "from": ADDRESS,
        "to": OTHER,
        "value": 5,
        "gas": "0x5208",
        "gasPrice": "0x3b9aca00",
        "nonce": "0x7",
        "data": "0xabcd",
    }
    expected = Account.sign_transaction(
        {"chainId": 1, "to": OTHER, "value": 5, "data": "0xabcd", "nonce": 7, "gas": 21000, "gasPrice": 10**9}, KEY
    )
    assert signer.sign("eth_sendTransaction", [tx], "eip155:1") == "0x" + bytes(expected.hash).hex()


def test_send_transaction_with_an_rpc_fills_from_the_node_and_broadcasts():
    node = FakeNode(chain_id=1)
    try:
        signer = Signer.from_key(KEY, rpc_url=node.url)
        tx_hash = signer.sign(
            "eth_sendTransaction", [{"from": ADDRESS, "to": OTHER, "value": "0x1", "data": "0x1234"}], "eip155:1"
        )
        raw = node.raw_sent()
        assert tx_hash == "0x" + keccak(bytes.fromhex(raw[2:])).hex()
        assert Account.recover_transaction(raw) == ADDRESS
        expected = Account.sign_transaction(
            {
                "chainId": 1,
                "to": OTHER,
                "value": 1,
                "data": "0x1234",
                "nonce": 7,
                "gas": 50_000,
                "maxPriorityFeePerGas": 2 * 10**9,
                "maxFeePerGas": 12 * 10**9,
            },
            KEY,
        )
        assert raw[2:] == bytes(expected.raw_transaction).hex()
    finally:
        node.server.shutdown()


def test_an_rpc_on_another_chain_is_refused_before_signing():
    node = FakeNode(chain_id=137)
    try:
        with pytest.raises(SignError) as caught:
            Signer.from_key(KEY, rpc_url=node.url).sign(
                "eth_sendTransaction", [{"from": ADDRESS, "to": OTHER}], "eip155:1"
            )
        assert caught.value.rpc_error.code == 5100
        assert not [c for c in node.calls if c["method"] == "eth_sendRawTransaction"]
    finally:
        node.server.shutdown()


def test_an_unreachable_rpc_is_a_node_error():
    with pytest.raises(SignError) as caught:
        Signer.from_key(KEY, rpc_url="http://127.0.0.1:9").sign(
            "eth_sendTransaction", [{"from": ADDRESS, "to": OTHER}], "eip155:1"
        )
    assert caught.value.rpc_error.code == -32000


@pytest.mark.parametrize(
    "method, params, expected",
    [
        ("personal_sign", ["0x68656c6c6f", ADDRESS], "sign message 'hello'"),
        ("eth_signTypedData_v4", [ADDRESS, json.dumps(TYPED)], "sign typed data Mail for walletsync test (chain 1)"),
        (
            "eth_sendTransaction",
            [{"to": OTHER, "value": "0x10", "data": "0xabcd"}],
            f"send 16 wei to {OTHER} with 2 bytes of data",
        ),
    ],
)
def test_summaries_say_what_is_asked(method, params, expected):
    assert summarize(method, params) == expected


def test_sends_at_once_through_a_node_get_distinct_nonces_and_are_all_mined(anvil):
    """Six transactions signed in parallel threads (as the reference phone answers requests): each takes the next
    nonce, so the node accepts and mines every one (no "nonce too low")."""
    signer = Signer.from_mnemonic(MNEMONIC, rpc_url=anvil.url)
    before = anvil.balance(OTHER)
    tx = {"from": signer.address, "to": OTHER, "value": hex(10**15)}
    with ThreadPoolExecutor(6) as pool:
        hashes = list(pool.map(lambda _: signer.sign("eth_sendTransaction", [tx], "eip155:1"), range(6)))
    receipts = [anvil.call("eth_getTransactionReceipt", h) for h in hashes]
    assert [r["status"] for r in receipts] == ["0x1"] * 6
    nonces = sorted(int(anvil.call("eth_getTransactionByHash", h)["nonce"], 16) for h in hashes)
    assert nonces == list(range(nonces[0], nonces[0] + 6))
    assert anvil.balance(OTHER) - before == 6 * 10**15
