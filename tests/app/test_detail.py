"""The session detail screen (and the session table's request columns) against a real relay and a Python wallet."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Static

from tests.app.conftest import answer_next_request, until
from tests.app.screen import screen_text
from tests.pypeer import TEST_ADDRESS
from walletsync.app import build_app
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.app.screens.request import RequestScreen
from walletsync.app.screens.sessions import SessionsScreen, short_account


def rows(app, table_id: str) -> list[list[str]]:
    table = app.screen.query_one(table_id, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def summary(app) -> str:
    return str(app.screen.query_one("#detail-summary", Static).render())


async def open_detail(pilot, topic: str) -> None:
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, SessionsScreen) and pilot.app.screen.current_topic() == topic,
        what="the table",
    )
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, SessionDetailScreen), what="the detail screen")
    assert pilot.app.screen.topic == topic


async def test_enter_shows_the_session_up_close(companion, paired):
    """enter on the session row opens its detail: the name, the peer "py-wallet · https://py-wallet.example",
    "active · expires in 6d …", the eip155 scopes (chain eip155:1, personal_sign, the account), no requests yet, and
    an audit trail that starts with "proposal approved", "session settled"; escape goes back to the table."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_detail(pilot, session.topic)
        await pilot.pause()
        shown = screen_text(app)
        assert "py-wallet · https://py-wallet.example" in shown
        assert "active · expires in 6d" in shown and "no pending requests" in shown
        assert (
            "chains    Ethereum (eip155:1)" in shown
            and "methods   personal_sign" in shown
            and f"eip155:1:{TEST_ADDRESS}" in shown
        )
        assert rows(app, "#detail-requests") == []
        assert [row[1] for row in rows(app, "#detail-audit")][-2:] == ["session settled", "proposal approved"]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen), what="the table again")


async def test_detail_follows_a_request_as_it_happens(companion, paired):
    """While the detail is open, a request goes out (say from a script): its row appears as "waiting · 4:5x" and the
    summary says "1 pending request"; when the phone signs, the row turns "verified" with the session account as the
    recovered address, and the audit trail grows "request pushed", "request answered", "signature verified"."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_detail(pilot, session.topic)
        signing = asyncio.create_task(companion.sign(session.topic, message="from a script"))
        try:
            await until(pilot, lambda: rows(app, "#detail-requests"), what="the request row")
            method, chain, sent, state, recovered, reason = rows(app, "#detail-requests")[0]
            assert (method, chain, state[:9], recovered) == ("personal_sign", "Ethereum (eip155:1)", "waiting ·", "—")
            assert "1 pending request" in summary(app)

            await answer_next_request(wallet)
            assert (await signing).ok
            await until(pilot, lambda: rows(app, "#detail-requests")[0][3] == "verified", what="the verified row")
            assert rows(app, "#detail-requests")[0][4:] == [
                short_account(TEST_ADDRESS),
                "signed by the session account",
            ]
            assert "no pending requests" in summary(app)
            kinds = [row[1] for row in rows(app, "#detail-audit")]
            assert kinds[:3] == ["signature verified", "request answered", "request pushed"]
        finally:
            signing.cancel()


async def test_s_from_the_detail_sends_and_the_detail_shows_the_verdict(companion, paired):
    """s on the detail opens the request screen for the same session; the phone refuses a first message and signs a
    second; escape goes back to the detail, which lists both, newest first: "verified" and "rejected" with the
    phone's "User rejected." reason."""
    from walletsync.protocol.jsonrpc import sdk_error

    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_detail(pilot, session.topic)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, RequestScreen), what="the request screen")
        assert app.screen.topic == session.topic
        status = app.screen.query_one("#request-status", Static)
        for text, answer in (("first", {"error": sdk_error("USER_REJECTED")}), ("second", {})):
            app.screen.query_one("#message-input").value = text
            await pilot.press("ctrl+s")
            await answer_next_request(wallet, **answer)
            await until(
                pilot, lambda: status.has_class("-rejected" if answer else "-verified"), what=f"the answer to {text}"
            )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionDetailScreen), what="the detail again")
        assert [row[3] for row in rows(app, "#detail-requests")] == ["verified", "rejected"]
        assert rows(app, "#detail-requests")[1][5] == "User rejected. (code 5000)"


async def test_the_table_counts_pending_requests_and_shows_the_last_ping(companion, paired):
    """The session table shows "1" under Pending while a request waits for the phone and "—" once it is answered;
    Last ping reads "—" until p pings the phone, then a moment ago ("just now" or a few seconds)."""
    wallet, session = paired
    app = build_app(companion)

    def cell(column: str) -> str:
        return str(app.screen.query_one(DataTable).get_cell(session.topic, column))

    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen) and app.screen.records, what="the table")
        assert (cell("pending"), cell("ping")) == ("—", "—")
        signing = asyncio.create_task(companion.sign(session.topic, message="count me"))
        try:
            await until(pilot, lambda: cell("pending") == "1", what="one pending request")
            await answer_next_request(wallet)
            await signing
            await until(pilot, lambda: cell("pending") == "—", what="no pending request")
        finally:
            signing.cancel()
        await pilot.press("p")
        await until(pilot, lambda: cell("ping") != "—", what="a last ping")
        assert cell("ping") == "just now" or cell("ping").endswith("s ago")
