"""How a summary names things: addresses, amounts, moments. One place, so every summary reads the same.

Summaries are plain text made of request data (a token symbol from the registry, a typed-data string); whoever
prints them escapes them (:func:`walletsync.text.shown`).
"""

from __future__ import annotations

from dataclasses import dataclass

from walletsync.chains.model import Lookup
from walletsync.decode.amounts import MAX_DECIMALS, format_amount
from walletsync.decode.contracts import contract_name, wrapped_native
from walletsync.decode.model import ChainRef

DAY = 86_400
NEVER = 253_402_300_800
"""Year 10000 in unix seconds: an expiry at or past it is written "never" (it is some type's maximum)."""


@dataclass(frozen=True)
class Words:
    """What naming needs: the chain, the registry, and the account the request is from (None: unknown)."""

    chain_id: str
    lookup: Lookup
    account: str | None
    now: int

    def address(self, address: str) -> str:
        """``0xA0b8…eB48``, then what it is when known: ``(you)``, ``(Permit2)``, ``(USDC)``."""
        short = f"{address[:6]}…{address[-4:]}"
        if self.account is not None and address == self.account:
            return f"{short} (you)"
        name = contract_name(self.chain_id, address)
        if name is None:
            token = self.lookup.token(self.chain_id, address)
            name = None if token is None else token.symbol
        return f"{short} ({name})" if name else short

    def known(self, address: str) -> bool:
        """Whether ``address`` is a token or protocol contract walletsync knows on the chain."""
        return self.known_token(address) is not None or contract_name(self.chain_id, address) is not None

    def token_name(self, address: str) -> str:
        """``USDC 0xA0b8…eB48`` for a token the registry knows, ``token 0x1234…abcd`` otherwise."""
        known = self.known_token(address)
        return f"token {address[:6]}…{address[-4:]}" if known is None else known[0]

    def known_token(self, address: str) -> tuple[str, int] | None:
        """The registry's label and decimals for the token, or the chain's wrapped native currency's, or None."""
        token = self.lookup.token(self.chain_id, address)
        if token is not None and 0 <= token.decimals <= MAX_DECIMALS:
            return token.label(), token.decimals
        wrapped = wrapped_native(self.chain_id)
        if wrapped is not None and wrapped[0] == address:
            return f"{wrapped[1]} {address[:6]}…{address[-4:]}", 18
        return None

    def token(self, address: str, amount: int | None) -> str:
        """``500 USDC 0xA0b8…eB48``, ``UNLIMITED USDC 0xA0b8…eB48``; for a token the registry does not know (its
        decimals unknown) ``1000 base units of token 0x1234…abcd``."""
        if amount is None:
            return f"UNLIMITED {self.token_name(address)}"
        known = self.known_token(address)
        if known is None:
            return f"{amount} base units of {self.token_name(address)}"
        return f"{format_amount(amount, known[1])} {known[0]}"

    def native(self, amount: int) -> str:
        """``0.5 ETH`` on a chain the registry knows; ``500000000000000000 wei`` (the smallest unit) otherwise."""
        chain = self.lookup.chain(self.chain_id)
        if chain is None or not 0 <= chain.decimals <= MAX_DECIMALS:
            return f"{amount} wei"
        return f"{format_amount(amount, chain.decimals)} {chain.currency}"

    def chain(self) -> str:
        """``Polygon (eip155:137)``, or the bare id for a chain the registry does not know."""
        chain = self.lookup.chain(self.chain_id)
        return self.chain_id if chain is None else chain.label()

    def moment(self, expiry: int | None) -> str:
        """``2025-07-01 12:00 UTC (in 30 days)``, ``never``, or ``2024-01-01 00:00 UTC (already past)``."""
        if expiry is None or expiry >= NEVER:
            return "never"
        days = (expiry - self.now) / DAY
        if expiry <= self.now:
            when = "already past"
        elif days < 1:
            when = f"in {max(1, (expiry - self.now) // 3600)} h"
        else:
            when = f"in {int(days)} days"
        return f"{utc(expiry)} ({when})"


def chain_ref(chain_id: str, lookup: Lookup) -> ChainRef:
    """The request's chain as :class:`Decoded` shows it: its id, and its name and currency when known."""
    chain = lookup.chain(chain_id)
    return ChainRef(chain_id, None, None) if chain is None else ChainRef(chain_id, chain.name, chain.currency)


def utc(moment: int) -> str:
    """Unix seconds as ``YYYY-MM-DD HH:MM UTC``, by the proleptic Gregorian calendar (no clock is read)."""
    days, seconds = divmod(moment, DAY)
    # Howard Hinnant's civil_from_days: days since 1970-01-01 → (year, month, day).
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return f"{year:04d}-{month:02d}-{day:02d} {seconds // 3600:02d}:{seconds % 3600 // 60:02d} UTC"
