"""What a pairing asks a phone for by default, and how the companion introduces itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from walletsync.protocol.namespaces import is_chain_id

__all__ = ["DEFAULT_CHAINS", "DEFAULT_EVENTS", "DEFAULT_METHODS", "METADATA", "is_chain_id"]

METADATA: dict[str, Any] = {
    "name": "walletsync",
    "description": "walletsync: your phone wallet, from the terminal",
    "url": "https://walletsync.invalid",
    "icons": [],
}
DEFAULT_CHAINS = ("eip155:1",)
DEFAULT_METHODS = ("personal_sign", "eth_signTypedData_v4", "eth_sendTransaction")
DEFAULT_EVENTS = ("chainChanged", "accountsChanged")


def optional_namespaces(chains: Iterable[str], methods: Iterable[str], events: Iterable[str]) -> dict[str, Any]:
    """The ``optionalNamespaces`` a pairing proposes: ``chains`` grouped by namespace, each with every method and event."""
    namespaces: dict[str, dict[str, list[str]]] = {}
    for chain in chains:
        ns = namespaces.setdefault(
            chain.split(":")[0], {"chains": [], "methods": list(methods), "events": list(events)}
        )
        ns["chains"].append(chain)
    return namespaces
