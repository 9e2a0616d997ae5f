"""Asked against mined: what the phone changed in a transaction it sent.

Pure. Some wallets change the nonce, the gas, the fees or even the calldata of a transaction before they sign
it. Once it is mined, :func:`differences` compares the transaction as the node has it
(``eth_getTransactionByHash``) with what the bridge asked the phone to sign, field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletsync.bridge.params import quantity

COMPARED = ("from", "to", "value", "data", "nonce", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas")


@dataclass(frozen=True)
class Difference:
    """One field the mined transaction has other than asked (values as the JSON-RPC texts, or None)."""

    field: str
    asked: Any
    mined: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "asked": self.asked, "mined": self.mined}


def differences(asked: dict[str, Any], mined: dict[str, Any]) -> list[Difference]:
    """Each field of ``asked`` (the filled transaction) that ``mined`` has otherwise; a field the tool and the
    bridge left to the phone is not compared. A legacy ``gasPrice`` asked of a transaction mined with EIP-1559
    fees (or the other way round) is a difference of its own (``type``)."""
    found: list[Difference] = []
    mined_1559 = mined.get("maxFeePerGas") is not None
    asked_1559 = "maxFeePerGas" in asked or "maxPriorityFeePerGas" in asked
    if "gasPrice" in asked and mined_1559 or asked_1559 and not mined_1559:
        found.append(Difference("type", "0x2" if asked_1559 else "0x0", mined.get("type")))
    for name in COMPARED:
        if name not in asked:
            continue
        if name == "gasPrice" and mined_1559:
            continue  # the type difference says it; a 1559 transaction's gasPrice is what it paid
        wanted, got = asked[name], mined.get("input" if name == "data" else name)
        if not _same(name, wanted, got):
            found.append(Difference(name, wanted, got))
    return found


def _same(name: str, asked: Any, mined: Any) -> bool:
    if name in ("from", "to", "data"):
        empty = "0x" if name == "data" else None
        return (asked or empty) == (mined or empty) or (
            isinstance(asked, str) and isinstance(mined, str) and asked.lower() == mined.lower()
        )
    return quantity(asked) == quantity(mined)
