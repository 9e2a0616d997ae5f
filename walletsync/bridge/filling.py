"""Filling what a tool left out of a transaction, from the upstream node's answers.

Pure: the transaction and the node's answers in, the filled transaction out; the I/O part
(:mod:`walletsync.bridge.sending`) asks only the questions :func:`missing` says are needed. web3.py sends little
more than ``from``, ``to`` and ``value``; ethers leaves out the nonce and the fees. The phone is asked to sign
exactly what the bridge filled, so the mined transaction can be compared with it afterwards.

- nonce: the account's pending transaction count, through :class:`walletsync.bridge.nonces.Nonces` (several
  sends in flight each get the next one);
- gas: ``eth_estimateGas`` of the call, as the node answers it;
- fees: where the latest block has a base fee, EIP-1559: the priority fee from ``eth_maxPriorityFeePerGas`` (else
  the median tip of ``eth_feeHistory``), the fee cap twice the next block's base fee plus that; where it has none,
  legacy ``gasPrice`` from ``eth_gasPrice``. Fees the tool gave are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletsync.bridge.params import quantity

GWEI = 10**9
FALLBACK_PRIORITY_FEE = 1 * GWEI
"""The tip when the node can say nothing about tips (neither ``eth_maxPriorityFeePerGas`` nor fee history)."""
FEE_HISTORY_BLOCKS = 5


@dataclass(frozen=True)
class Missing:
    """What the node must be asked for."""

    nonce: bool
    gas: bool
    fees: bool


def missing(tx: dict[str, Any]) -> Missing:
    fees_given = "gasPrice" in tx or ("maxFeePerGas" in tx and "maxPriorityFeePerGas" in tx)
    return Missing(nonce="nonce" not in tx, gas="gas" not in tx, fees=not fees_given)


def estimate_call(tx: dict[str, Any]) -> dict[str, Any]:
    """The call object to estimate the transaction's gas with (its fees left out: an estimate needs none)."""
    return {name: tx[name] for name in ("from", "to", "value", "data", "nonce", "accessList") if name in tx}


def has_base_fee(block: Any) -> bool:
    """True when the latest block (``eth_getBlockByNumber("latest")``) says the chain is EIP-1559."""
    return isinstance(block, dict) and quantity(block.get("baseFeePerGas")) is not None


def eip1559_fees(tx: dict[str, Any], block: Any, history: Any, priority: Any) -> dict[str, str]:
    """``maxFeePerGas`` and ``maxPriorityFeePerGas``: the tool's where it gave them, else from the node's answers
    (``history``: ``eth_feeHistory``'s, ``priority``: ``eth_maxPriorityFeePerGas``'s; None when it failed)."""
    base = _next_base_fee(history)
    if base is None:
        base = quantity(block.get("baseFeePerGas")) if isinstance(block, dict) else None
    tip = quantity(tx.get("maxPriorityFeePerGas"))
    if tip is None:
        tip = quantity(priority)
    if tip is None:
        tip = _median_tip(history)
    if tip is None:
        tip = FALLBACK_PRIORITY_FEE
    cap = quantity(tx.get("maxFeePerGas"))
    if cap is None:
        cap = 2 * (base or 0) + tip
    return {"maxFeePerGas": hex(max(cap, tip)), "maxPriorityFeePerGas": hex(tip)}


def legacy_fees(gas_price: Any) -> dict[str, str] | None:
    """``gasPrice`` from ``eth_gasPrice``'s answer; None when it is no quantity."""
    price = quantity(gas_price)
    return None if price is None else {"gasPrice": hex(price)}


def fill(tx: dict[str, Any], *, nonce: int | None, gas: Any, fees: dict[str, str] | None) -> dict[str, Any]:
    """The transaction with the nonce, gas and fees the node gave where the tool gave none."""
    filled = dict(tx)
    if nonce is not None and "nonce" not in filled:
        filled["nonce"] = hex(nonce)
    estimate = quantity(gas)
    if estimate is not None and "gas" not in filled:
        filled["gas"] = hex(estimate)
    if fees:
        if "gasPrice" in fees:
            for name in ("maxFeePerGas", "maxPriorityFeePerGas"):
                filled.pop(name, None)
        filled.update(fees)
    return filled


def _next_base_fee(history: Any) -> int | None:
    """The next block's base fee: the last of ``baseFeePerGas`` in a fee history (one more than blocks asked)."""
    fees = history.get("baseFeePerGas") if isinstance(history, dict) else None
    if not isinstance(fees, list) or not fees:
        return None
    return quantity(fees[-1])


def _median_tip(history: Any) -> int | None:
    """The median of the 50th-percentile tips a fee history reports, if it has any."""
    rewards = history.get("reward") if isinstance(history, dict) else None
    tips = sorted(
        tip
        for row in (rewards if isinstance(rewards, list) else [])
        if isinstance(row, list) and row
        for tip in [quantity(row[0])]
        if tip is not None
    )
    return tips[len(tips) // 2] if tips else None
