"""Copying from the pairing screen (``c`` the URI, ``w`` the whole ``walletsync phone`` line) and saying how it went.

Inside tmux the app asks tmux itself: these tests run a private tmux server (its own socket, no config
file) and point $TMUX at it, as tmux does for the programs in its panes. They skip where tmux is not
installed; the test without tmux on PATH runs everywhere.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.conftest import record_notifications, until
from tests.app.fakes import URI, FakeCompanion
from tests.app.screen import widget_text
from walletsync.app import build_app
from walletsync.app.screens.pairing import PairingScreen
from walletsync.service import phone_command


class Tmux:
    """A tmux server of the test's own (``-S socket -f /dev/null``); ``env`` is the $TMUX a pane of it would see."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self.run("new-session", "-d", "-x", "80", "-y", "24")
        pid = self.run("display-message", "-p", "#{pid}")
        self.env = f"{socket},{pid},0"

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", os.devnull, *args], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()


@pytest.fixture
def tmux(tmp_path, monkeypatch) -> Iterator[Tmux]:
    assert shutil.which("tmux"), "tmux is missing: ./scripts/test installs it (scripts/setup-test-services.sh)"
    server = Tmux(tmp_path / "tmux.sock")
    monkeypatch.setenv("TMUX", server.env)
    yield server
    server.run("kill-server")


async def copy_on_pairing(key: str, companion: FakeCompanion | None = None) -> tuple[list[str], str]:
    """Press ``key`` on the first screen (the pairing, a local relay); the notification that follows and what the
    app put on its clipboard."""
    app = build_app(companion or FakeCompanion([]))
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None)
        await pilot.press(key)
        await until(pilot, lambda: seen, what="a notification")
    return seen, app.clipboard


async def test_outside_tmux_it_says_the_terminal_decides(monkeypatch):
    """c outside tmux: the URI goes out as OSC 52 and the notification says the terminal must accept that."""
    monkeypatch.delenv("TMUX", raising=False)
    seen, clipboard = await copy_on_pairing("c")
    assert clipboard == URI
    assert seen == [
        "Pairing URI sent to the terminal's clipboard (OSC 52). If pasting gives something else, this terminal does "
        "not take OSC 52: select the text instead."
    ]


async def test_w_copies_the_whole_phone_line(monkeypatch):
    """w copies the whole ``WALLETSYNC_URI='wc:…' walletsync phone`` line, which the screen shows cut short on two
    lines of an 80-column terminal (not four)."""
    monkeypatch.delenv("TMUX", raising=False)
    seen, clipboard = await copy_on_pairing("w")
    assert clipboard == phone_command(URI)
    assert seen[0].startswith("The walletsync phone line sent to the terminal's clipboard")
    app = build_app(FakeCompanion([]))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None)
        await pilot.pause()
        lines = [line.strip() for line in widget_text(app, "#pairing-hint").splitlines() if line.strip()]
    assert lines == [
        "A test wallet on this machine pairs with (w copies it):",
        f"WALLETSYNC_URI='{URI[:12]}…' walletsync phone",
    ]


async def test_no_phone_line_on_a_public_relay(monkeypatch):
    """On a relay that is not local no walletsync phone can pair from here: no line, and w is not offered."""
    from walletsync.service import RelayChoice

    fake = FakeCompanion([])
    fake.relay = RelayChoice("wss://relay.example", "public")
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None)
        await pilot.pause()
        assert widget_text(app, "#pairing-hint").strip() == ""
        assert "w" not in app.screen.active_bindings


async def test_tmux_default_drops_the_copy_so_tmux_is_handed_it(tmux):
    """Inside tmux with its default set-clipboard (external) an app's OSC 52 never leaves tmux: c hands the URI to
    tmux instead (on stdin), says so, and the URI is tmux's newest paste buffer."""
    assert tmux.run("show-options", "-gv", "set-clipboard") == "external"
    seen, _ = await copy_on_pairing("c")
    assert seen == [
        "Pairing URI handed to tmux (its set-clipboard is external, which drops a program's own copy): it is tmux's "
        "newest paste buffer (prefix ] pastes it), and tmux sent it on to the terminal's clipboard (OSC 52)."
    ]
    assert tmux.run("show-buffer") == URI


async def test_tmux_passing_copies_on(tmux):
    """With set-clipboard on, tmux passes the OSC 52 on itself: the notification says so and nothing else is done."""
    tmux.run("set-option", "-g", "set-clipboard", "on")
    seen, _ = await copy_on_pairing("c")
    assert seen == [
        "Pairing URI sent through tmux (set-clipboard on) to the terminal's clipboard (OSC 52), and kept as tmux's "
        "newest paste buffer."
    ]


async def test_inside_tmux_without_the_tmux_command(monkeypatch, tmp_path):
    """$TMUX set but no tmux on PATH: the copy is reported as maybe not arrived, and the app goes on."""
    monkeypatch.setenv("TMUX", f"{tmp_path}/gone.sock,1,0")
    monkeypatch.setenv("PATH", str(tmp_path))
    seen, clipboard = await copy_on_pairing("c")
    assert clipboard == URI
    assert seen == [
        "Pairing URI sent as OSC 52, but tmux could not be asked whether it passes that on (no tmux command on "
        "PATH); with its default (set-clipboard external) it does not. Select the text instead."
    ]


async def test_a_tmux_too_old_to_take_it(monkeypatch, tmp_path):
    """A tmux before 3.2 (no ``load-buffer -w``) with the default setting: "Not copied", and how to fix it."""
    old = tmp_path / "tmux"
    old.write_text(
        '#!/bin/sh\ncase "$1" in show-options) echo external ;; *) echo "unknown flag -w" >&2; exit 1 ;; esac\n'
    )
    old.chmod(old.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("TMUX", f"{tmp_path}/old.sock,1,0")
    monkeypatch.setenv("PATH", str(tmp_path))
    seen, _ = await copy_on_pairing("c")
    assert seen == [
        "Pairing URI sent as OSC 52, but tmux drops it (set-clipboard external) and would not take it directly "
        "(tmux load-buffer failed: unknown flag -w). Run `tmux set -g set-clipboard on` and copy again, or select "
        "the text."
    ]


async def test_the_link_dialog_copies_with_a_warning(monkeypatch):
    """c in the link dialog copies the link, says how, and says to paste it only on the other device."""
    from tests.app.fakes import LINK_URI
    from walletsync.app.screens.devices import DevicesScreen
    from walletsync.app.screens.linking import LinkScreen

    monkeypatch.delenv("TMUX", raising=False)
    app = build_app(FakeCompanion([]))
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen))
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen))
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LinkScreen) and app.screen.stage == "offered")
        await pilot.press("c")
        await until(pilot, lambda: seen, what="a notification")
        assert app.clipboard == LINK_URI
    assert seen[0].startswith("The link sent to the terminal's clipboard (OSC 52).")
    assert seen[0].endswith("Paste it only on your other device.") and LINK_URI not in seen[0]
