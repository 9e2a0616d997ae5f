"""Which relay the companion talks to, and how to say so: ``--relay``, the public relay, or the local one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from walletsync.service.config import Config, configured_project_id

PUBLIC_RELAY = "wss://relay.walletconnect.org"
RelayKind = Literal["local", "public", "custom"]

ONLINE_TIMEOUT = 15.0
"""Seconds an intent waits for the relay link before saying it is down; a relay known to be unreachable
(refused, a name that does not resolve) is said at once instead."""


@dataclass(frozen=True)
class RelayChoice:
    """The relay's URL and what kind it is; ``started`` when this process started the local relay."""

    url: str
    kind: RelayKind
    project_id: str | None = None
    started: bool = False

    def describe(self) -> str:
        """One line for people: which relay, and whether it was started now."""
        what = {"local": "local relay", "public": "public WalletConnect relay", "custom": "relay"}[self.kind]
        return f"{what} {self.url}" + (" (started now)" if self.started else "")


async def choose_relay(config: Config, home: Path) -> RelayChoice:
    """``--relay``; else the public relay when a project id is set; else the local relay (started if needed)."""
    project_id = configured_project_id(config, home)
    if config.relay:
        kind: RelayKind = "public" if config.relay.rstrip("/") == PUBLIC_RELAY else "custom"
        return RelayChoice(config.relay, kind, project_id)
    if project_id:
        return RelayChoice(PUBLIC_RELAY, "public", project_id)
    from walletsync.localrelay import ensure_local_relay

    url, started = await ensure_local_relay(home)
    return RelayChoice(url, "local", None, started)
