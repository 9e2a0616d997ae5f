"""What the registry knows about a chain and a token, and the lookups every other part uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Chain:
    """One chain, by its CAIP-2 id (``eip155:137``)."""

    id: str
    name: str
    currency: str
    """The native currency's symbol (``POL``)."""
    decimals: int = 18
    explorers: tuple[str, ...] = ()
    """Explorer base URLs, best first (``https://polygonscan.com``)."""
    rpcs: tuple[str, ...] = ()
    """Public RPC URLs needing no API key, best first."""
    user: bool = False
    """Added or changed by the user (config), not only from the bundled list."""

    def label(self) -> str:
        """How every screen and command names the chain: ``Polygon (eip155:137)``."""
        return f"{self.name} ({self.id})"

    def to_json(self) -> dict[str, Any]:
        """The chain object of ``walletsync chains --json``."""
        return {
            "id": self.id,
            "name": self.name,
            "currency": self.currency,
            "decimals": self.decimals,
            "explorers": list(self.explorers),
            "rpcs": list(self.rpcs),
            "user": self.user,
        }


@dataclass(frozen=True)
class Token:
    """One token contract on one chain; ``address`` is EIP-55 checksummed."""

    chain_id: str
    address: str
    symbol: str
    decimals: int
    name: str = ""
    user: bool = False

    def label(self) -> str:
        """``USDC 0xA0b8…eB48``: the symbol and the address cut in the middle (never the symbol alone)."""
        return f"{self.symbol} {self.address[:6]}…{self.address[-4:]}"

    def to_json(self) -> dict[str, Any]:
        """The token object of ``walletsync chains token list --json``."""
        return {
            "chain_id": self.chain_id,
            "address": self.address,
            "symbol": self.symbol,
            "decimals": self.decimals,
            "name": self.name,
            "user": self.user,
        }


class Lookup(Protocol):
    """What decoding and policies need from the registry (tests may pass a small one of their own)."""

    def chain(self, chain_id: str) -> Chain | None:
        """The chain with this CAIP-2 id, or None if the registry does not know it."""

    def token(self, chain_id: str, address: str) -> Token | None:
        """The token at ``address`` (any case) on the chain, or None."""

    def token_by_symbol(self, chain_id: str, symbol: str) -> Token | None:
        """The token with this symbol (any case) on the chain, or None (or if two share it: ambiguous)."""


class NoRegistry:
    """A lookup that knows nothing: every chain and token is unknown."""

    def chain(self, chain_id: str) -> Chain | None:
        return None

    def token(self, chain_id: str, address: str) -> Token | None:
        return None

    def token_by_symbol(self, chain_id: str, symbol: str) -> Token | None:
        return None
