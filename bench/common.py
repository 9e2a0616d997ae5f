"""What the benches share: a relay process of their own, and a real OS keyring to run under."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def start_relay(env: dict[str, str] | None = None, log: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    """A ``walletsync relay`` with its default limits and an in-memory store (its stderr to ``log``); its URL."""
    stderr: IO[str] | None = open(log, "a") if log is not None else None
    relay = subprocess.Popen(
        [PYTHON, "-m", "walletsync", "relay", "--json", "--port", "0", "--store", "memory"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        cwd=ROOT,
        text=True,
    )
    line = relay.stdout.readline()  # type: ignore[union-attr]
    return relay, json.loads(line)["url"]


def under_a_keyring() -> None:
    """Outside a D-Bus session, run this bench again inside a private one with an unlocked gnome-keyring (the real
    Secret Service, as the tests use) and a throw-away HOME; inside one, return."""
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS") or not shutil.which("dbus-run-session"):
        return
    home = tempfile.mkdtemp(prefix="walletsync-bench-keyring-")
    unlock = "echo -n bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null"
    os.execvpe(
        "dbus-run-session",
        ["dbus-run-session", "--", "bash", "-c", f'{unlock}; exec "$0" "$@"', PYTHON, *sys.argv],
        {**os.environ, "HOME": home},
    )
