"""Opening a data dir for the companion: its device secrets, its database, and the relay it will talk through."""

from __future__ import annotations

from pathlib import Path

from walletsync.paths import data_dir as resolve_data_dir
from walletsync.service.config import Config
from walletsync.service.relay_choice import RelayChoice, choose_relay
from walletsync.service.secrets_choice import open_secrets
from walletsync.store.db import Database
from walletsync.store.keys import DeviceSecrets, Prompt


async def open_data_dir(
    config: Config, *, offline: bool, prompt: Prompt | None
) -> tuple[Path, Database, DeviceSecrets, RelayChoice | None]:
    """The data dir ``config`` names, its secrets and database open, its relay chosen (none when ``offline``).

    The database is closed again when choosing the relay fails (a local relay that will not start).
    """
    home = resolve_data_dir(config.data_dir)
    database = home / "walletsync.db"
    secrets = open_secrets(config, home, prompt, fresh=not database.exists())
    db = Database(database, secrets.storage_key)
    try:
        relay = None if offline else await choose_relay(config, home)
    except BaseException:
        db.close()
        raise
    return home, db, secrets, relay
