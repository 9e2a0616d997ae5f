"""A phone whose name, accounts, chains and event data are markup and terminal escapes: the app shows them as text."""

from __future__ import annotations

import html
import os
import unicodedata

from tests.app.conftest import record_notifications, until
from tests.app.test_flow import cell
from tests.pypeer import TEST_ADDRESS, py_peer
from walletsync.app import build_app
from walletsync.app.screens.audit import AuditScreen
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.app.screens.modals import ConfirmScreen, RenameScreen
from walletsync.app.screens.request import RequestScreen
from walletsync.app.screens.sessions import SessionsScreen
from walletsync.protocol import events as ev
from walletsync.protocol.engine import SignEngine

CLICK = "[@click=app.quit]"
HOSTILE_NAME = f"{CLICK}evil[/] \x1b]0;pwned\x07\x1b[2J"
HOSTILE_ACCOUNT = f"eip155:1:{CLICK}{TEST_ADDRESS}[/]"
HOSTILE_CHAIN = "eip155:[reverse]9"
HOSTILE_METADATA = {
    "name": HOSTILE_NAME,
    "description": "[bold]x[/]\x1b[8m",
    "url": f"https://{CLICK}.example/\x1b[2J",
    "icons": [],
}
GRANTED = {
    "eip155": {
        "chains": ["eip155:1", HOSTILE_CHAIN],
        "accounts": [HOSTILE_ACCOUNT, f"{HOSTILE_CHAIN}:0xAbC[/]"],
        "methods": ["personal_sign"],
        "events": ["accountsChanged"],
    }
}


def screen_text(app) -> str:
    """What the screen shows, as text (the SVG export, unescaped)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def _unsafe(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf")]


async def test_the_app_starts_and_shows_a_hostile_phone_as_text(companion):
    """Paired with a phone whose strings are Textual markup and terminal escapes, the app starts on the session list
    (no MarkupError), shows the markup literally in the list, detail and audit screens, announces the phone's events
    with escapes made visible, and a ``[@click=app.quit]`` string quits nothing."""
    offer = await companion.pair()
    wallet = await py_peer(companion.relay.url, "hostile", engine=SignEngine(HOSTILE_METADATA, os.urandom))
    try:
        await wallet.run(wallet.engine.pair(offer.uri, wallet.now()))
        proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
        await wallet.run(wallet.engine.approve(proposal.id, GRANTED, wallet.now()))
        session = await companion.wait_for_session(offer.proposal_id, timeout=20)
        assert session.peer["name"] == HOSTILE_NAME, "stored exactly as the phone sent it"

        app = build_app(companion)
        seen = record_notifications(app)
        async with app.run_test(size=(160, 40)) as pilot:
            await until(
                pilot, lambda: isinstance(app.screen, SessionsScreen) and app.screen.records, what="the session list"
            )
            await pilot.pause()
            listed = screen_text(app)
            assert f"{CLICK}evil[/]" in listed and "\\x1b]0" in listed, "markup and escapes shown as text, clipped"
            assert "[@clic" in listed and "0xAbC[/]" in listed
            assert cell(app, session.topic, "chains") == "Ethereum +1", "the detail has the hostile one"

            hostile_data = f"{CLICK}\x1b[2J0x1"
            await wallet.run(
                wallet.engine.emit(session.topic, "eip155:1", "accountsChanged", hostile_data, wallet.now())
            )
            await until(pilot, lambda: any("accountsChanged" in m for m in seen), what="the phone event notification")
            assert all(not _unsafe(m) for m in seen), seen
            assert any(f"{CLICK}\\x1b[2J0x1" in m for m in seen), seen

            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, SessionDetailScreen) and app.screen.record is not None)
            await pilot.pause()
            detail = screen_text(app)
            assert HOSTILE_ACCOUNT in detail and HOSTILE_CHAIN in detail and "\\x1b]0;pwned\\x07\\x1b[2J" in detail

            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, AuditScreen) and app.screen.entries)
            await pilot.pause()
            log = screen_text(app)
            assert "session settled" in log and f"{CLICK}evil[/]" in log

            await pilot.press("escape", "escape")
            await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
            for key, dialog in (("r", RenameScreen), ("d", ConfirmScreen)):
                await pilot.press(key)
                await until(pilot, lambda: isinstance(app.screen, dialog))
                await pilot.pause()
                assert f"'{session.name}'" in screen_text(app), "the local name, markup and all, as text"
                await pilot.press("escape")
                await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, RequestScreen))
            await pilot.pause()
            assert f"New request — {session.name}" in screen_text(app)
            assert app.is_running and app.return_code is None
    finally:
        await wallet.close()
