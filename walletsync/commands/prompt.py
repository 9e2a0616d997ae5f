"""Asking the user for a passphrase at the terminal: the CLI's half of ``open_device_secrets(prompt=...)``.

The store never talks to a terminal; the CLI hands it :func:`terminal_prompt` so a
``--keyring-file`` without ``$WALLETSYNC_PASSPHRASE`` is asked for on a terminal and
refused (with how to give one) in a script.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
import threading
from collections.abc import Callable

from walletsync.errors import WalletsyncError
from walletsync.text import shown


def terminal_prompt() -> Callable[[str], str] | None:
    """``getpass.getpass`` (asks without echo) when stdin is a terminal; None when nobody could answer."""
    try:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # stdin closed
        interactive = False
    return getpass.getpass if interactive else None


def secret_line(
    argument: str | None,
    env: str,
    what: str,
    prompt: str,
    max_bytes: int,
    error: type[WalletsyncError] = WalletsyncError,
) -> tuple[str, bool]:
    """A secret-bearing line (a pairing URI, a link) from the argument, else ``$env``, else one line of stdin.

    Also says whether it came through a pipe (stdin is then spent: answers are read from the terminal).
    An argument is visible to every local user in ``/proc/PID/cmdline``; the environment and stdin are
    the owner's alone, so an argument works but earns a note. Raises ``error`` when there is none or it
    is too long.
    """
    if argument and argument != "-":
        print(
            f"walletsync: note: a {what} given as an argument is visible to other local users (ps); "
            f"pipe it on stdin or set ${env} instead",
            file=sys.stderr,
            flush=True,
        )
        return argument, False
    if argument is None and os.environ.get(env):
        return os.environ[env].strip(), False
    if sys.stdin is None:
        raise error(f"no {what}: give it on stdin or in ${env}")
    piped = not sys.stdin.isatty()
    if not piped:
        print(prompt, end="", file=sys.stderr, flush=True)
    line = sys.stdin.buffer.readline(max_bytes + 1)
    if len(line) > max_bytes:
        raise error(f"stdin: a {what} is at most {max_bytes} bytes; this line is longer")
    text = line.decode("utf-8", "replace").strip()
    if not text:
        raise error(f"no {what}: stdin was empty (give it on stdin or in ${env})")
    return text, piped


async def ask_on_terminal(fd: int, question: str) -> bool:
    """Ask on stderr, read the answer from ``fd`` (a terminal) without blocking the event loop (or exit)."""
    print(f"{shown(question)} [y/N] ", end="", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def deliver(line: str) -> None:
        if not answer.done():
            answer.set_result(line)

    def read() -> None:  # os.read, not input(): a daemon thread must not hold stdin's lock at exit
        data = b""
        while not data.endswith(b"\n"):
            chunk = os.read(fd, 1)
            if not chunk:
                break
            data += chunk
        loop.call_soon_threadsafe(deliver, data.decode("utf-8", "replace"))

    threading.Thread(target=read, name="terminal-question", daemon=True).start()
    return (await answer).strip().lower() in ("y", "yes")
