"""The chain registry of a data dir: the bundled lists with the user's additions from its ``config.json``.

None of this needs the device's keys: ``walletsync chains`` and naming chains in ``walletsync decode`` read
the registry without unlocking anything. Each change is saved at once (``config.json``, one writer at a
time) and read again by every later :func:`load_registry`, in this process or another.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from walletsync.chains import changes
from walletsync.chains.model import Chain, Token
from walletsync.chains.registry import Registry
from walletsync.chains.user import Additions, chain_id_of, read_additions
from walletsync.paths import data_dir as resolve_data_dir
from walletsync.paths import data_dir_path
from walletsync.service.config import configured_additions, update_settings

__all__ = ["add_chain", "add_token", "change_rpc", "chain_id_of", "load_registry", "remove_chain", "remove_token"]

T = TypeVar("T")


def load_registry(data_dir: str | os.PathLike[str] | None = None) -> Registry:
    """The registry for ``data_dir`` (default: ``$WALLETSYNC_HOME``, else the platform's data dir); a data dir
    that does not exist (yet) is not made: its registry is the bundled one."""
    return Registry(configured_additions(data_dir_path(data_dir)))


def add_chain(
    data_dir: str | os.PathLike[str] | None,
    chain_id: str,
    *,
    name: str | None = None,
    currency: str | None = None,
    decimals: int | str | None = None,
    explorers: list[str] | None = None,
    rpcs: list[str] | None = None,
) -> Chain:
    """The chain as it reads once added (or changed); see :func:`walletsync.chains.changes.add_chain`."""
    return _change(
        data_dir,
        lambda registry: changes.add_chain(
            registry, chain_id, name=name, currency=currency, decimals=decimals, explorers=explorers, rpcs=rpcs
        ),
    )


def change_rpc(
    data_dir: str | os.PathLike[str] | None, chain_id: str, action: changes.RpcAction, url: str
) -> tuple[Chain, bool]:
    """The chain with its RPC list changed, and whether it was added (unknown before); see
    :func:`walletsync.chains.changes.change_rpc`."""

    def edit(registry: Registry) -> tuple[Additions, tuple[Chain, bool]]:
        additions, chain, added = changes.change_rpc(registry, chain_id, action, url)
        return additions, (chain, added)

    return _change(data_dir, edit)


def remove_chain(data_dir: str | os.PathLike[str] | None, chain_id: str) -> tuple[Chain, Chain | None]:
    """The chain removed, and the bundled one it falls back to (None when it was the user's own)."""
    return _change(data_dir, lambda registry: _pair(changes.remove_chain(registry, chain_id)))


def add_token(
    data_dir: str | os.PathLike[str] | None,
    chain_id: str,
    address: str,
    *,
    symbol: str,
    decimals: int | str,
    name: str | None = None,
) -> Token:
    """The token added (over a bundled one at the same address)."""
    return _change(
        data_dir,
        lambda registry: changes.add_token(registry, chain_id, address, symbol=symbol, decimals=decimals, name=name),
    )


def remove_token(data_dir: str | os.PathLike[str] | None, chain_id: str, address: str) -> Token:
    """The token the user had added at ``address`` on the chain, now removed."""
    return _change(data_dir, lambda registry: changes.remove_token(registry, chain_id, address))


def _pair(
    result: tuple[Additions, Chain, Chain | None],
) -> tuple[Additions, tuple[Chain, Chain | None]]:
    additions, before, after = result
    return additions, (before, after)


def _change(data_dir: str | os.PathLike[str] | None, edit: Callable[[Registry], tuple[Additions, T]]) -> T:
    """Apply ``edit`` to the registry as config.json has it now, under its lock, and save the result."""
    home = resolve_data_dir(data_dir)
    outcome: list[T] = []

    def change(settings: dict[str, Any]) -> dict[str, Any]:
        registry = Registry(read_additions(settings))
        additions, result = edit(registry)
        outcome.append(result)
        return {**settings, **additions.to_settings()}

    update_settings(home, change)
    return outcome[0]
