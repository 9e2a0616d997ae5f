"""Where walletsync keeps its files: ``--data-dir``, else ``$WALLETSYNC_HOME``, else the platform's data dir.

The data dir holds sealed keys, the audit log and the relay's mailbox: it is its owner's alone
(0700, every file in it 0600), however it was made and whatever the process's umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def data_dir(override: str | os.PathLike | None = None) -> Path:
    path = data_dir_path(override)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    make_private(path)
    return path


def data_dir_path(override: str | os.PathLike | None = None) -> Path:
    """Where the data dir is, without making it: for readers that need nothing there (the chain registry)."""
    chosen = override or os.environ.get("WALLETSYNC_HOME") or platformdirs.user_data_dir("walletsync", appauthor=False)
    return Path(chosen).expanduser()


def make_private(directory: Path) -> None:
    """Tighten ``directory`` to 0700 and the files directly in it to 0600 (links are left alone, never followed)."""
    if stat.S_IMODE(os.stat(directory).st_mode) != PRIVATE_DIR:
        os.chmod(directory, PRIVATE_DIR)
    for entry in os.scandir(directory):
        if (
            entry.is_file(follow_symlinks=False)
            and stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) != PRIVATE_FILE
        ):
            try:
                fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue  # gone meanwhile, or not ours to open: nothing to tighten
            try:
                os.fchmod(fd, PRIVATE_FILE)
            finally:
                os.close(fd)


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_APPEND) -> int:
    """A file descriptor for ``path``, created 0600 if new and made 0600 if not (a link is refused)."""
    fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return fd
