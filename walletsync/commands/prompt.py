"""Asking the user for a passphrase at the terminal: the CLI's half of ``open_device_secrets(prompt=...)``.

The store never talks to a terminal; the CLI hands it :func:`terminal_prompt` so a
``--keyring-file`` without ``$WALLETSYNC_PASSPHRASE`` is asked for on a terminal and
refused (with how to give one) in a script.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable


def terminal_prompt() -> Callable[[str], str] | None:
    """``getpass.getpass`` (asks without echo) when stdin is a terminal; None when nobody could answer."""
    try:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # stdin closed
        interactive = False
    return getpass.getpass if interactive else None
