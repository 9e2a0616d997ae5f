"""Chains by name in the app, from the registry the service hands it (the fake's: bundled plus the user's)."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Select, Static

from tests.app.fakes import FakeCompanion, session
from tests.app.scenes import sessions_shown, until_shown
from tests.app.screen import widget_text
from walletsync.app import build_app
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.app.screens.request import RequestScreen
from walletsync.chains.user import Additions, ChainEntry
from walletsync.service import RequestOutcome

TX_HASH = "0x" + "ab" * 32
LOCAL = session(1, "local", chains=("eip155:31337", "eip155:137"))


def cell(app, topic: str, column: str) -> str:
    return str(app.screen.query_one(DataTable).get_cell(topic, column))


async def test_a_chain_the_user_added_is_named_and_an_unknown_one_stays_its_id():
    """Before the user adds 31337 the table says "Polygon +1" and the detail's scopes list
    "eip155:31337" bare (in the phone's order); with the user's "Anvil" entry the detail and the request screen's
    chain picker name it."""
    fake = FakeCompanion([LOCAL])
    async with build_app(fake).run_test(size=(140, 40)) as pilot:
        await sessions_shown(pilot)
        assert cell(pilot.app, LOCAL.topic, "chains") == "Polygon +1"
        await pilot.press("enter")
        await until_shown(pilot, SessionDetailScreen, lambda screen: screen.record is not None)
        assert "chains    eip155:31337, Polygon (eip155:137)" in widget_text(pilot.app, "#detail-scopes")

        fake.additions = Additions().with_chain(ChainEntry("eip155:31337", "Anvil", "ETH"))
        pilot.app.screen.reload()
        async with asyncio.timeout(5):
            while "Anvil" not in widget_text(pilot.app, "#detail-scopes"):
                await pilot.pause(0.01)
        assert "chains    Anvil (eip155:31337), Polygon (eip155:137)" in widget_text(pilot.app, "#detail-scopes")

        await pilot.press("s")
        await until_shown(pilot, RequestScreen)
        picker = pilot.app.screen.query_one("#request-chain", Select)
        assert [str(label) for label, _ in picker._options if _ is not Select.NULL] == [
            "Polygon (eip155:137)",
            "Anvil (eip155:31337)",
        ]


async def test_a_sent_transaction_shows_its_explorer_link():
    """The phone sent a transaction on Polygon: the verdict shows the Polygonscan page of its hash."""
    polygon = session(1, "phone", chains=("eip155:137",))
    fake = FakeCompanion([polygon])
    verdict = {"verified": True, "recovered": None, "account": None, "reason": "a well-formed transaction hash"}
    fake.outcome = RequestOutcome(polygon, 42, "eth_sendTransaction", TX_HASH, None, verdict, chain_id="eip155:137")
    async with build_app(fake).run_test(size=(140, 40)) as pilot:
        await sessions_shown(pilot)
        await pilot.press("s")
        await until_shown(pilot, RequestScreen)
        await pilot.press("ctrl+s")  # the fake answers whatever is sent with its outcome
        status = pilot.app.screen.query_one("#request-status", Static)
        async with asyncio.timeout(5):
            while not status.has_class("-verified"):
                await pilot.pause(0.01)
        assert f"Explorer   https://polygonscan.com/tx/{TX_HASH}" in str(status.render())
