"""Scenes of pairing: the QR beside or above its text, too small a terminal, the scopes dialog, and revoking."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.app.fakes import FakeCompanion
from tests.app.scenes import Scene, sessions_shown
from tests.app.scenes.sessions import three_sessions
from walletsync.app import build_app


async def ask_to_revoke(pilot: Pilot) -> None:
    await sessions_shown(pilot)
    await pilot.press("d")
    await pilot.pause()


async def edit_scopes(pilot: Pilot) -> None:
    await pilot.press("o")
    await pilot.pause()
    for widget in pilot.app.screen.query("Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()


SCENES = [
    Scene(
        "pairing-wide",
        "At 120×40 the whole pairing fits: a black-on-white QR on the left; beside it the wc: URI, "
        '"Expires in 5:00", "Asks for Ethereum (eip155:1) · methods: personal_sign, … · events: chainChanged, accountsChanged", '
        'the local relay, "A test wallet on this machine pairs with (w copies it):" above the shortened line '
        '"WALLETSYNC_URI=\'wc:7f6e504bf…\' walletsync phone" and "Use walletsync on another computer? j joins it; '
        'r restores from a backup."; footer ? Keys, c Copy URI, w Copy phone line, o Scopes, j Join other device, '
        "v Devices, esc Back, n New pairing, a Audit log (r, in ? Keys, is not in the footer).",
        lambda: build_app(FakeCompanion([])),
        size=(120, 40),
    ),
    Scene(
        "pairing-narrow",
        "At 80×50 the QR is centred on top and the same text is stacked below it, nothing cut off: the walletsync "
        "phone line takes two lines (what it does, then the shortened command), not four.",
        lambda: build_app(FakeCompanion([])),
        size=(80, 50),
    ),
    Scene(
        "pairing-too-small",
        'At 80×24 no QR is drawn; instead "Make the terminal at least 80×40 to show the QR — or copy the URI below", '
        "with the URI, expiry, scopes and relay below it.",
        lambda: build_app(FakeCompanion([])),
        size=(80, 24),
    ),
    Scene(
        "scopes",
        'o on the pairing screen: a dialog "What the phone is asked for" with Chains (eip155:1), Methods '
        "(personal_sign, eth_signTypedData_v4, eth_sendTransaction) and Events (chainChanged, accountsChanged) "
        'inputs and "New QR" / "Cancel (esc)" buttons, over the dimmed pairing screen.',
        lambda: build_app(FakeCompanion([])),
        size=(120, 40),
        steps=edit_scopes,
    ),
    Scene(
        "revoke-confirm",
        "d on the session table: \"Revoke 'phone'? The phone is told the session is over.\" with a red Revoke "
        'button named "Revoke (y)" and a focused "Cancel (n)", over the dimmed table.',
        lambda: build_app(three_sessions()),
        size=(120, 24),
        steps=ask_to_revoke,
    ),
]
