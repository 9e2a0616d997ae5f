"""The app and scopes the user did not ask for (issue #9, item 9): a real relay and a Python wallet that grants other
chains than requested, or widens the session by update."""

from __future__ import annotations

from textual.widgets import Select, Static

from tests.app.conftest import GRANTED, approve, record_notifications, until
from tests.app.test_detail import open_detail
from tests.app.test_request import open_request_screen, status_text
from tests.pypeer import TEST_ADDRESS
from walletsync.app import build_app
from walletsync.app.screens.detail import SessionDetailScreen

HOSTILE_METHOD = "[@click=app.quit]sign[/]"


def scopes(app) -> str:
    return str(app.screen.query_one("#detail-scopes", Static).render())


async def test_an_update_widening_the_scope_is_notified_and_shown_in_the_detail(companion, paired):
    """On the session's detail, the phone adds eip155:137 and a method named like Textual markup: a "Scope widened"
    notification says "phone widened scope of py-wallet: +eip155:137, +method [@click=app.quit]sign[/] (eip155:1)"
    literally (the app does not quit), and the scopes gain the line "beyond your request: …"."""
    wallet, session = paired
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_detail(pilot, session.topic)
        await until(pilot, lambda: "eip155:1" in scopes(app), what="the scopes")
        assert "beyond your request" not in scopes(app)
        chains = ["eip155:1", "eip155:137"]
        accounts = [f"{c}:{TEST_ADDRESS}" for c in chains]
        widened = {
            "eip155": {
                **GRANTED["eip155"],
                "chains": chains,
                "accounts": accounts,
                "methods": ["personal_sign", HOSTILE_METHOD],
            }
        }
        await wallet.run(wallet.engine.update(session.topic, widened, wallet.now()))
        summary = f"+eip155:137, +method {HOSTILE_METHOD} (eip155:1)"
        await until(pilot, lambda: f"phone widened scope of {session.name}: {summary}" in seen, what="the notification")
        await until(pilot, lambda: f"beyond your request: {summary}" in scopes(app), what="the scopes line")
        assert app.is_running and isinstance(app.screen, SessionDetailScreen)


async def test_the_request_screen_never_preselects_a_chain_nobody_asked_for(companion):
    """The phone granted only eip155:56 to a pairing that asked for eip155:1: the detail shows "+eip155:56" beyond the
    request, the request screen's chain starts blank, and sending without choosing says to pick a chain explicitly."""
    offer = await companion.pair()
    granted = {
        "eip155": {
            "chains": ["eip155:56"],
            "accounts": [f"eip155:56:{TEST_ADDRESS}"],
            "methods": ["personal_sign"],
            "events": [],
        }
    }
    wallet = await approve(companion.relay.url, offer.uri, granted=granted)
    try:
        session = await companion.wait_for_session(offer.proposal_id, timeout=20)
        app = build_app(companion)
        async with app.run_test(size=(120, 50)) as pilot:
            await open_detail(pilot, session.topic)
            await until(pilot, lambda: "beyond your request: +eip155:56" in scopes(app), what="the scopes line")
            await pilot.press("escape")
            await open_request_screen(pilot, session.topic)
            assert app.screen.query_one("#request-chain", Select).value is Select.NULL
            await pilot.click("#message-input")
            await pilot.press(*"hello", "enter")
            await until(
                pilot, lambda: "only chains you did not ask for (eip155:56)" in status_text(app), what="the refusal"
            )
        assert [r.kind for r in companion.audit_entries(session.topic) if r.kind.startswith("request_")] == [
            "request_refused_by_scope"
        ]
    finally:
        await wallet.close()
