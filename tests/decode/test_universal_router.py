"""Uniswap's Universal Router: ``execute`` plans as Uniswap's SDK builds them (inputs laid out as the router's
Dispatcher documents them, encoded by eth-abi), decoded into words and the effects policies count: what the
account pays (a swap it pays for, a Permit2 permit or transfer from it), not what the router pays on."""

from __future__ import annotations

from eth_abi import encode
from hypothesis import given
from hypothesis import strategies as st

from tests.decode.registry import ME, NOW, USDC, WETH, SmallRegistry, hexdata
from walletsync.decode.model import NATIVE, Effect
from walletsync.decode.transaction import decode_transaction

UR = "0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD"
"""Universal Router 1.2 on Ethereum."""
EXECUTE = "execute(bytes,bytes[],uint256)"
MSG_SENDER, ADDRESS_THIS = "0x" + "00" * 19 + "01", "0x" + "00" * 19 + "02"
CONTRACT_BALANCE = 1 << 255
DEADLINE = NOW + 1800
ETHER = 10**18
SWAP_V3 = ["address", "uint256", "uint256", "bytes", "bool"]
SWAP_V2 = ["address", "uint256", "uint256", "address[]", "bool"]
PERMIT_SINGLE = "((address,uint160,uint48,uint48),address,uint256)"


def path(*hops: object) -> bytes:
    """A packed V3 path: token, fee (3 bytes), token, …"""
    return b"".join(bytes.fromhex(h[2:]) if isinstance(h, str) else h.to_bytes(3, "big") for h in hops)


def execute(plan: list[tuple[int, list[str], list[object]]], *, value: int = 0, deadline: int | None = DEADLINE):
    commands = bytes(kind for kind, _, _ in plan)
    inputs = [encode(types, args) for _, types, args in plan]
    data = (
        hexdata(EXECUTE, commands, inputs, deadline)
        if deadline
        else hexdata("execute(bytes,bytes[])", commands, inputs)
    )
    tx = {"to": UR, "data": data, "value": hex(value)}
    return decode_transaction(tx, "eip155:1", SmallRegistry(), account=ME, now=NOW)


def test_eth_for_usdc_on_v3_pays_only_the_value_sent():
    """The SDK's ETH → token swap: wrap the value for the router, swap the router's WETH, output to the caller."""
    decoded = execute(
        [
            (0x0B, ["address", "uint256"], [ADDRESS_THIS, ETHER]),
            (0x00, SWAP_V3, [MSG_SENDER, ETHER, 3_000 * 10**6, path(WETH, 500, USDC), False]),
        ],
        value=ETHER,
    )
    assert decoded.effects == (Effect("send", "eip155:1", NATIVE, ETHER, UR),)
    assert decoded.summary.startswith(
        "Run 2 commands on Uniswap's Universal Router 0x3fC9…7FAD (Uniswap Universal Router), deadline "
    )
    assert "wrap 1 ETH into the wrapped native token for the router (for the next command)" in decoded.summary
    assert (
        "swap 1 WETH 0xC02a…6Cc2 (from the router's balance) for at least 3000 USDC 0xA0b8…eB48 on Uniswap V3, to you"
        in decoded.summary
    )
    assert decoded.warnings == ()  # a router walletsync knows, every command decoded


def test_usdc_for_eth_with_a_permit_counts_the_permit_and_the_usdc_paid():
    """Permit2 permit for the router, a V3 swap the account pays for, the router's WETH unwrapped to the caller."""
    expiry = NOW + 30 * 86_400
    decoded = execute(
        [
            (0x0A, [PERMIT_SINGLE, "bytes"], [((USDC, 1_000 * 10**6, expiry, 0), UR, NOW + 1800), b"\x01" * 65]),
            (0x00, SWAP_V3, [ADDRESS_THIS, 1_000 * 10**6, 3 * 10**17, path(USDC, 500, WETH), True]),
            (0x0C, ["address", "uint256"], [MSG_SENDER, 3 * 10**17]),
        ]
    )
    assert decoded.effects == (
        Effect("permit", "eip155:1", USDC, 1_000 * 10**6, UR, expiry=expiry),
        Effect("send", "eip155:1", USDC, 1_000 * 10**6, UR),
    )
    assert "swap 1000 USDC 0xA0b8…eB48 (paid by you) for at least 0.3 WETH" in decoded.summary
    assert "unwrap the router's wrapped native token (at least 0.3 ETH) for you" in decoded.summary


def test_exact_output_swaps_count_the_most_that_may_be_paid_and_read_v3_paths_backwards():
    v3 = execute([(0x01, SWAP_V3, [MSG_SENDER, 2_000 * 10**6, ETHER, path(USDC, 3000, WETH), True])])
    assert v3.effects == (Effect("send", "eip155:1", WETH, ETHER, UR),)
    assert "swap at most 1 WETH 0xC02a…6Cc2 (paid by you) for 2000 USDC 0xA0b8…eB48 on Uniswap V3" in v3.summary
    v2 = execute([(0x09, SWAP_V2, [MSG_SENDER, ETHER, 4_000 * 10**6, [USDC, WETH], True])])
    assert v2.effects == (Effect("send", "eip155:1", USDC, 4_000 * 10**6, UR),)
    assert "swap at most 4000 USDC 0xA0b8…eB48 (paid by you) for 1 WETH 0xC02a…6Cc2 on Uniswap V2" in v2.summary


def test_swap_inputs_of_router_2_1_with_their_extra_field_read_the_same():
    five = [MSG_SENDER, ETHER, 1, path(WETH, 500, USDC), True]
    newer = execute([(0x00, [*SWAP_V3, "uint256[]"], [*five, [10**36]])], deadline=None)
    assert newer.effects == execute([(0x00, SWAP_V3, five)]).effects == (Effect("send", "eip155:1", WETH, ETHER, UR),)


def test_what_is_not_decoded_is_a_warning_never_a_silent_pass():
    v4 = execute([(0x10, ["bytes"], [b"\x00" * 64])])
    assert [w.code for w in v4.warnings].count("unknown_function") == 1
    assert "Universal Router command 0x10" in v4.warnings[-1].message and "router's version" in v4.warnings[-1].message
    mismatch = decode_transaction(
        {"to": UR, "data": hexdata(EXECUTE, b"\x00\x0b", [b""], DEADLINE)},
        "eip155:1",
        SmallRegistry(),
        account=ME,
        now=NOW,
    )
    assert "unknown_function" in [w.code for w in mismatch.warnings] and mismatch.effects == ()
    broken = execute([(0x00, ["uint256"], [5])])
    assert "does not decode" in broken.warnings[-1].message and broken.effects == ()
    allowed = execute([(0x80 | 0x0B, ["address", "uint256"], [ADDRESS_THIS, 5])])
    assert "(allowed to fail)" in allowed.summary


@given(st.binary(max_size=12), st.lists(st.binary(max_size=300), max_size=12))
def test_any_plan_decodes_to_words_without_raising(commands, inputs):
    data = hexdata(EXECUTE, commands, inputs, DEADLINE)
    decoded = decode_transaction({"to": UR, "data": data}, "eip155:1", SmallRegistry(), account=ME, now=NOW)
    assert decoded.summary.startswith("Run ")
