"""Opening a data dir for the companion: its device secrets, its database, and the relay it will talk through."""

from __future__ import annotations

from pathlib import Path

from walletsync.paths import data_dir as resolve_data_dir
from walletsync.service.config import Config
from walletsync.service.relay_choice import RelayChoice, choose_relay
from walletsync.store.db import Database
from walletsync.store.keys import DeviceSecrets, Prompt, open_device_secrets


async def open_data_dir(
    config: Config, *, offline: bool, prompt: Prompt | None
) -> tuple[Path, Database, DeviceSecrets, RelayChoice | None]:
    """The data dir ``config`` names, its secrets and database open, its relay chosen (none when ``offline``).

    The database is closed again when choosing the relay fails (a local relay that will not start).
    """
    home = resolve_data_dir(config.data_dir)
    secrets = open_device_secrets(
        home,
        keyring_file=Path(config.keyring_file) if config.keyring_file else None,
        passphrase=config.passphrase,
        prompt=prompt,
    )
    db = Database(home / "walletsync.db", secrets.storage_key)
    try:
        relay = None if offline else await choose_relay(config, home)
    except BaseException:
        db.close()
        raise
    return home, db, secrets, relay
