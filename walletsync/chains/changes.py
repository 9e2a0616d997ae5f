"""What the user may change in the registry, as pure edits of the :class:`Additions` (the service saves them).

Adding a chain walletsync does not ship needs its name and currency; over a bundled chain any field the user
gives replaces the bundled one. Removing takes back only what the user added: a bundled chain or token is
refused with :class:`BundledEntry`, which says why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from walletsync.chains.model import Chain, Token
from walletsync.chains.registry import Registry
from walletsync.chains.user import (
    Additions,
    BadChainEntry,
    ChainEntry,
    address_of,
    chain_id_of,
    decimals_of,
    name_of,
    symbol_of,
    urls_of,
)
from walletsync.errors import WalletsyncError


class UnknownChain(WalletsyncError):
    """Neither walletsync's list nor the user's additions have that chain."""

    code = "unknown_chain"


class UnknownToken(WalletsyncError):
    """No token the user added is at that address on that chain."""

    code = "unknown_token"


class BundledEntry(WalletsyncError):
    """The chain or token comes with walletsync: only what the user added can be removed."""

    code = "bundled"


def add_chain(
    registry: Registry,
    chain_id: str,
    *,
    name: str | None = None,
    currency: str | None = None,
    decimals: int | str | None = None,
    explorers: list[str] | None = None,
    rpcs: list[str] | None = None,
) -> tuple[Additions, Chain]:
    """The additions with the chain added (or its given fields changed), and the chain as it now reads."""
    chain_id = chain_id_of(chain_id)
    entry = ChainEntry(
        chain_id,
        None if name is None else name_of(name),
        None if currency is None else symbol_of(currency),
        None if decimals is None else decimals_of(decimals),
        None if explorers is None else urls_of(explorers, "--explorer"),
        None if rpcs is None else urls_of(rpcs, "--rpc"),
    )
    if entry == ChainEntry(chain_id):
        raise BadChainEntry(f"nothing to add for {chain_id}: give its --name and --currency (or what to change)")
    additions = registry.additions.with_chain(entry)
    chain = Registry(additions).chain(chain_id)
    if chain is None:
        raise BadChainEntry(f"{chain_id} is not a chain walletsync knows: give its --name and --currency")
    return additions, chain


RpcAction = Literal["add", "remove", "prefer"]


def change_rpc(registry: Registry, chain_id: str, action: RpcAction, url: str) -> tuple[Additions, Chain, bool]:
    """The additions with the chain's RPC list changed, the chain as it now reads, and whether the chain was added.

    The user's RPCs come before the bundled ones (:meth:`Registry.rpcs`): ``add`` puts ``url`` last among the user's,
    ``prefer`` first, ``remove`` takes it out (a bundled RPC cannot be removed: :class:`BundledEntry` says to prefer
    another). A chain the registry does not know is added with its first RPC, as ``Chain N`` with an 18-decimal
    ``ETH`` (what EVM dev chains use; ``chains add CHAIN --name --currency`` changes them)."""
    chain_id = chain_id_of(chain_id)
    (url,) = urls_of([url], "the RPC")
    entry = registry.additions.chains.get(chain_id) or ChainEntry(chain_id)
    mine = list(entry.rpcs or ())
    known = registry.chain(chain_id) is not None
    if action == "remove":
        if not known:
            raise UnknownChain(f"no chain {chain_id} (see 'walletsync chains --all')")
        if url not in mine:
            if url in registry.rpcs(chain_id):
                raise BundledEntry(
                    f"{url} comes with walletsync for {registry.label(chain_id)} and cannot be removed; "
                    f"'walletsync chains rpc {chain_id} prefer URL' puts another before it"
                )
            raise BadChainEntry(f"{url} is not an RPC of {registry.label(chain_id)}")
        mine.remove(url)
    elif action == "prefer":
        mine = [url, *(u for u in mine if u != url)]
    elif url not in mine:
        mine.append(url)
    entry = replace(entry, rpcs=tuple(mine) or None)
    if not known:
        number = chain_id.partition(":")[2]
        entry = replace(entry, name=f"Chain {number}"[:64], currency="ETH", decimals=18)
    others = Additions({k: v for k, v in registry.additions.chains.items() if k != chain_id}, registry.additions.tokens)
    additions = others if entry == ChainEntry(chain_id) else others.with_chain(entry)
    chain = Registry(additions).chain(chain_id)
    assert chain is not None  # known before, or added with a name and currency just now
    return additions, chain, not known


def remove_chain(registry: Registry, chain_id: str) -> tuple[Additions, Chain, Chain | None]:
    """The additions without the user's entry for the chain; the chain as it was, and as it reads now (the bundled
    one, when the entry only changed it; None when the chain was the user's own, whose tokens go with it)."""
    chain_id = chain_id_of(chain_id)
    before = registry.chain(chain_id)
    if chain_id not in registry.additions.chains or before is None:
        if before is None:
            raise UnknownChain(f"no chain {chain_id} (see 'walletsync chains --all')")
        raise BundledEntry(
            f"{before.label()} comes with walletsync and cannot be removed; 'walletsync chains remove' takes back "
            "only chains you added or changed"
        )
    if registry.is_bundled(chain_id):
        additions = registry.additions
        additions = Additions({k: v for k, v in additions.chains.items() if k != chain_id}, additions.tokens)
    else:
        additions = registry.additions.without_chain(chain_id)
    return additions, before, Registry(additions).chain(chain_id)


def add_token(
    registry: Registry, chain_id: str, address: str, *, symbol: str, decimals: int | str, name: str | None = None
) -> tuple[Additions, Token]:
    """The additions with the token (over a bundled one at the same address), and the token."""
    chain_id = chain_id_of(chain_id)
    if registry.chain(chain_id) is None:
        raise UnknownChain(
            f"no chain {chain_id}: add it first ('walletsync chains add {chain_id} --name … --currency …')"
        )
    token = Token(
        chain_id,
        address_of(address),
        symbol_of(symbol),
        decimals_of(decimals),
        "" if not name else name_of(name, "token name"),
        user=True,
    )
    return registry.additions.with_token(token), token


def remove_token(registry: Registry, chain_id: str, address: str) -> tuple[Additions, Token]:
    """The additions without the user's token at ``address``, and the token removed."""
    chain_id, address = chain_id_of(chain_id), address_of(address)
    mine = registry.additions.tokens.get(chain_id, {}).get(address.lower())
    if mine is None:
        shipped = registry.token(chain_id, address)
        if shipped is not None:
            raise BundledEntry(f"{shipped.label()} comes with walletsync and cannot be removed")
        raise UnknownToken(f"you added no token at {address} on {registry.label(chain_id)}")
    return registry.additions.without_token(chain_id, address), mine
