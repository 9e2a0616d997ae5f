"""Reading calldata with eth-abi, within bounds a hostile request cannot stretch.

eth-abi does the decoding (walletsync writes no ABI codec). What this adds is a bound: ABI heads are
pointers, and a few kilobytes of calldata can point a thousand times at the same large ``bytes``, which a plain
decode would copy a thousand times. Here every ``bytes`` value read counts against a budget of the calldata's
own length (an honest encoding never holds more ``bytes`` content than its own size), and a decode that goes
over it is refused like any other malformed calldata.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

from walletsync import eth

if TYPE_CHECKING:
    from eth_abi.codec import ABICodec

MAX_CALLDATA = 128 * 1024
"""Calldata longer than this (in bytes) is not decoded: it is shown raw, as unknown."""

_budget: ContextVar[list[int]] = ContextVar("_budget")


class Undecoded(ValueError):
    """The bytes do not decode as the types given (truncated, bad padding, or over the budget)."""


def selector(signature: str) -> str:
    """``transfer(address,uint256)`` → ``0xa9059cbb``: the first four bytes of the signature's keccak."""
    return "0x" + eth.keccak256(signature.encode("ascii"))[:4].hex()


@cache
def _codec() -> ABICodec:
    """eth-abi's codec with its registry's ``bytes`` decoder replaced by one that spends the budget."""
    from eth_abi.codec import ABICodec
    from eth_abi.decoding import ByteStringDecoder
    from eth_abi.encoding import ByteStringEncoder
    from eth_abi.registry import BaseEquals, registry

    class BudgetedBytes(ByteStringDecoder):
        def read_data_from_stream(self, stream: Any) -> bytes:
            data: bytes = super().read_data_from_stream(stream)  # type: ignore[no-untyped-call]
            left = _budget.get()
            left[0] -= len(data)
            if left[0] < 0:
                raise Undecoded("the calldata's bytes values overlap (more bytes read than the calldata holds)")
            return data

    bounded = registry.copy()  # type: ignore[no-untyped-call]
    bounded.unregister("bytes")
    bytes_type = BaseEquals("bytes", with_sub=False)  # type: ignore[no-untyped-call]
    bounded.register(bytes_type, ByteStringEncoder, BudgetedBytes, label="bytes")
    return ABICodec(bounded)


def decode_arguments(types: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """``data`` (the calldata after its selector) read as ``types``; :class:`Undecoded` when it does not fit."""
    if len(data) > MAX_CALLDATA:
        raise Undecoded(f"the calldata is longer than {MAX_CALLDATA} bytes")
    token = _budget.set([len(data)])
    try:
        return _codec().decode(list(types), data)
    except Undecoded:
        raise
    except Exception as exc:  # eth-abi's decoding errors, and whatever a hostile layout provokes in it
        raise Undecoded(str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__) from None
    finally:
        _budget.reset(token)
