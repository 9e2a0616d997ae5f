"""Knowing what you sign, in the app: the request screen decodes the draft and asks twice when it has warnings; a
policy refusal is its own state; the session detail shows the policies in force. A real relay and Python wallet."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode
from textual.widgets import Input, Static, TabbedContent, TextArea

from tests.app.conftest import answer_next_request, approve, until
from tests.app.test_detail import open_detail
from tests.app.test_request import open_request_screen, status, status_text
from tests.pypeer import TEST_ADDRESS
from walletsync.app import build_app
from walletsync.app.screens.modals import SendAnywayScreen
from walletsync.app.screens.request import RequestScreen
from walletsync.protocol import events as ev

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
SPENDER = "0x1111111254EEB25477B68fb85Ed929f73A960582"
UNLIMITED = 2**256 - 1
GRANTED = {
    "eip155": {
        "chains": ["eip155:1"],
        "accounts": [f"eip155:1:{TEST_ADDRESS}"],
        "methods": ["personal_sign", "eth_sendTransaction"],
        "events": [],
    }
}


def approval_tx() -> str:
    data = "0x095ea7b3" + encode(["address", "uint256"], [SPENDER, UNLIMITED]).hex()
    return json.dumps({"to": USDC, "value": "0x0", "data": data})


@pytest.fixture
async def sending(companion):
    """A Python wallet that granted personal_sign and eth_sendTransaction on Ethereum: ``(wallet, session)``."""
    offer = await companion.pair()
    wallet = await approve(companion.relay.url, offer.uri, granted=GRANTED)
    session = await companion.wait_for_session(offer.proposal_id, timeout=20)
    yield wallet, session
    await wallet.close()


def decoded_text(app) -> str:
    return str(app.screen.query_one("#request-decoded", Static).render())


def warnings_text(app) -> str:
    return str(app.screen.query_one("#request-warnings", Static).render())


async def write_tx(pilot, text: str) -> None:
    screen = pilot.app.screen
    screen.query_one(TabbedContent).active = "kind-tx"
    screen.query_one("#tx-input", TextArea).text = text
    await until(pilot, lambda: screen.previewed is not None and screen.previewed[0] == {"tx": text}, what="preview")


async def test_an_unlimited_approval_is_decoded_and_send_asks_twice(companion, sending):
    """An approve(max) of USDC typed as a transaction: under the editor, "Approve unlimited USDC …" with the spender,
    the effect "approve unlimited USDC 0xA0b8…eB48 → <spender>", and the warning (unlimited_approval) in amber.
    ctrl+s opens "Look twice before the phone is asked" listing the warning; n cancels: "Not sent", the draft is
    still there and nothing went out. ctrl+s then y sends it: the phone gets the eth_sendTransaction."""
    wallet, session = sending
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_request_screen(pilot, session.topic)
        tx = approval_tx()
        await write_tx(pilot, tx)
        assert "unlimited" in decoded_text(app).lower() and "USDC 0xA0b8…eB48" in decoded_text(app)
        assert f"approve unlimited USDC 0xA0b8…eB48 → {SPENDER}" in decoded_text(app)
        assert "(unlimited_approval)" in warnings_text(app)
        assert app.screen.query_one("#request-warnings", Static).has_class("-warned")

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SendAnywayScreen), what="the second question")
        listed = str(app.screen.query_one("#send-anyway-warnings").render())
        assert "(unlimited_approval)" in listed
        await pilot.press("n")
        await until(pilot, lambda: "Not sent" in status_text(app), what="not sent")
        assert isinstance(app.screen, RequestScreen)
        assert app.screen.query_one("#tx-input", TextArea).text == tx
        assert companion.requests(session.topic) == []

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SendAnywayScreen), what="the second question again")
        await pilot.press("y")
        request = await wallet.next_event(ev.SessionRequestReceived)
        assert request.method == "eth_sendTransaction" and request.params[0]["data"].startswith("0x095ea7b3")
        await wallet.run(wallet.engine.respond(request.topic, request.id, wallet.now(), result="0x" + "ab" * 32))
        await until(pilot, lambda: status(app).has_class("-verified") or status(app).has_class("-failed"))


async def test_a_harmless_message_sends_without_asking_twice(companion, paired):
    """A personal_sign of "hello phone" is decoded (no warning shown) and ctrl+s sends it at once: no second
    question, "Waiting for the phone…", then verified."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_request_screen(pilot, session.topic)
        screen = app.screen
        await pilot.press(*"hello phone")
        draft = {"message": "hello phone"}
        await until(pilot, lambda: screen.previewed is not None and screen.previewed[0] == draft, what="preview")
        assert "hello phone" in decoded_text(app)
        assert not screen.query_one("#request-warnings", Static).has_class("-warned")
        await pilot.press("ctrl+s")
        await answer_next_request(wallet)
        await until(pilot, lambda: status(app).has_class("-verified"), what="the verdict")
        assert app.screen is screen


