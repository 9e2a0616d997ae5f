"""The little decoding policies need, until ``walletsync.decode``'s decoder is on main.

Same signatures as the decoder to come (``decode_transaction``, ``decode_typed_data``) and the same
:class:`~walletsync.decode.model.Decoded`, so the service swaps one import for the other. It reads only what a
policy counts: a transaction's native value and target, ERC-20 ``transfer``/``approve``/``transferFrom``,
``setApprovalForAll``, and the EIP-2612 and Permit2 (``PermitSingle``) typed data; any other calldata is an
unknown function (its target is then all a policy can check). An amount of 2**255 or more is unlimited, as
wallets treat it. eth-abi decodes; it is imported on first use (the app's start path stays light).
"""

from __future__ import annotations

from typing import Any

from walletsync import eth
from walletsync.chains.model import Lookup
from walletsync.decode.model import (
    NATIVE,
    UNKNOWN_FUNCTION,
    UNLIMITED_APPROVAL,
    Call,
    ChainRef,
    Decoded,
    Effect,
    RequestWarning,
)

UNLIMITED = 2**255
MAX_CALLDATA = 1 << 20

_FUNCTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "a9059cbb": ("transfer(address,uint256)", ("address", "uint256")),
    "095ea7b3": ("approve(address,uint256)", ("address", "uint256")),
    "23b872dd": ("transferFrom(address,address,uint256)", ("address", "address", "uint256")),
    "a22cb465": ("setApprovalForAll(address,bool)", ("address", "bool")),
}


def decode_transaction(
    tx: Any, chain_id: str, lookup: Lookup, *, account: str | None = None, now: int = 0
) -> Decoded | None:
    """What a transaction does to the account's assets; None if it is not a transaction object at all."""
    if not isinstance(tx, dict):
        return None
    value = _quantity(tx.get("value", 0))
    data = tx.get("data", tx.get("input")) or "0x"
    to = tx.get("to")
    if value is None or not _hex(data) or len(data) > 2 * MAX_CALLDATA + 2:
        return None
    if to is not None and not (isinstance(to, str) and eth.ADDRESS.fullmatch(to)):
        return None
    target = None if to is None else eth.checksum_address(to)
    sender = eth.checksum_address(account) if account and eth.ADDRESS.fullmatch(account) else None
    chain = _chain_ref(chain_id, lookup)
    effects: list[Effect] = []
    if value and target is not None:
        effects.append(Effect("send", chain_id, NATIVE, value, target))
    if target is None:
        call = Call(None, value, None, None, (), "create a contract", data)
        return Decoded("transaction", call.summary, chain, (call,), tuple(effects))
    if data in ("0x", "0X"):
        call = Call(target, value, None, None, (), f"send {value} to {target}")
        return Decoded("transaction", call.summary, chain, (call,), tuple(effects))
    selector, body = data[2:10].lower(), bytes.fromhex(data[10:]) if len(data) >= 10 else b""
    known = _FUNCTIONS.get(selector)
    arguments = _arguments(known[1], body) if known else None
    if known is None or arguments is None:
        call = Call(target, value, None, "0x" + selector, (), f"call an unknown function on {target}", data)
        warning = RequestWarning(UNKNOWN_FUNCTION, f"walletsync cannot read the function 0x{selector} on {target}")
        return Decoded("transaction", call.summary, chain, (call,), tuple(effects), (warning,))
    function = known[0]
    warnings: list[RequestWarning] = []
    if selector == "a9059cbb":
        effects.append(Effect("send", chain_id, target, arguments[1], eth.checksum_address(arguments[0])))
    elif selector == "095ea7b3":
        amount = None if arguments[1] >= UNLIMITED else arguments[1]
        effects.append(Effect("approve", chain_id, target, amount, eth.checksum_address(arguments[0])))
        if amount is None:
            warnings.append(RequestWarning(UNLIMITED_APPROVAL, f"unlimited approval of {target}"))
    elif selector == "23b872dd":
        if sender is not None and eth.checksum_address(arguments[0]) == sender:
            effects.append(Effect("send", chain_id, target, arguments[2], eth.checksum_address(arguments[1])))
    elif arguments[1]:  # setApprovalForAll(operator, true)
        effects.append(Effect("approve_all", chain_id, target, None, eth.checksum_address(arguments[0])))
    call = Call(target, value, function, "0x" + selector, (), f"{function} on {target}", data)
    return Decoded("transaction", call.summary, chain, (call,), tuple(effects), tuple(warnings))


def decode_typed_data(data: Any, chain_id: str, lookup: Lookup, *, now: int = 0) -> Decoded | None:
    """What typed data grants: an EIP-2612 ``Permit`` or a Permit2 ``PermitSingle``; other typed data grants
    nothing walletsync counts. None if it is not a typed-data object at all."""
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        return None
    message = data["message"]
    domain: dict[str, Any] = data["domain"] if isinstance(data.get("domain"), dict) else {}
    primary = data.get("primaryType")
    chain = _chain_ref(chain_id, lookup)
    effects: list[Effect] = []
    try:
        if primary == "Permit" and _is_address(domain.get("verifyingContract")):
            amount = _quantity(message.get("value"))
            if amount is None or not _is_address(message.get("spender")):
                return None
            token = eth.checksum_address(domain["verifyingContract"])
            spender = eth.checksum_address(message["spender"])
            effects.append(Effect("permit", chain_id, token, None if amount >= UNLIMITED else amount, spender))
        elif primary == "PermitSingle" and isinstance(message.get("details"), dict):
            details = message["details"]
            amount = _quantity(details.get("amount"))
            if amount is None or not (_is_address(details.get("token")) and _is_address(message.get("spender"))):
                return None
            token, spender = eth.checksum_address(details["token"]), eth.checksum_address(message["spender"])
            effects.append(Effect("permit", chain_id, token, None if amount >= UNLIMITED else amount, spender))
    except (TypeError, ValueError):
        return None
    return Decoded("typed_data", f"sign {str(primary)[:40]} typed data", chain, (), tuple(effects))


def _chain_ref(chain_id: str, lookup: Lookup) -> ChainRef:
    chain = lookup.chain(chain_id)
    return ChainRef(chain_id, chain.name if chain else None, chain.currency if chain else None)


def _arguments(types: tuple[str, ...], body: bytes) -> list[Any] | None:
    from eth_abi.abi import decode
    from eth_abi.exceptions import DecodingError

    try:
        return list(decode(list(types), body))
    except (DecodingError, ValueError, OverflowError):
        return None


def _quantity(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < 2**256 else None
    if isinstance(value, str) and 0 < len(value) <= 80:
        try:
            number = int(value, 16) if value[:2].lower() == "0x" else int(value, 10)
        except ValueError:
            return None
        return number if 0 <= number < 2**256 else None
    return None


def _hex(data: Any) -> bool:
    if not isinstance(data, str) or data[:2].lower() != "0x" or len(data) % 2:
        return False
    try:
        bytes.fromhex(data[2:])
    except ValueError:
        return False
    return True


def _is_address(value: Any) -> bool:
    return isinstance(value, str) and bool(eth.ADDRESS.fullmatch(value))
