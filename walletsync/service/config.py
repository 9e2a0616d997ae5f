"""Where the companion's settings come from: its flags, the environment, and ``config.json`` in the data dir.

This is the one module that reads ``config.json``; everything else asks it for one setting. It also
writes the one setting walletsync chooses itself: the key file a fresh data dir was set up with.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from walletsync.chains.user import Additions, read_additions
from walletsync.errors import WalletsyncError
from walletsync.paths import open_private

T = TypeVar("T")

KEYRING_FILE_ENV = "WALLETSYNC_KEYRING_FILE"


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


def configured_stale_after(home: Path, default: int) -> int:
    """Seconds after which a balance's block is stale: ``config.json``'s ``balances_stale_after``, else ``default``
    (a chain with slow blocks, or a dev chain mining on demand, may want more)."""
    seconds = _from_settings(home, lambda settings: settings.get("balances_stale_after"))
    if seconds is None:
        return default
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        raise WalletsyncError(f"{home / 'config.json'}: balances_stale_after is a whole number of seconds above 0")
    return seconds


def configured_keyring_file(config: Config, home: Path) -> Path | None:
    """The passphrase-protected key file: ``--keyring-file``, else ``$WALLETSYNC_KEYRING_FILE``, else the
    ``keyring_file`` that ``config.json`` remembers; None means the OS keyring."""
    chosen = config.keyring_file or os.environ.get(KEYRING_FILE_ENV) or remembered_keyring_file(home)
    return Path(chosen).expanduser() if chosen else None


def remembered_keyring_file(home: Path) -> str | None:
    """The key file ``config.json`` names (``keyring_file``), if any."""
    path = _from_settings(home, lambda settings: settings.get("keyring_file"))
    if path is not None and (not isinstance(path, str) or not path):
        raise WalletsyncError(f"{home / 'config.json'}: keyring_file is the path of a key file")
    return path


def remember_keyring_file(home: Path, path: Path) -> None:
    """Record ``path`` (made absolute) as the data dir's key file in ``config.json``, keeping its other settings."""
    update_settings(home, lambda settings: {**settings, "keyring_file": str(path.expanduser().resolve())})


def configured_additions(home: Path) -> Additions:
    """The chains and tokens the user added (``config.json``'s ``chains`` and ``tokens``); none without the file.

    :class:`~walletsync.chains.user.BadChainEntry` names an entry a hand edit broke."""
    additions: Additions | None = _from_settings(home, lambda settings: read_additions(_object(home, settings)))
    return additions or Additions()


def update_settings(home: Path, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Apply ``change`` to ``config.json``'s settings and write them back; returns what was written.

    One process at a time (an flock on ``.config.lock``, so two commands adding a chain each keep both),
    written to a 0600 temporary file and renamed over the old one: a crash leaves the old file or the new.
    """
    lock = open_private(home / ".config.lock", os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        settings = _from_settings(home, lambda found: _object(home, found))
        updated = change(dict(settings or {}))
        temp = home / f".config.json.{os.getpid()}.tmp"
        try:
            fd = open_private(temp, os.O_WRONLY | os.O_TRUNC)
            with open(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(updated, indent=2) + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, home / "config.json")
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        return updated
    finally:
        os.close(lock)  # releases the lock


def _object(home: Path, settings: Any) -> dict[str, Any]:
    if not isinstance(settings, dict):
        raise WalletsyncError(f"{home / 'config.json'} is not a JSON object")
    return settings


def configured_keep_unlocked(home: Path, default: int) -> int:
    """Seconds a key file stays unlocked for the login session after its last use: ``config.json``'s
    ``keep_unlocked``, else ``default``; 0 asks for the passphrase every time."""
    keep = _from_settings(home, lambda settings: settings.get("keep_unlocked"))
    if keep is None:
        return default
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
        raise WalletsyncError(f"{home / 'config.json'}: keep_unlocked is a whole number of seconds (0: never)")
    return keep
