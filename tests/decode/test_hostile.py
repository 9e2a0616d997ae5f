"""Whatever a dapp sends, decoding answers: a result ("unknown" where it cannot read) or a typed error, never a crash,
and never more work than the request's size allows."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.decode.registry import BOB, ME, NOW, ROUTER, USDC, SmallRegistry, calldata
from walletsync.decode.functions import FUNCTIONS
from walletsync.decode.model import Decoded, Undecodable
from walletsync.decode.transaction import decode_transaction
from walletsync.decode.typed_data import decode_typed_data

SELECTORS = [bytes.fromhex(s[2:]) for s in FUNCTIONS]
ADDRESSES = st.sampled_from([USDC, ROUTER, BOB, ME, "0x" + "00" * 20])


def _decode_tx(tx) -> Decoded | None:
    try:
        decoded = decode_transaction(tx, "eip155:1", SmallRegistry(), account=ME, now=NOW)
    except Undecodable:
        return None
    json.dumps(decoded.to_json())  # the --json document can always be written
    return decoded


# Words of 32 bytes that make ABI heads interesting: small offsets, lengths, zero, all ones.
WORDS = st.one_of(
    st.integers(0, 2**10).map(lambda n: n.to_bytes(32, "big")),
    st.just(b"\xff" * 32),
    st.binary(min_size=32, max_size=32),
)


@st.composite
def calldata_like(draw) -> bytes:
    """A known selector followed by random ABI-ish words (and a ragged tail), or plain random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    head = draw(st.sampled_from(SELECTORS))
    return head + b"".join(draw(st.lists(WORDS, max_size=24))) + draw(st.binary(max_size=31))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=calldata_like(), to=ADDRESSES, value=st.integers(0, 2**256 - 1))
def test_random_calldata_decodes_or_is_unknown(data, to, value):
    decoded = _decode_tx({"to": to, "data": "0x" + data.hex(), "value": hex(value)})
    assert decoded is not None, "a well-formed transaction is always decoded"
    assert decoded.summary and len(decoded.calls) == 1


@settings(max_examples=150, deadline=None)
@given(inner=st.lists(calldata_like(), max_size=6), nest=st.integers(0, 6))
def test_random_calls_inside_multicalls_decode_or_are_unknown(inner, nest):
    data = calldata("multicall(bytes[])", inner)
    for _ in range(nest):
        data = calldata("aggregate3((address,bool,bytes)[])", [(USDC, True, data)])
    assert _decode_tx({"to": ROUTER, "data": "0x" + data.hex()}) is not None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(tx=JSON)
def test_random_json_as_a_transaction_is_decoded_or_undecodable(tx):
    _decode_tx(tx)


TYPE_NAMES = st.sampled_from(["address", "uint256", "uint8", "int16", "bool", "string", "bytes", "bytes4", "S", "T[]"])


@st.composite
def typed_data_like(draw):
    """Typed data whose types and message only partly agree: the decoder must sort out every mismatch."""
    fields = st.lists(st.fixed_dictionaries({"name": st.sampled_from("abcd"), "type": TYPE_NAMES}), max_size=4)
    types = {"EIP712Domain": draw(fields), "S": draw(fields), "T": draw(fields)}
    message = draw(st.dictionaries(st.sampled_from("abcd"), JSON, max_size=4))
    domain = draw(st.dictionaries(st.sampled_from(["name", "chainId", "verifyingContract", "a"]), JSON, max_size=3))
    return {
        "types": types,
        "primaryType": draw(st.sampled_from(["S", "T", "Nope"])),
        "domain": domain,
        "message": message,
    }


@settings(max_examples=400, deadline=None)
@given(typed=st.one_of(typed_data_like(), JSON))
def test_random_typed_data_is_decoded_or_undecodable(typed):
    try:
        decoded = decode_typed_data(typed, "eip155:1", SmallRegistry(), now=NOW)
    except Undecodable:
        return
    json.dumps(decoded.to_json())


def test_overlapping_abi_pointers_cannot_multiply_the_work():
    """A thousand heads pointing at one 60 kB ``bytes``: 90 kB of calldata that a plain decode would turn into 60 MB."""
    count, size = 1000, 60_000
    heads = b"".join((32 * count).to_bytes(32, "big") for _ in range(count))
    array = (32).to_bytes(32, "big") + count.to_bytes(32, "big") + heads + size.to_bytes(32, "big") + b"\x01" * size
    data = "0xac9650d8" + array.hex()  # multicall(bytes[])
    started = time.perf_counter()
    decoded = _decode_tx({"to": ROUTER, "data": data})
    assert time.perf_counter() - started < 5
    assert decoded is not None and decoded.calls[0].function == "multicall(bytes[])"
    assert "overlap" in decoded.warnings[-1].message and decoded.calls[0].calls == ()


def test_calldata_past_the_size_bound_is_shown_raw():
    from walletsync.decode.abi import MAX_CALLDATA

    data = calldata("multicall(bytes[])", [b"\x00" * MAX_CALLDATA])
    decoded = _decode_tx({"to": ROUTER, "data": "0x" + data.hex()})
    assert decoded is not None and decoded.effects == ()
    assert "longer than" in decoded.warnings[-1].message
