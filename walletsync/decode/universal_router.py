"""Uniswap's Universal Router: ``execute(commands, inputs[, deadline])`` split into its commands, each input read
as the router's ``Dispatcher`` reads it (its "equivalent: abi.decode(inputs, (…))" layouts, decoded by eth-abi).

``commands`` holds one byte per command: the low seven bits its kind, ``0x80`` "may fail without undoing the rest".
The kinds below 0x10 mean the same on every version of the router (v1 to v2.1, 0x07 and 0x0f were unused before
v2); from 0x10 on they differ between versions (Seaport orders on v1, Uniswap v4 swaps on v2), so they are left
undecoded, said as such. Swap inputs gained a trailing ``uint256[]`` in v2.1; reading the first fields by their
layout serves both.

Pure: what each command means in words and effects is :mod:`~walletsync.decode.functions`' business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from walletsync.decode.abi import Undecoded, decode_arguments

KIND_MASK = 0x7F
MAY_FAIL = 0x80
MAX_COMMANDS = 64
"""Commands read at most (the router's own plans have a handful)."""
MSG_SENDER = "0x0000000000000000000000000000000000000001"
"""A recipient meaning "whoever called execute" (the account)."""
ADDRESS_THIS = "0x0000000000000000000000000000000000000002"
"""A recipient meaning "the router itself" (kept for the next command)."""
ETH = "0x0000000000000000000000000000000000000000"
"""A token meaning the native currency (in transfers, sweeps and portions)."""
CONTRACT_BALANCE = 1 << 255
"""An amount meaning "all the router holds of it now"."""

_DETAILS = "(address,uint160,uint48,uint48)"
_SWAP_V3 = ("address", "uint256", "uint256", "bytes", "bool")
_SWAP_V2 = ("address", "uint256", "uint256", "address[]", "bool")
_MOVE = ("address", "address", "uint256")
LAYOUTS: dict[int, tuple[str, tuple[str, ...]]] = {
    0x00: ("v3_swap_exact_in", _SWAP_V3),
    0x01: ("v3_swap_exact_out", _SWAP_V3),
    0x02: ("permit2_transfer_from", ("address", "address", "uint160")),
    0x03: ("permit2_permit_batch", (f"({_DETAILS}[],address,uint256)", "bytes")),
    0x04: ("sweep", _MOVE),
    0x05: ("transfer", _MOVE),
    0x06: ("pay_portion", _MOVE),
    0x07: ("pay_portion_full_precision", _MOVE),
    0x08: ("v2_swap_exact_in", _SWAP_V2),
    0x09: ("v2_swap_exact_out", _SWAP_V2),
    0x0A: ("permit2_permit", (f"({_DETAILS},address,uint256)", "bytes")),
    0x0B: ("wrap_eth", ("address", "uint256")),
    0x0C: ("unwrap_weth", ("address", "uint256")),
    0x0D: ("permit2_transfer_from_batch", ("(address,address,uint160,address)[]",)),
    0x0E: ("balance_check_erc20", _MOVE),
    0x0F: ("unwrap_weth_exact", ("address", "uint256")),
}
"""Each stable command kind: its name and its input's types, as the Dispatcher documents them."""


@dataclass(frozen=True)
class Command:
    """One command: its kind (``0x00``–``0x7f``), name and input values, or why it was not read (``problem``)."""

    kind: int
    may_fail: bool
    name: str | None = None
    args: tuple[Any, ...] = ()
    problem: str | None = None


def commands(plan: bytes, inputs: Sequence[bytes]) -> list[Command]:
    """The commands of one ``execute`` (at most :data:`MAX_COMMANDS`; the router itself reverts when the two lengths
    differ, so then none is read)."""
    if len(plan) != len(inputs):
        return [Command(-1, False, problem=f"{len(plan)} commands but {len(inputs)} inputs: the router would revert")]
    read = [_command(byte, data) for byte, data in zip(plan[:MAX_COMMANDS], inputs)]
    if len(plan) > MAX_COMMANDS:
        read.append(Command(-1, False, problem=f"{len(plan) - MAX_COMMANDS} more commands, not read"))
    return read


def _command(byte: int, data: bytes) -> Command:
    kind, may_fail = byte & KIND_MASK, bool(byte & MAY_FAIL)
    known = LAYOUTS.get(kind)
    if known is None:
        return Command(kind, may_fail, problem="its meaning depends on the router's version")
    name, types = known
    try:
        return Command(kind, may_fail, name, decode_arguments(types, data))
    except Undecoded as exc:
        return Command(kind, may_fail, name, problem=f"its input does not decode ({exc})")


def v3_tokens(path: bytes) -> list[str] | None:
    """The tokens of a packed V3 path (``token fee token fee token``, 20 and 3 bytes), in the path's order; None when
    it is not one."""
    if len(path) < 43 or (len(path) - 20) % 23:
        return None
    return ["0x" + path[i : i + 20].hex() for i in range(0, len(path), 23)]
