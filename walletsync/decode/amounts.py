"""Token amounts between exact integers of the smallest unit and the decimal text people read and type.

Amounts are never floats: ``0.1`` ETH is ``100000000000000000`` wei exactly, and text with more decimals than
the token has (``0.0000001`` USDC) is an error, not a rounding. Policies parse their caps with
:func:`parse_amount`; every summary formats with :func:`format_amount`.
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext

from walletsync.errors import WalletsyncError

MAX_DECIMALS = 77
"""More decimals than any uint256 amount has digits: a token claiming more is not believed."""

_AMOUNT = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DIGITS = 80
"""How many digits an amount may have: uint256's 78 and a little room, so ``int()`` never meets absurd text."""


class BadAmount(WalletsyncError):
    """An amount the user typed cannot be read exactly; the text says why."""

    code = "bad_amount"


def format_amount(amount: int, decimals: int) -> str:
    """``amount`` smallest units as a decimal number of whole tokens, exactly: ``(1500000, 6)`` → ``"1.5"``.

    No rounding, no exponent, no grouping, trailing zeros dropped; :func:`parse_amount` reads it back.
    """
    if amount < 0:
        raise ValueError("an amount is never negative")
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be between 0 and {MAX_DECIMALS}, got {decimals}")
    if decimals == 0:
        return str(amount)
    whole, fraction = divmod(amount, 10**decimals)
    digits = str(fraction).rjust(decimals, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def parse_amount(text: str, decimals: int) -> int:
    """The exact number of smallest units ``text`` (``"0.1"``, ``"500"``, ``".5"``) means for a token with
    ``decimals``; :class:`BadAmount` for anything else: a sign, an exponent, a thousands separator, or more
    decimals than the token has."""
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be between 0 and {MAX_DECIMALS}, got {decimals}")
    given = text.strip()
    if not _AMOUNT.fullmatch(given) or len(given) > _DIGITS:
        shown = given if len(given) <= 40 else given[:37] + "..."
        raise BadAmount(f"not an amount: {shown!r} (write digits with an optional '.', like 0.1 or 500)")
    with localcontext() as exact:  # room for every digit: nothing below is ever rounded
        exact.prec = _DIGITS + MAX_DECIMALS
        units = Decimal(given).scaleb(decimals)
        if units != units.to_integral_value():
            smallest = f"0.{'0' * (decimals - 1)}1" if decimals else "1"
            raise BadAmount(
                f"{given} has more decimals than the token's {decimals} (the smallest amount is {smallest})"
            )
        return int(units)
