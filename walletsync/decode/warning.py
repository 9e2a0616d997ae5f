"""The warnings decoding gives, and the two thresholds behind them: what counts as unlimited, what as far.

Unlimited: an amount of at least half its type's range (``2**255`` for a uint256, ``2**159`` for Permit2's
uint160). Wallets and dapps write "unlimited" as the type's maximum, and some as ``2**255``-ish values; no
real balance comes near either, so such an amount is read as "everything, now and later", and its effect
carries ``amount=None``.

Far: an expiry more than :data:`FAR_EXPIRY_DAYS` days after ``now``, or none at all.
"""

from __future__ import annotations

from walletsync.decode.model import (
    APPROVAL_FOR_ALL,
    CHAIN_MISMATCH,
    CONTRACT_CREATION,
    FAR_EXPIRY,
    UNKNOWN_CONTRACT,
    UNKNOWN_FUNCTION,
    UNLIMITED_APPROVAL,
    RequestWarning,
)
from walletsync.decode.words import DAY, NEVER, Words

FAR_EXPIRY_DAYS = 30


def is_unlimited(amount: int, bits: int = 256) -> bool:
    """Whether ``amount`` of a ``uint<bits>`` means "no limit" (at least half the type's range)."""
    return amount >= 1 << (bits - 1)


def allowance(amount: int, bits: int = 256) -> int | None:
    """The effect's amount: ``amount`` itself, or None when it is unlimited."""
    return None if is_unlimited(amount, bits) else amount


def is_far(expiry: int | None, now: int) -> bool:
    """Whether an expiry (None: none) is more than :data:`FAR_EXPIRY_DAYS` days after ``now``."""
    return expiry is None or expiry > now + FAR_EXPIRY_DAYS * DAY


def unlimited_approval(words: Words, token: str, spender: str) -> RequestWarning:
    return RequestWarning(
        UNLIMITED_APPROVAL,
        f"unlimited approval: {words.address(spender)} may take all the {words.token_name(token)} you hold, now and later (an amount of at least half the type's maximum counts as unlimited)",
    )


def approval_for_all(words: Words, collection: str, operator: str) -> RequestWarning:
    return RequestWarning(
        APPROVAL_FOR_ALL,
        f"approval for all: {words.address(operator)} may move every token you hold in {words.address(collection)}, "
        "now and later",
    )


def far_expiry(words: Words, expiry: int | None, what: str) -> RequestWarning:
    lasts = "never expires" if expiry is None or expiry >= NEVER else f"lasts until {words.moment(expiry)}"
    return RequestWarning(FAR_EXPIRY, f"far expiry: {what} {lasts}, more than {FAR_EXPIRY_DAYS} days from now")


def unknown_contract(words: Words, address: str) -> RequestWarning:
    return RequestWarning(
        UNKNOWN_CONTRACT,
        f"unknown contract: {address} is neither a token nor a protocol contract walletsync knows on {words.chain()}",
    )


def unknown_function(selector: str, name: str | None, why: str | None = None) -> RequestWarning:
    called = f"{name} ({selector})" if name else f"the function {selector}"
    reason = why or ("walletsync does not decode it" if name else "its name is not in walletsync's selector list")
    return RequestWarning(UNKNOWN_FUNCTION, f"unknown function: {called}: {reason}; what it does is not shown")


def chain_mismatch(words: Words, named: str, where: str) -> RequestWarning:
    return RequestWarning(
        CHAIN_MISMATCH, f"chain mismatch: {where} names chain {named}, but the request is for {words.chain()}"
    )


def contract_creation(size: int) -> RequestWarning:
    return RequestWarning(
        CONTRACT_CREATION,
        f"contract creation: this deploys {size} bytes of new code; what that code does is not shown",
    )
