"""Reaching the clipboard from inside a terminal, and saying honestly whether the copy got there.

A terminal program has one way to the clipboard: the OSC 52 escape sequence (Textual's
``copy_to_clipboard`` writes it), which the terminal may accept (most do; macOS Terminal does not) and
the program cannot tell. Inside tmux the sequence reaches tmux first, and with tmux's default
``set-clipboard external`` tmux drops a program's copy; there the text is handed to tmux itself
(``tmux load-buffer -w -``, tmux 3.2 or later), which keeps it as a paste buffer and sends it on to the
terminal. What is copied may be a secret (a pairing URI holds its key): it goes to tmux on stdin,
never on a command line, and no message quotes it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

TMUX_SECONDS = 2.0
"""How long a tmux command may take before the copy is reported as unsure (tmux answers in milliseconds)."""


@dataclass(frozen=True)
class Copied:
    """How a copy went: a title and a sentence for the notification; ``sure`` is False when it may not have arrived."""

    title: str
    how: str
    sure: bool


def in_tmux(env: Mapping[str, str] = os.environ) -> bool:
    return bool(env.get("TMUX"))


def outside_tmux(what: str) -> Copied:
    """Only the terminal can tell whether it took the OSC 52: say so."""
    return Copied(
        "Copied",
        f"{what} sent to the terminal's clipboard (OSC 52). If pasting gives something else, "
        "this terminal does not take OSC 52: select the text instead.",
        sure=True,
    )


def _tmux(*args: str, text: str | None = None) -> str:
    """Run ``tmux args`` (the server named by $TMUX); its output, or OSError saying why it failed."""
    try:
        done = subprocess.run(
            ["tmux", *args],
            input=text.encode() if text is not None else None,
            capture_output=True,
            timeout=TMUX_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise OSError("no tmux command on PATH") from None
    except subprocess.TimeoutExpired:
        raise OSError(f"tmux did not answer within {TMUX_SECONDS:.0f} s") from None
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip().splitlines()
        raise OSError(f"tmux {args[0]} failed: {error[0][:120] if error else f'exit status {done.returncode}'}")
    return done.stdout.decode(errors="replace").strip()


def through_tmux(what: str, text: str) -> Copied:
    """Inside tmux, after the OSC 52 went out: check whether tmux passes it on, else hand ``text`` to tmux.

    Blocking (runs tmux): call it off the event loop.
    """
    try:
        setting = _tmux("show-options", "-gv", "set-clipboard")
    except OSError as exc:
        return Copied(
            "Maybe not copied",
            f"{what} sent as OSC 52, but tmux could not be asked whether it passes that on ({exc}); with its "
            "default (set-clipboard external) it does not. Select the text instead.",
            sure=False,
        )
    if setting == "on":
        return Copied(
            "Copied",
            f"{what} sent through tmux (set-clipboard on) to the terminal's clipboard (OSC 52), "
            "and kept as tmux's newest paste buffer.",
            sure=True,
        )
    try:
        _tmux("load-buffer", "-w", "-", text=text)
    except OSError as exc:
        return Copied(
            "Not copied",
            f"{what} sent as OSC 52, but tmux drops it (set-clipboard {setting}) and would not take it "
            f"directly ({exc}). Run `tmux set -g set-clipboard on` and copy again, or select the text.",
            sure=False,
        )
    return Copied(
        "Copied through tmux",
        f"{what} handed to tmux (its set-clipboard is {setting}, which drops a program's own copy): it is tmux's "
        "newest paste buffer (prefix ] pastes it), and tmux sent it on to the terminal's clipboard (OSC 52).",
        sure=True,
    )