async def test_a_policy_refusal_is_shown_with_its_rule(companion, paired):
    """The session's policy allows only eth_sendTransaction: a message is refused before the phone sees it. The
    screen says "Refused by your policy: method_not_allowed — …" and "The phone never saw this request." in the
    refusal style (no generic error), the draft stays, and the phone got nothing."""
    wallet, session = paired
    companion.set_policy(session.topic, methods=["eth_sendTransaction"])
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_request_screen(pilot, session.topic)
        await pilot.press(*"sign me", "ctrl+s")
        await until(pilot, lambda: status(app).has_class("-refused"), what="the refusal")
        assert "Refused by your policy: method_not_allowed — " in status_text(app)
        assert "The phone never saw this request." in status_text(app)
        assert not status(app).has_class("-error")
        assert app.screen.query_one("#message-input", Input).value == "sign me"
        assert companion.requests(session.topic) == []


async def test_a_transfer_over_the_cap_is_warned_before_sending(companion, sending):
    """A 0.1 ETH-a-day cap on the session, then a 0.2 ETH transfer drafted: the preview says "send 0.2 ETH → …" and
    warns over_cap (the policy's warning, through the façade) before anything is sent."""
    wallet, session = sending
    companion.set_policy(session.topic, max_native_per_day=["eip155:1=0.1"])
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_request_screen(pilot, session.topic)
        await write_tx(pilot, json.dumps({"to": SPENDER, "value": hex(2 * 10**17)}))
        assert f"send 0.2 ETH → {SPENDER}" in decoded_text(app)
        assert "(over_cap)" in warnings_text(app)


def policy_text(app) -> str:
    return str(app.screen.query_one("#detail-policy", Static).render())


async def test_the_detail_shows_the_policy_and_an_unattested_file(companion, paired):
    """The session's policy (0.1 ETH a day on Ethereum, 500 USDC a day) is listed under "Policy" with decimals and
    token labels, the all-sessions one as "no policy"; x then y clears it ("no policy"). A policy set again and then
    edited by hand reads "UNATTESTED — every request is refused…" with the command to run."""
    wallet, session = paired
    companion.set_policy(session.topic, max_native_per_day=["eip155:1=0.1"], max_token_per_day=["USDC=500"])
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_detail(pilot, session.topic)
        await until(pilot, lambda: "0.1 ETH" in policy_text(app), what="the policy")
        text = policy_text(app)
        assert "at most    0.1 ETH a day on Ethereum (eip155:1)" in text
        assert "at most    500 USDC 0xA0b8…eB48 a day on Ethereum (eip155:1)" in text
        assert "unlimited approvals refused" in text
        assert "All sessions  no policy" in text and "UNATTESTED" not in text

        await pilot.press("x")
        await pilot.press("y")
        await until(pilot, lambda: "This session  no policy" in policy_text(app), what="the policy cleared")

        view = companion.set_policy(session.topic, max_native_per_day=["eip155:1=0.1"])
        path = view.status.path
        path.write_text(path.read_text().replace('"0.1"', '"100"'))
        app.screen.reload()
        await until(pilot, lambda: "UNATTESTED" in policy_text(app), what="the unattested file")
        assert "walletsync policy attest" in policy_text(app)
        assert app.screen.query_one("#detail-policy", Static).has_class("-unattested")


async def test_typed_data_is_shown_as_data(companion, paired):
    """Typed data whose strings look like markup, for another chain than the one picked: the preview shows its
    message as a tree with "[red]evil[/red]" written as is (never styled), and warns chain_mismatch."""
    wallet, session = paired
    app = build_app(companion)
    typed = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
            "Mail": [{"name": "contents", "type": "string"}],
        },
        "primaryType": "Mail",
        "domain": {"name": "[b]shop[/b]", "chainId": 137},
        "message": {"contents": "[red]evil[/red]"},
    }
    text = json.dumps(typed)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_request_screen(pilot, session.topic)
        screen = app.screen
        screen.query_one(TabbedContent).active = "kind-typed-data"
        screen.query_one("#typed-data-input", TextArea).text = text
        draft = {"typed_data": text}
        await until(pilot, lambda: screen.previewed is not None and screen.previewed[0] == draft, what="preview")
        assert "contents (string): [red]evil[/red]" in decoded_text(app)
        assert "(chain_mismatch)" in warnings_text(app)
