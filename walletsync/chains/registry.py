"""The registry: the bundled chains and tokens with the user's additions over them, and how each is named.

Build one with :class:`Registry` (the service does: ``walletsync.service.registry.load_registry``); it is a
:class:`~walletsync.chains.model.Lookup` for decoding and policies, and it names what screens and commands
show: ``label`` ("Polygon (eip155:137)", the bare id for a chain it does not know), ``token_label``
("USDC 0xA0b8…eB48") and explorer links. The bundled lists are read on first use and kept for the process.
"""

from __future__ import annotations

import re
from dataclasses import replace

from walletsync.chains import bundled
from walletsync.chains.model import Chain, Token
from walletsync.chains.user import Additions, ChainEntry

TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class Registry:
    """What walletsync knows of chains and tokens: the bundled lists, then ``additions`` (the user's) over them."""

    def __init__(self, additions: Additions | None = None) -> None:
        self.additions = additions or Additions()

    # --- Lookup -------------------------------------------------------------------------------

    def chain(self, chain_id: str) -> Chain | None:
        """The chain with this CAIP-2 id (the user's entry over the bundled one), or None if neither knows it."""
        shipped = bundled.chain(chain_id)
        entry = self.additions.chains.get(chain_id)
        if entry is None:
            return shipped
        return _merged(entry, shipped)

    def token(self, chain_id: str, address: str) -> Token | None:
        """The token at ``address`` (any case) on the chain: the user's, else the bundled one, else None."""
        if not isinstance(address, str) or not ADDRESS.fullmatch(address):
            return None
        mine = self.additions.tokens.get(chain_id, {}).get(address.lower())
        return mine or bundled.token(chain_id, address)

    def token_by_symbol(self, chain_id: str, symbol: str) -> Token | None:
        """The one token with this symbol (any case) on the chain, the user's first; None when none or several have it
        (an ambiguous symbol must be given as an address)."""
        wanted = symbol.casefold()
        for candidates in (self._user_tokens(chain_id), self._bundled_tokens(chain_id)):
            found = [t for t in candidates if t.symbol.casefold() == wanted]
            if found:
                return found[0] if len(found) == 1 else None
        return None

    # --- listing -------------------------------------------------------------------------------

    def chains(self, *, major_only: bool = False) -> list[Chain]:
        """Every chain known, by namespace and number; ``major_only``: the major bundled ones (the mainnets with
        bundled tokens and their testnets) and the user's."""
        ids = set(bundled.chain_ids(major_only)) | set(self.additions.chains)
        known = (self.chain(chain_id) for chain_id in ids)
        return sorted((c for c in known if c is not None), key=lambda c: _order(c.id))

    def tokens(self, chain_id: str) -> list[Token]:
        """The chain's tokens (the user's over the bundled ones at the same address), by symbol."""
        return sorted(
            [*self._user_tokens(chain_id), *self._bundled_tokens(chain_id)], key=lambda t: t.symbol.casefold()
        )

    def rpcs(self, chain_id: str) -> list[str]:
        """The RPCs to read the chain from, in order: the user's (``chains rpc add|prefer``) first, then the bundled
        ones; a URL with a ``${...}`` placeholder (an API key to fill in) is left out."""
        entry = self.additions.chains.get(chain_id)
        shipped = bundled.chain(chain_id)
        listed = [*(entry.rpcs or () if entry else ()), *(shipped.rpcs if shipped else ())]
        return [url for url in dict.fromkeys(listed) if "${" not in url]

    def _user_tokens(self, chain_id: str) -> list[Token]:
        return list(self.additions.tokens.get(chain_id, {}).values())

    def _bundled_tokens(self, chain_id: str) -> list[Token]:
        mine = self.additions.tokens.get(chain_id, {})
        return [t for t in bundled.tokens(chain_id) if t.address.lower() not in mine]

    def is_bundled(self, chain_id: str) -> bool:
        return bundled.chain(chain_id) is not None

    def is_bundled_token(self, chain_id: str, address: str) -> bool:
        return bundled.token(chain_id, address) is not None

    # --- naming -------------------------------------------------------------------------------

    def label(self, chain_id: str) -> str:
        """``Polygon (eip155:137)``, or the bare id when the chain is unknown (never a guess)."""
        chain = self.chain(chain_id)
        return chain.label() if chain is not None else chain_id

    def name(self, chain_id: str) -> str | None:
        """The chain's name alone, or None: what ``--json`` documents add beside an id."""
        chain = self.chain(chain_id)
        return chain.name if chain is not None else None

    def currency(self, chain_id: str) -> str | None:
        """The chain's native currency symbol (``POL``), or None when the chain is unknown."""
        chain = self.chain(chain_id)
        return chain.currency if chain is not None else None

    def token_label(self, chain_id: str, address: str) -> str:
        """``USDC 0xA0b8…eB48`` for a known token, else the address as given."""
        token = self.token(chain_id, address)
        return token.label() if token is not None else address

    def tx_url(self, chain_id: str, tx_hash: str) -> str | None:
        """The chain's first explorer's page for a transaction hash; None without an explorer or for a value that
        is not a transaction hash (a phone's answer is never pasted into a link)."""
        return self._link(chain_id, "tx", tx_hash, TX_HASH)

    def address_url(self, chain_id: str, address: str) -> str | None:
        """The chain's first explorer's page for an address; None without an explorer or for a non-address."""
        return self._link(chain_id, "address", address, ADDRESS)

    def _link(self, chain_id: str, kind: str, value: str, shape: re.Pattern[str]) -> str | None:
        chain = self.chain(chain_id)
        if chain is None or not chain.explorers or not isinstance(value, str) or not shape.fullmatch(value):
            return None
        return f"{chain.explorers[0]}/{kind}/{value}"


def _merged(entry: ChainEntry, shipped: Chain | None) -> Chain | None:
    """The user's entry over the bundled chain; a chain walletsync does not ship needs the entry's name and currency."""
    if shipped is None:
        if entry.name is None or entry.currency is None:
            return None
        shipped = Chain(entry.id, entry.name, entry.currency)
    changes = {k: v for k, v in vars(entry).items() if k != "id" and v is not None}
    return replace(shipped, **changes, user=True)


def _order(chain_id: str) -> tuple[str, int, str]:
    namespace, _, reference = chain_id.partition(":")
    return (namespace, int(reference) if reference.isdigit() else -1, reference)
