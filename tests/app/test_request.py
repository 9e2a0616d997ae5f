"""The request screen driven with Pilot: a real relay, a Python wallet that signs, refuses or lies."""

from __future__ import annotations

import json

from eth_account import Account
from textual.widgets import Input, Static, TabbedContent, TextArea

from tests.app.conftest import answer_next_request, record_notifications, until
from tests.pypeer import TEST_ADDRESS
from walletsync.app import build_app
from walletsync.app.screens.request import RequestScreen
from walletsync.app.screens.sessions import SessionsScreen
from walletsync.protocol import events as ev
from walletsync.protocol.jsonrpc import sdk_error

OTHER_KEY = "0x" + "11" * 32
OTHER_ADDRESS = Account.from_key(OTHER_KEY).address
MAIL = {
    "types": {"EIP712Domain": [{"name": "name", "type": "string"}], "Mail": [{"name": "contents", "type": "string"}]},
    "primaryType": "Mail",
    "domain": {"name": "walletsync test"},
    "message": {"contents": "hello"},
}


def status(app) -> Static:
    return app.screen.query_one("#request-status", Static)


def status_text(app) -> str:
    return str(status(app).render())


async def open_request_screen(pilot, topic: str) -> None:
    """From the session table, ``s`` on the (only) session opens its request screen."""
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, SessionsScreen) and pilot.app.screen.current_topic() == topic,
        what="the table",
    )
    await pilot.press("s")
    await until(pilot, lambda: isinstance(pilot.app.screen, RequestScreen), what="the request screen")
    assert pilot.app.screen.topic == topic


async def send_message(pilot, text: str) -> None:
    await pilot.press(*text)
    assert pilot.app.screen.query_one("#message-input", Input).value == text
    await pilot.press("ctrl+s")


async def test_signed_message_is_verified(companion, paired):
    """s on the session opens "New request — py-wallet"; the user types a message and sends it; the screen says
    "Waiting for the phone…" with a countdown; the phone signs; the screen says "Verified" and shows the session
    account as the recovered address."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_request_screen(pilot, session.topic)
        assert "New request — py-wallet" in str(app.screen.query_one("#request-title", Static).render())
        await send_message(pilot, "hello phone")
        await until(pilot, lambda: "Waiting for the phone" in status_text(app), what="the waiting line")
        assert "Expires in 4:5" in status_text(app) or "Expires in 5:00" in status_text(app)

        request = await answer_next_request(wallet)
        assert bytes.fromhex(request.params[0][2:]) == b"hello phone"
        await until(pilot, lambda: status(app).has_class("-verified"), what="the verdict")
        shown = status_text(app)
        assert "Verified — signed by the session account" in shown
        assert f"Recovered  {TEST_ADDRESS}" in shown
        assert isinstance(app.screen, RequestScreen)


async def test_rejection_is_shown_as_a_rejection(companion, paired):
    """The phone refuses: the screen says "Rejected on the phone: User rejected." in the muted rejection style,
    not as an error, and no failure notification pops up."""
    wallet, session = paired
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_request_screen(pilot, session.topic)
        await send_message(pilot, "no thanks")
        await answer_next_request(wallet, error=sdk_error("USER_REJECTED"))
        await until(pilot, lambda: status(app).has_class("-rejected"), what="the rejection")
        assert "Rejected on the phone: User rejected. (code 5000)" in status_text(app)
        assert not status(app).has_class("-error") and seen == []


async def test_a_session_ended_while_waiting_says_no_answer(companion, paired):
    """The phone ends the session while the request waits: the screen says "No answer: the session ended before
    the phone answered" at once — not a rejection by the phone, and not a countdown running on to expiry."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_request_screen(pilot, session.topic)
        await send_message(pilot, "are you there")
        await wallet.next_event(ev.SessionRequestReceived)
        await wallet.run(wallet.engine.disconnect(session.topic, wallet.now()))
        await until(pilot, lambda: status(app).has_class("-ended"), what="the no-answer line")
        assert "No answer: the session ended before the phone answered" in status_text(app)
        assert "Rejected" not in status_text(app)


async def test_a_signature_by_another_key_fails_verification(companion, paired):
    """The phone answers with a signature made by a different key: the screen says "NOT VERIFIED — signature
    mismatch" and shows the address that really signed, which is not the session account."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_request_screen(pilot, session.topic)
        await send_message(pilot, "sign me")
        await answer_next_request(wallet, key=OTHER_KEY)
        await until(pilot, lambda: status(app).has_class("-failed"), what="the failed verdict")
        shown = status_text(app)
        assert "NOT VERIFIED — signature mismatch" in shown
        assert f"Recovered  {OTHER_ADDRESS}" in shown and f"Account    {TEST_ADDRESS}" in shown


async def test_bad_input_is_explained_and_the_screen_stays_usable(companion, paired, tmp_path):
    """Broken typed-data JSON, then a transaction with a bad "to": each time the screen shows the service's
    one-line reason in red and keeps the draft; loading typed data from a file fills the editor; finally a plain
    message goes out and comes back verified, on the same screen."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_request_screen(pilot, session.topic)
        screen = app.screen
        screen.query_one(TabbedContent).active = "kind-typed-data"
        editor = screen.query_one("#typed-data-input", TextArea)
        editor.text = '{"types": '
        await pilot.press("ctrl+s")
        await until(pilot, lambda: status(app).has_class("-error"), what="the typed-data error")
        assert "--typed-data: input" in status_text(app) and "JSON" in status_text(app)
        assert editor.text == '{"types": '

        screen.query_one(TabbedContent).active = "kind-tx"
        screen.query_one("#tx-input", TextArea).text = '{"to": "0x1234", "value": "0x0"}'
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "'to' must be a 20-byte 0x address" in status_text(app), what="the tx error")

        typed = tmp_path / "mail.json"
        typed.write_text(json.dumps(MAIL))
        screen.query_one(TabbedContent).active = "kind-typed-data"
        path = screen.query_one("#typed-data-file", Input)
        path.value = str(typed)
        path.focus()
        await pilot.press("enter")
        await until(pilot, lambda: editor.text == typed.read_text(), what="the file's JSON in the editor")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "'eth_signTypedData_v4' is not allowed" in status_text(app), what="the scope error")

        screen.query_one(TabbedContent).active = "kind-message"
        screen.query_one("#message-input", Input).focus()
        await send_message(pilot, "fixed")
        request = await answer_next_request(wallet)
        assert bytes.fromhex(request.params[0][2:]) == b"fixed"
        await until(pilot, lambda: status(app).has_class("-verified"), what="the verdict")
        assert app.screen is screen
