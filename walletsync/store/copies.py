"""A whole database as bytes and back, for the backup vault: one consistent copy, never a half-written file.

The copy is SQLite's own (the online backup API, then ``serialize``), taken under the database's lock so no
statement of this process runs in between; another process's writes wait for it like for any reader. Key
material in the copy stays sealed with the storage key, as it is in the file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from walletsync.paths import open_private
from walletsync.store.db import Database, DatabaseError

_HEADER = 100


def database_bytes(db: Database) -> bytes:
    """Every byte of ``db`` as one SQLite file image (its committed state now)."""
    memory = sqlite3.connect(":memory:")
    try:
        db.copy_into(memory)
        image = bytearray(memory.serialize())
    finally:
        memory.close()
    # The copy keeps the file's WAL mark (header bytes 18 and 19 = 2), which an image opened in memory refuses:
    # it is written as a rollback-journal file (1), and the store turns WAL on again when it opens it.
    if len(image) >= _HEADER and image[18:20] == b"\x02\x02":
        image[18:20] = b"\x01\x01"
    return bytes(image)


def write_database(data: bytes, path: Path) -> None:
    """``data`` (a file image from :func:`database_bytes`) as a new database file at ``path`` (0600).

    :class:`DatabaseError` if ``data`` is not a SQLite database or ``path`` exists: nothing is left behind then.
    """
    memory = sqlite3.connect(":memory:")
    made = False
    try:
        try:
            memory.deserialize(data)
            if memory.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise DatabaseError("the backed-up database fails SQLite's integrity check")
        except sqlite3.DatabaseError:
            raise DatabaseError("the backup does not hold a SQLite database") from None
        os.close(open_private(path, os.O_WRONLY | os.O_EXCL))
        made = True
        target = sqlite3.connect(str(path))
        try:
            memory.backup(target)
        finally:
            target.close()
    except BaseException:
        if made:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise
    finally:
        memory.close()
