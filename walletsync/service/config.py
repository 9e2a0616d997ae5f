"""Where the companion's settings come from: its flags, the environment, and ``config.json`` in the data dir.

This is the one module that reads ``config.json``; everything else asks it for one setting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from walletsync.errors import WalletsyncError

T = TypeVar("T")


@dataclass(frozen=True)
class Config:
    """What the command line says; ``None`` means "the default" (the data dir's, the environment's, ...)."""

    data_dir: str | None = None
    relay: str | None = None
    project_id: str | None = None
    keyring_file: str | None = None
    passphrase: str | None = None


def _from_settings(home: Path, pick: Callable[[Any], T]) -> T | None:
    """``pick`` applied to ``config.json``'s content; None without the file; WalletsyncError when it is not JSON
    (or not the shape ``pick`` expects)."""
    settings = home / "config.json"
    if not settings.exists():
        return None
    try:
        return pick(json.loads(settings.read_text()))
    except (ValueError, AttributeError):
        raise WalletsyncError(f"{settings} is not valid JSON") from None


def configured_project_id(config: Config, home: Path) -> str | None:
    """The WalletConnect project id: ``--project-id``, else ``$WALLETCONNECT_PROJECT_ID``, else ``config.json``."""
    if config.project_id:
        return config.project_id
    if os.environ.get("WALLETCONNECT_PROJECT_ID"):
        return os.environ["WALLETCONNECT_PROJECT_ID"]
    project_id: str | None = _from_settings(home, lambda settings: settings.get("project_id") or None)
    return project_id


def configured_rpc(home: Path, chain: str) -> str | None:
    """The chain RPC URL ``config.json`` names for ``chain`` (its ``rpc`` object), if any."""
    url: str | None = _from_settings(home, lambda settings: (settings.get("rpc") or {}).get(chain))
    return url


def configured_sync_ttl(home: Path, default: int) -> int:
    """How long the relay keeps this device's sync changes, in seconds: ``config.json``'s ``sync_ttl``, else
    ``default``. Past it a member that was away catches up from a snapshot (a short one suits tests and relays
    that keep little)."""
    ttl = _from_settings(home, lambda settings: settings.get("sync_ttl"))
    if ttl is None:
        return default
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
        raise WalletsyncError(f"{home / 'config.json'}: sync_ttl is a whole number of seconds above 0")
    return ttl
