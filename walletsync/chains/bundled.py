"""The chains and tokens walletsync ships (``data/``, built by ``scripts/update-chains.py``), read on first use.

Reading them costs a few milliseconds (two compact JSON files), once per process: every command that names a
chain pays it, so nothing is read at import and the rows become :class:`Chain` / :class:`Token` values only
when asked for.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from walletsync.chains.model import Chain, Token

EIP155 = "eip155:"


def _read(name: str) -> Any:
    from importlib.resources import files

    return json.loads(files(__package__).joinpath("data", name).read_bytes())


@functools.cache
def _chain_rows() -> dict[str, list[Any]]:
    """CAIP-2 id → ``[chain_id, name, currency, decimals, explorers, rpcs, major]``."""
    return {f"{EIP155}{row[0]}": row for row in _read("chains.json")["chains"]}


@functools.cache
def _token_rows() -> dict[str, dict[str, list[Any]]]:
    """CAIP-2 id → lower-case address → ``[chain_id, address, symbol, decimals, name]``."""
    tokens: dict[str, dict[str, list[Any]]] = {}
    for row in _read("tokens.json")["tokens"]:
        tokens.setdefault(f"{EIP155}{row[0]}", {})[row[1].lower()] = row
    return tokens


@functools.lru_cache(maxsize=512)  # bounded: ids come from phones too
def chain(chain_id: str) -> Chain | None:
    """The bundled chain with this CAIP-2 id, or None."""
    row = _chain_rows().get(chain_id)
    if row is None:
        return None
    return Chain(chain_id, row[1], row[2], row[3], tuple(row[4]), tuple(row[5]))


def chain_ids(major_only: bool = False) -> list[str]:
    """Every bundled chain's id (only the major ones': mainnets with tokens and their testnets), by chain id."""
    return [chain_id for chain_id, row in _chain_rows().items() if row[6] or not major_only]


def token(chain_id: str, address: str) -> Token | None:
    """The bundled token at ``address`` (any case) on the chain, or None."""
    row = _token_rows().get(chain_id, {}).get(address.lower())
    return None if row is None else _token(chain_id, row)


def tokens(chain_id: str) -> list[Token]:
    """The chain's bundled tokens, by address."""
    return [_token(chain_id, row) for row in _token_rows().get(chain_id, {}).values()]


def _token(chain_id: str, row: list[Any]) -> Token:
    return Token(chain_id, row[1], row[2], row[3], row[4])
