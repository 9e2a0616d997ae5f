"""A tool's signing request, read into what the phone is asked: the account checked, the order and names settled.

Pure. Tools disagree on the details: ``personal_sign`` comes as ``[message, address]`` (the standard, ethers) or
``[address, message]`` (older tools); ``eth_signTypedData_v4`` as ``[address, typedData]`` with the typed data a
JSON string (ethers) or an object (web3.py), and some send ``[typedData, address]``; a transaction names its
calldata ``data`` or ``input`` (cast sends both). The phone gets one form: ``[message, address]``,
``[address, JSON text]`` and a transaction with ``data``. The account must be one of the session's on the
current chain (4100 otherwise: the tool asked for an account this endpoint does not have).
"""

from __future__ import annotations

import json
from typing import Any

from walletsync.bridge.jsonrpc import INVALID_PARAMS, UNAUTHORIZED, UNSUPPORTED_METHOD, Fault

QUANTITIES = ("value", "gas", "nonce", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "chainId")
MAX_UINT256 = 2**256 - 1
FEES_1559 = ("maxFeePerGas", "maxPriorityFeePerGas")


def _invalid(message: str) -> Fault:
    return Fault(INVALID_PARAMS, f"Invalid params: {message}")


def is_address(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 42
        and value[:2].lower() == "0x"
        and all(c in "0123456789abcdefABCDEF" for c in value[2:])
    )


def _account(value: Any, accounts: list[str]) -> str | Fault:
    """``value`` as the session's account it names (checksummed), or 4100."""
    for account in accounts:
        if isinstance(value, str) and value.lower() == account.lower():
            return account
    shown = str(value)[:42] if is_address(value) else "the request's account"
    return Fault(UNAUTHORIZED, f"{shown} is not an account of this session on this chain")


def sign_params(method: str, params: Any, accounts: list[str]) -> list[Any] | Fault:
    """The params the phone is asked to sign with: ``personal_sign``'s, or typed data's (any typed-data method: the
    phone is asked for v4)."""
    if not isinstance(params, list) or len(params) < 2:
        return _invalid(f"{method} takes two params: an account and what to sign")
    first, second = params[0], params[1]
    if method == "personal_sign":
        message, address = (second, first) if is_address(first) and not is_address(second) else (first, second)
        if not isinstance(message, str):
            return _invalid("personal_sign's message must be a string")
        account = _account(address, accounts)
        return account if isinstance(account, Fault) else [message, account]
    address, typed = (second, first) if is_address(second) and not is_address(first) else (first, second)
    account = _account(address, accounts)
    if isinstance(account, Fault):
        return account
    if isinstance(typed, str):
        try:
            typed = json.loads(typed)
        except ValueError:
            return _invalid("the typed data is not JSON")
    if isinstance(typed, list):
        return Fault(UNSUPPORTED_METHOD, "legacy typed data (an array: eth_signTypedData v1) is not supported")
    if not isinstance(typed, dict) or not isinstance(typed.get("domain"), dict):
        return _invalid("the typed data must be an object with a domain")
    return [account, json.dumps(typed, separators=(",", ":"))]


def quantity(value: Any) -> int | None:
    """A JSON-RPC quantity (``0x`` hex; a non-negative integer or decimal text tolerated) as an int; None if not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value[:2].lower() == "0x" and 2 < len(value) <= 66:
        try:
            number = int(value[2:], 16)
        except ValueError:
            return None
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 78:
        number = int(value)
    else:
        return None
    return number if 0 <= number <= MAX_UINT256 else None


def _hex_bytes(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value[:2].lower() == "0x"
        and len(value) % 2 == 0
        and all(c in "0123456789abcdefABCDEF" for c in value[2:])
    )


def transaction(params: Any, accounts: list[str], chain_id: str) -> dict[str, Any] | Fault:
    """The transaction of an ``eth_sendTransaction`` as the phone will see it (before filling): ``from`` the
    session's account (its first when the tool named none), ``data`` (from ``data`` or ``input``), ``gas`` (from
    ``gas`` or ``gasLimit``), quantities as ``0x`` hex; ``chainId`` and ``type`` dropped once checked (the
    request's chain and the fees say them)."""
    if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], dict):
        return _invalid("eth_sendTransaction takes one param: the transaction object")
    given: dict[str, Any] = params[0]
    if not accounts:
        return Fault(UNAUTHORIZED, "this session has no account on this chain")
    sender = _account(given["from"], accounts) if given.get("from") is not None else accounts[0]
    if isinstance(sender, Fault):
        return sender
    tx: dict[str, Any] = {"from": sender}
    if given.get("to") is not None:
        if not is_address(given["to"]):
            return _invalid("to must be a 20-byte 0x address")
        tx["to"] = given["to"]
    data, calldata = given.get("data"), given.get("input")
    for name, value in (("data", data), ("input", calldata)):
        if value is not None and not _hex_bytes(value):
            return _invalid(f"{name} must be 0x hex bytes")
    if data is not None and calldata is not None and data.lower() != calldata.lower():
        return _invalid("data and input differ: send one of them")
    chosen = data if data is not None else calldata
    if chosen is not None:
        tx["data"] = chosen.lower()
    if given.get("gas") is None and given.get("gasLimit") is not None:
        given = {**given, "gas": given["gasLimit"]}
    for name in QUANTITIES:
        if given.get(name) is None:
            continue
        number = quantity(given[name])
        if number is None:
            return _invalid(f"{name} must be a quantity (0x hex)")
        if name == "chainId":
            if f"eip155:{number}" != chain_id:
                return _invalid(f"the transaction is for eip155:{number}, this endpoint is on {chain_id}")
            continue
        tx[name] = hex(number)
    if "gasPrice" in tx and any(name in tx for name in FEES_1559):
        return _invalid("give gasPrice or maxFeePerGas/maxPriorityFeePerGas, not both")
    if isinstance(given.get("accessList"), list):
        tx["accessList"] = given["accessList"]
    if "to" not in tx and tx.get("data", "0x") == "0x":
        return _invalid("neither to nor data: the transaction would do nothing")
    return tx
