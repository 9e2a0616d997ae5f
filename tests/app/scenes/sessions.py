"""Scenes of the sessions screen."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.app.fakes import NOW, FakeCompanion, session
from tests.app.scenes import Scene, sessions_shown
from walletsync.app import build_app


def three_sessions() -> FakeCompanion:
    return FakeCompanion(
        [
            session(1, "phone"),
            session(2, "ledger", expiry=NOW + 42 * 60, chains=("eip155:1", "eip155:137")),
            session(3, "old", status="revoked"),
        ]
    )


async def keys_asked(pilot: Pilot) -> None:
    from walletsync.app.screens.keys import KeysScreen

    await sessions_shown(pilot)
    await pilot.press("question_mark")
    while not isinstance(pilot.app.screen, KeysScreen):
        await pilot.pause(0.01)
    await pilot.pause()


SCENES = [
    Scene(
        "sessions",
        "The session table with three rows — an active phone on Ethereum (eip155:1) (first row highlighted, 6 days "
        'left), an active two-chain wallet ("Ethereum +1") expiring in 42 minutes, and a revoked one with '
        "no countdown — with Pending and Last ping columns, the key bindings (⏎ Details, ? Keys, r, d, e, p, s, a, n, v, q Quit; no ^p palette) in the footer, "
        'and "local relay ws://127.0.0.1:8765 · link up" in the status bar.',
        lambda: build_app(three_sessions()),
        size=(120, 24),
        steps=sessions_shown,
    ),
    Scene(
        "keys",
        '? on the session table: a dialog "Keys — Sessions" over the table listing ⏎ Details, r Rename, d Revoke, '
        "e Extend, p Ping, s New request, a Audit, n New pairing, v Devices, b Balances and k Backup (not in the footer, which is "
        'full), then under "Everywhere" ? / f1 Keys, '
        "q / ^q Quit, ^c Quit (copies instead while text is selected), tab / shift+tab and ^p Command palette, and "
        '"esc, ? or f1 closes this list" at the bottom; nothing in it is dimmed.',
        lambda: build_app(three_sessions()),
        size=(120, 30),
        steps=keys_asked,
    ),
]
