"""Amounts people type (``0.1``, ``500``) and read, as exact integers in a currency's smallest unit.

``decimal.Decimal`` with exact checks, never floats: ``0.1`` ETH is exactly 10**17 wei, and ``0.0000001`` USDC
(six decimals) is an error, not a rounding. This is the policy's own copy until
``walletsync.decode.amounts`` (the same two functions) is on main; then this module goes.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, localcontext

from walletsync.errors import WalletsyncError

MAX_UINT256 = 2**256 - 1
MAX_TEXT = 100
"""Characters of an amount the parser reads at all: a uint256 has 78 digits."""
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")


class AmountError(WalletsyncError, ValueError):
    """An amount is not a plain non-negative decimal the currency can hold exactly; the text says why."""

    code = "bad_amount"


def parse_amount(text: str, decimals: int) -> int:
    """``text`` (``"0.1"``, ``"500"``) in the smallest unit of a currency with ``decimals`` decimals, exactly.

    :class:`AmountError` for anything else: a sign, an exponent, a separator, more decimals than the
    currency has, or more than fits in a uint256.
    """
    text = text.strip()
    if len(text) > MAX_TEXT or not _AMOUNT.fullmatch(text):
        raise AmountError(f"{text[:40]!r} is not an amount: write digits with at most one '.', like 0.1 or 500")
    if not 0 <= decimals <= 77:
        raise AmountError(f"a currency with {decimals} decimals cannot be counted")
    whole, _, fraction = text.partition(".")
    if len(fraction.rstrip("0")) > decimals:
        raise AmountError(f"{text} has more decimals than the currency's {decimals}")
    with localcontext() as exact:
        exact.prec = MAX_TEXT + 80
        try:
            units = Decimal(text) * (Decimal(10) ** decimals)
        except InvalidOperation:  # pragma: no cover - the pattern above admits only plain decimals
            raise AmountError(f"{text[:40]!r} is not an amount") from None
    if units != units.to_integral_value() or units > MAX_UINT256:
        raise AmountError(f"{text} is more than a uint256 holds")
    return int(units)


def floor_amount(text: str, decimals: int) -> int:
    """Like :func:`parse_amount`, but extra decimals are cut off (rounded down, never up): for a cap written for
    every chain and read with a chain that has fewer decimals, so a limit can only get stricter."""
    whole, dot, fraction = text.strip().partition(".")
    return parse_amount(whole + dot + fraction[:decimals] if decimals else whole or "0", decimals)


def format_amount(amount: int, decimals: int) -> str:
    """``amount`` smallest units as a decimal with no trailing zeros: ``format_amount(10**17, 18) == "0.1"``."""
    if amount < 0:
        return "-" + format_amount(-amount, decimals)
    if decimals <= 0:
        return str(amount)
    whole, fraction = divmod(amount, 10**decimals)
    digits = str(fraction).rjust(decimals, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)
