"""Typed data: EIP-712's own example as a tree, EIP-2612 and DAI permits, Permit2's messages as Uniswap's SDK builds
them (each checked against the SDK's published hash first), the chain check and the bounds."""

from __future__ import annotations

import copy
import json

import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from tests.decode.registry import BOB, DAI, MAX, ME, NOW, PERMIT2, ROUTER, USDC, SmallRegistry
from tests.procs import REPO
from walletsync.decode.model import Effect, Undecodable
from walletsync.decode.typed_data import MAX_DEPTH, MAX_NODES, decode_typed_data

DAY = 86_400
ZERO = "0x0000000000000000000000000000000000000000"
MAIL = json.loads((REPO / "examples" / "mail.json").read_text())
EIP712_MAIL_HASH = "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"


def typed_hash(typed: dict) -> str:
    signable = encode_typed_data(full_message=typed)
    return "0x" + keccak(b"\x19" + signable.version + signable.header + signable.body).hex()


def decode(typed, chain: str = "eip155:1"):
    return decode_typed_data(typed, chain, SmallRegistry(), now=NOW)


def codes(decoded) -> list[str]:
    return [w.code for w in decoded.warnings]


# --- EIP-712's example --------------------------------------------------------------------------------------------


def test_the_eip712_mail_example_is_a_tree_of_its_signed_fields():
    assert typed_hash(MAIL) == EIP712_MAIL_HASH, "the file is EIP-712's own example"
    decoded = decode(MAIL)
    assert decoded.kind == "typed_data" and decoded.effects == () and decoded.warnings == () and decoded.calls == ()
    assert decoded.summary == "Sign Mail for 'Ether Mail' at 0xCcCC…cccC (EIP-712 typed data)"
    person = lambda name, wallet: [  # noqa: E731
        {"name": "name", "type": "string", "value": name},
        {"name": "wallet", "type": "address", "value": wallet},
    ]
    assert decoded.tree == {
        "name": "message",
        "type": "Mail",
        "fields": [
            {"name": "from", "type": "Person", "fields": person("Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")},
            {"name": "to", "type": "Person", "fields": person("Bob", "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB")},
            {"name": "contents", "type": "string", "value": "Hello, Bob!"},
        ],
    }
    assert decoded.to_json()["tree"] == decoded.tree
    assert decode(json.dumps(MAIL)).tree == decoded.tree, "JSON text is read too"


def test_a_domain_on_another_chain_is_a_chain_mismatch():
    decoded = decode(MAIL, "eip155:137")
    assert codes(decoded) == ["chain_mismatch"]
    assert decoded.warnings[0].message == (
        "chain mismatch: the typed data's domain names chain 1, but the request is for Polygon (eip155:137)"
    )
    for written in ("0x1", "1", 1):
        same = copy.deepcopy(MAIL)
        same["domain"]["chainId"] = written
        assert codes(decode(same)) == [], written


def test_only_signed_fields_are_shown_and_strings_stay_exact():
    typed = copy.deepcopy(MAIL)
    typed["message"]["contents"] = "Hi\x1b[2J\u202eBob"
    typed["message"]["unsigned"] = "not part of any type: not signed"
    decoded = decode(typed)
    assert [f["name"] for f in decoded.tree["fields"]] == ["from", "to", "contents"]
    assert decoded.tree["fields"][2]["value"] == "Hi\x1b[2J\u202eBob", "escaping is the printer's job"


# --- EIP-2612 and DAI ---------------------------------------------------------------------------------------------


