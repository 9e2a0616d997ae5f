"""What an ``eth_subscribe`` asks for, checked: the part of subscriptions with no I/O (the watching is
:mod:`~walletsync.bridge.watching`'s).

Two kinds are offered, the ones tools use: ``newHeads`` (ethers' and viem's block listeners, ``tx.wait()`` on a
WebSocket provider) and ``logs`` with an ``eth_getLogs``-style filter (``address``, ``topics``). Pending
transactions are the node's mempool, which an HTTP node cannot stream: refused, saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from walletsync.bridge.jsonrpc import INVALID_PARAMS, Fault

MAX_ADDRESSES = 64
MAX_TOPICS = 4
MAX_TOPIC_CHOICES = 16
_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class Wanted:
    """One subscription's kind, and for ``logs`` the filter as the node's ``eth_getLogs`` takes it (no block range)."""

    kind: Literal["newHeads", "logs"]
    filter: dict[str, Any] | None = None


def wanted(params: Any) -> Wanted | Fault:
    """The subscription ``eth_subscribe``'s ``params`` ask for, or the fault saying what is wrong with them."""
    if not isinstance(params, list) or not params or not isinstance(params[0], str):
        return Fault(INVALID_PARAMS, 'Invalid params: eth_subscribe takes ["newHeads"] or ["logs", {address, topics}]')
    kind = params[0]
    if kind == "newHeads":
        return Wanted("newHeads") if len(params) == 1 else Fault(INVALID_PARAMS, "Invalid params: newHeads takes none")
    if kind == "logs":
        given = params[1] if len(params) > 1 else {}
        return _log_filter(given) if len(params) <= 2 else Fault(INVALID_PARAMS, "Invalid params: logs takes a filter")
    if kind in ("newPendingTransactions", "syncing"):
        return Fault(INVALID_PARAMS, f"{kind} is not offered here: subscribe to newHeads or logs")
    return Fault(INVALID_PARAMS, "Invalid params: the subscriptions offered are newHeads and logs")


def _log_filter(given: Any) -> Wanted | Fault:
    if not isinstance(given, dict) or not set(given) <= {"address", "topics"}:
        return Fault(INVALID_PARAMS, "Invalid params: a logs filter has address and topics only")
    found: dict[str, Any] = {}
    address = given.get("address")
    if address is not None:
        addresses = address if isinstance(address, list) else [address]
        if len(addresses) > MAX_ADDRESSES or not all(_is_hex(a, 20) for a in addresses):
            return Fault(INVALID_PARAMS, f"Invalid params: address is one address or a list of up to {MAX_ADDRESSES}")
        found["address"] = address
    topics = given.get("topics")
    if topics is not None:
        if not isinstance(topics, list) or len(topics) > MAX_TOPICS or not all(_topic_ok(t) for t in topics):
            return Fault(INVALID_PARAMS, f"Invalid params: topics is a list of up to {MAX_TOPICS} topics (or lists)")
        found["topics"] = topics
    return Wanted("logs", found)


def _topic_ok(topic: Any) -> bool:
    if topic is None:
        return True
    if isinstance(topic, list):
        return len(topic) <= MAX_TOPIC_CHOICES and all(_is_hex(t, 32) for t in topic)
    return _is_hex(topic, 32)


def _is_hex(value: Any, size: int) -> bool:
    return (
        isinstance(value, str) and len(value) == 2 + 2 * size and value[:2].lower() == "0x" and set(value[2:]) <= _HEX
    )
