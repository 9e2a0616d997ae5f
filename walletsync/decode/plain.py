"""ABI-decoded values as JSON-able ones: what ``Call.arguments`` holds and ``decode --json`` prints."""

from __future__ import annotations

from typing import Any

from walletsync import eth


def plain(abi_type: str, value: Any) -> Any:
    """``value`` of ``abi_type`` for JSON: integers as decimal strings (exact past 2**53), bytes as 0x hex,
    addresses checksummed, tuples and arrays as lists."""
    from eth_abi.grammar import parse

    return _plain(parse(abi_type), value)


def _plain(kind: Any, value: Any) -> Any:
    if kind.is_array:
        return [_plain(kind.item_type, item) for item in value]
    if getattr(kind, "components", None) is not None:
        return [_plain(component, item) for component, item in zip(kind.components, value)]
    if kind.base == "address":
        return eth.checksum_address(str(value))
    if kind.base == "bool":
        return bool(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int):
        return str(value)
    return value