def eip2612(value: int, deadline: int) -> dict:
    """An EIP-2612 permit for USDC, typed as the EIP specifies (USDC's domain: "USD Coin", version "2")."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
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
        "domain": {"name": "USD Coin", "version": "2", "chainId": 1, "verifyingContract": USDC},
        "message": {"owner": ME, "spender": ROUTER, "value": value, "nonce": 0, "deadline": deadline},
    }


def test_an_eip2612_permit_is_a_permit_effect_until_its_deadline():
    typed = eip2612(250_000_000, NOW + 1800)
    typed_hash(typed)  # EIP-712 can encode it
    decoded = decode(typed)
    assert decoded.summary == (
        "Permit 0x68b3…Fc45 (Uniswap SwapRouter02) to take 250 USDC 0xA0b8…eB48 until 2025-06-15 15:36 UTC (in 1 h) "
        "(EIP-2612)"
    )
    assert decoded.effects == (Effect("permit", "eip155:1", USDC, 250_000_000, ROUTER, expiry=NOW + 1800),)
    assert decoded.warnings == ()


def test_an_unlimited_never_ending_eip2612_permit_warns_twice():
    decoded = decode(eip2612(MAX, MAX))
    assert decoded.effects == (Effect("permit", "eip155:1", USDC, None, ROUTER, expiry=MAX),)
    assert codes(decoded) == ["unlimited_approval", "far_expiry"]
    assert "never expires" in decoded.warnings[1].message


def test_a_dai_permit_allows_everything_and_an_expiry_of_zero_is_none():
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "holder", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "nonce", "type": "uint256"},
                {"name": "expiry", "type": "uint256"},
                {"name": "allowed", "type": "bool"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": "Dai Stablecoin", "version": "1", "chainId": 1, "verifyingContract": DAI},
        "message": {"holder": ME, "spender": BOB, "nonce": 3, "expiry": 0, "allowed": True},
    }
    typed_hash(typed)
    decoded = decode(typed)
    assert decoded.effects == (Effect("permit", "eip155:1", DAI, None, BOB, expiry=None),)
    assert codes(decoded) == ["unlimited_approval", "far_expiry"]
    typed["message"]["allowed"] = False
    revoked = decode(typed)
    assert revoked.effects == () and revoked.summary.startswith("Revoke the approval of 0xbBbB…BBbB")


def test_a_message_called_permit_with_other_fields_is_shown_as_a_tree_only():
    typed = copy.deepcopy(MAIL)
    typed["types"]["Permit"] = typed["types"].pop("Mail")
    typed["primaryType"] = "Permit"
    decoded = decode(typed)
    assert decoded.effects == () and decoded.summary.startswith("Sign Permit for 'Ether Mail'")


# --- Permit2, as Uniswap's permit2-sdk builds it --------------------------------------------------------------------
# src/allowanceTransfer.test.ts and src/signatureTransfer.test.ts (Uniswap/permit2-sdk) hash these messages, with
# Permit2 at the zero address on chain 1, to the values below: the same typed data must give the same hash here.

DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
DETAILS = [
    {"name": "token", "type": "address"},
    {"name": "amount", "type": "uint160"},
    {"name": "expiration", "type": "uint48"},
    {"name": "nonce", "type": "uint48"},
]
TOKEN_PERMISSIONS = [{"name": "token", "type": "address"}, {"name": "amount", "type": "uint256"}]
TRANSFER_FIELDS = [
    {"name": "spender", "type": "address"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


def permit2(primary: str, types: dict, message: dict, contract: str = ZERO) -> dict:
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, **types},
        "primaryType": primary,
        "domain": {"name": "Permit2", "chainId": 1, "verifyingContract": contract},
        "message": message,
    }


def permit_single(details: dict, spender: str = ZERO, contract: str = ZERO, deadline: int = 0) -> dict:
    types = {
        "PermitSingle": [
            {"name": "details", "type": "PermitDetails"},
            {"name": "spender", "type": "address"},
            {"name": "sigDeadline", "type": "uint256"},
        ],
        "PermitDetails": DETAILS,
    }
    return permit2("PermitSingle", types, {"details": details, "spender": spender, "sigDeadline": deadline}, contract)


def permit_batch(details: list[dict], spender: str = ZERO, contract: str = ZERO) -> dict:
    types = {
        "PermitBatch": [
            {"name": "details", "type": "PermitDetails[]"},
            {"name": "spender", "type": "address"},
            {"name": "sigDeadline", "type": "uint256"},
        ],
        "PermitDetails": DETAILS,
    }
    return permit2("PermitBatch", types, {"details": details, "spender": spender, "sigDeadline": 0}, contract)


def transfer_from(primary: str, permitted, witness: bool = False, contract: str = ZERO) -> dict:
    batch = "Batch" in primary
    fields = [{"name": "permitted", "type": "TokenPermissions[]" if batch else "TokenPermissions"}, *TRANSFER_FIELDS]
    types = {primary: fields, "TokenPermissions": TOKEN_PERMISSIONS}
    message = {"permitted": permitted, "spender": ZERO, "nonce": 0, "deadline": 0}
    if witness:
        fields.append({"name": "witness", "type": "MockWitness"})
        types["MockWitness"] = [{"name": "mock", "type": "uint256"}]
        message["witness"] = {"mock": "0x" + "00" * 32}
    return permit2(primary, types, message, contract)


NOTHING = {"token": ZERO, "amount": 0, "expiration": 0, "nonce": 0}
NO_TOKEN = {"token": ZERO, "amount": 0}


@pytest.mark.parametrize(
    ("typed", "sdk_hash"),
    [
        (permit_single(NOTHING), "0xd47437bffdbc4d123a2165feb6ca646b8700c038622ce304f84e9048bc744f36"),
        (permit_batch([NOTHING]), "0x49642ada5f77eb9458f8265eb01fed2684c2f25d50534fea3efdf2cf395deb2f"),
        (
            transfer_from("PermitTransferFrom", NO_TOKEN),
            "0xb9bf9813799d7f0de28d2142b0bc80ec289d4a6a5b9f41834149df4188804dc5",
        ),
        (
            transfer_from("PermitWitnessTransferFrom", NO_TOKEN, witness=True),
            "0x4236a4a7b3e8e65dbb4cc758ef10dc4887e2959853fb615140d0f5e0ae7be7c9",
        ),
        (
            transfer_from("PermitBatchTransferFrom", [NO_TOKEN]),
            "0x5ba40c5ba725fec181e4a862c717adf91682b012ad01ea99a978189106d66923",
        ),
        (
            transfer_from("PermitBatchWitnessTransferFrom", [NO_TOKEN], witness=True),
            "0xb45d605b0a4d4f16930a4f48294d94c78f34411278fd3133626cc190273e3ccf",
        ),
    ],
)
def test_permit2s_sdk_messages_are_recognised(typed, sdk_hash):
    assert typed_hash(typed) == sdk_hash
    decoded = decode(typed)
    assert len(decoded.effects) == 1 and decoded.effects[0].kind == "permit"
    assert decoded.effects[0].asset == ZERO and decoded.effects[0].amount == 0
    assert "unknown_contract" in codes(decoded), "the SDK's tests put Permit2 at the zero address"


def test_a_permit_single_for_the_real_permit2():
    details = {"token": USDC, "amount": 2**160 - 1, "expiration": 2**48 - 1, "nonce": 5}
    decoded = decode(permit_single(details, ROUTER, PERMIT2, NOW + 1800))
    assert decoded.effects == (Effect("permit", "eip155:1", USDC, None, ROUTER, expiry=2**48 - 1),)
    assert codes(decoded) == ["unlimited_approval", "far_expiry"]
    assert decoded.summary == (
        "Permit 0x68b3…Fc45 (Uniswap SwapRouter02) to take UNLIMITED USDC 0xA0b8…eB48 until never through Permit2"
    )
    limited = {"token": USDC, "amount": 10**6, "expiration": NOW + 7 * DAY, "nonce": 5}
    assert codes(decode(permit_single(limited, ROUTER, PERMIT2))) == []
    at_once = {"token": USDC, "amount": 10**6, "expiration": 0, "nonce": 5}
    assert decode(permit_single(at_once, ROUTER, PERMIT2)).effects[0].expiry == NOW


def test_a_permit_batch_gives_one_effect_per_token():
    details = [
        {"token": USDC, "amount": 10**6, "expiration": NOW + DAY, "nonce": 0},
        {"token": DAI, "amount": 10**18, "expiration": NOW + 365 * DAY, "nonce": 0},
    ]
    decoded = decode(permit_batch(details, ROUTER, PERMIT2))
    assert [(e.asset, e.amount, e.expiry) for e in decoded.effects] == [
        (USDC, 10**6, NOW + DAY),
        (DAI, 10**18, NOW + 365 * DAY),
    ]
    assert codes(decoded) == ["far_expiry"] and "DAI 0x6B17…1d0F" in decoded.warnings[0].message


def test_a_signature_transfer_is_a_one_time_permit_until_its_deadline():
    typed = transfer_from(
        "PermitWitnessTransferFrom", {"token": USDC, "amount": 5 * 10**6}, witness=True, contract=PERMIT2
    )
    typed["message"].update(spender=ROUTER, deadline=NOW + 600)
    decoded = decode(typed)
    assert decoded.effects == (Effect("permit", "eip155:1", USDC, 5 * 10**6, ROUTER, expiry=NOW + 600),)
    assert decoded.warnings == ()
    assert "to transfer once 5 USDC 0xA0b8…eB48" in decoded.summary and "with a witness" in decoded.summary


# --- bounds and malformed typed data --------------------------------------------------------------------------------


def test_nesting_deeper_than_the_bound_is_undecodable():
    typed = {
        "types": {"EIP712Domain": [], "Node": [{"name": "next", "type": "Node[]"}]},
        "primaryType": "Node",
        "domain": {},
        "message": {"next": []},
    }
    node = typed["message"]
    for _ in range(MAX_DEPTH):
        child = {"next": []}
        node["next"].append(child)
        node = child
    with pytest.raises(Undecodable, match="nested more than"):
        decode(typed)


def test_more_items_than_the_bound_is_undecodable():
    typed = {
        "types": {"EIP712Domain": [], "Many": [{"name": "items", "type": "uint8[]"}]},
        "primaryType": "Many",
        "domain": {},
        "message": {"items": [1] * MAX_NODES},
    }
    with pytest.raises(Undecodable, match=f"more than {MAX_NODES}"):
        decode(typed)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.pop("types"),
        lambda t: t.update(primaryType="Nope"),
        lambda t: t["message"].pop("contents"),
        lambda t: t["message"].update(contents=5),
        lambda t: t["message"]["from"].update(wallet="0x12"),
        lambda t: t["types"]["Mail"].append({"name": "x", "type": "Undefined"}),
        lambda t: t["types"].update(Mail="not a list"),
        lambda t: t["domain"].update(chainId="one"),
    ],
)
def test_typed_data_eip712_could_not_encode_is_undecodable(change):
    typed = copy.deepcopy(MAIL)
    change(typed)
    with pytest.raises(Undecodable):
        decode(typed)


def test_json_text_that_is_not_typed_data_is_undecodable():
    for text in ("{not json", "[1, 2]", "3", "[" * 5000 + "]" * 5000):
        with pytest.raises(Undecodable):
            decode(text)
