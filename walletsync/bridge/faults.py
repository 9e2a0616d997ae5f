"""What a tool is told when the phone (or walletsync) says no, in the codes tools act on (EIP-1193).

Pure. ethers turns an error into ``ACTION_REJECTED`` only when its code is 4001 and its message says "user
denied"; cast prints the message; web3.py raises it. So a phone's rejection (WalletConnect's 5000-5002) is
``4001 User denied …``, a policy's refusal ``4100`` naming the rule, a method the phone does not support
``4200``, a session that ended ``4900``; anything else ``-32603`` with what walletsync knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from walletsync.bridge.jsonrpc import (
    DISCONNECTED,
    INTERNAL_ERROR,
    UNAUTHORIZED,
    UNSUPPORTED_METHOD,
    USER_REJECTED,
    Fault,
)

PHONE_REJECTED = range(5000, 5003)
"""WalletConnect's "user rejected" codes (the request, its chains, its methods)."""
PHONE_UNSUPPORTED = range(5100, 5105)
SESSION_ENDED = 6000


def denied(method: str) -> Fault:
    """The phone's rejection of ``method``, as MetaMask words it (ethers looks for "user denied")."""
    what = "transaction" if method == "eth_sendTransaction" else "message"
    return Fault(USER_REJECTED, f"User denied {what} signature")


def from_phone(method: str, error: Mapping[str, Any]) -> Fault:
    """The phone's error answer to ``method``, in the tool's terms; the phone's own words stay in ``data``."""
    code, message = error.get("code"), str(error.get("message"))[:300]
    phone = {"phone_code": code, "phone_message": message}
    if code in PHONE_REJECTED or code == USER_REJECTED:
        return Fault(USER_REJECTED, denied(method).message, phone)
    if code in PHONE_UNSUPPORTED:
        return Fault(UNSUPPORTED_METHOD, f"the phone does not support this request: {message}", phone)
    if code == SESSION_ENDED:
        return Fault(DISCONNECTED, f"the session ended before the phone answered: {message}", phone)
    return Fault(INTERNAL_ERROR, f"the phone could not answer: {message}", phone)


def unverified(reason: str) -> Fault:
    """The phone answered, but the answer does not check out (a signature by another key): not passed on."""
    return Fault(INTERNAL_ERROR, f"the phone's answer did not verify: {reason}"[:300])


def from_refusal(code: str, message: str, rule: str | None = None) -> Fault:
    """walletsync's own refusal (a :class:`~walletsync.errors.WalletsyncError`'s ``code`` and text)."""
    if code == "policy_refused":
        return Fault(UNAUTHORIZED, message, {"rule": rule} if rule else None)
    if code in ("out_of_scope", "chain_not_requested", "malformed_request"):
        return Fault(UNAUTHORIZED, message)
    if code == "session_inactive":
        return Fault(DISCONNECTED, message)
    if code == "timeout":
        return Fault(INTERNAL_ERROR, f"no answer from the phone: {message}; send the request again to ask again")
    return Fault(INTERNAL_ERROR, message[:300])
