"""Backup files for the app's restore tests: real vaults (cheap Argon2id costs) around a stand-in content.

The database inside is empty: the fake companion's restore reads only who made the backup and when; the real
companion's restore is tested with a real backup (tests/app/test_backup.py).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from tests.app.fakes import NOW
from walletsync.store.keys import DeviceSecrets
from walletsync.vault import ShareSpec, seal
from walletsync.vault.kdf import MEMLIMIT_FLOOR, OPSLIMIT_FLOOR


def backup_file(
    path: Path,
    *,
    passphrase: str | None = None,
    spec: ShareSpec | None = None,
    made_by: str = "old laptop",
    made_at: int = NOW - 86400,
) -> list[str]:
    """Write a backup to ``path`` that opens with ``passphrase`` and/or the shares returned (group after group)."""
    secrets = DeviceSecrets.generate()
    content = {
        "format": "walletsync-backup",
        "version": 1,
        "created_at": made_at,
        "device": secrets.client_id,
        "made_by": made_by,
        "secrets": base64.b64encode(secrets.to_bytes()).decode(),
        "database": "",
        "files": {},
    }
    sealed = seal(
        json.dumps(content).encode(),
        random=os.urandom,
        passphrase=passphrase,
        spec=spec,
        opslimit=OPSLIMIT_FLOOR,
        memlimit=MEMLIMIT_FLOOR,
    )
    path.write_bytes(sealed.data)
    return [share for group in sealed.shares or [] for share in group]
