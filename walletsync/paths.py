"""Where walletsync keeps its files: ``--data-dir``, else ``$WALLETSYNC_HOME``, else the platform's data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir(override: str | os.PathLike | None = None) -> Path:
    chosen = override or os.environ.get("WALLETSYNC_HOME") or platformdirs.user_data_dir("walletsync", appauthor=False)
    path = Path(chosen).expanduser()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
