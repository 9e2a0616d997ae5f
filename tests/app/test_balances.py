"""The Balances screen: the cached figures at once while a worker reads fresh ones (the app never waits on an RPC),
r reading again, z showing the zeros; labels and RPC text as data."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from tests.app.scenes import sessions_shown, until_shown
from tests.app.scenes.balances import fresh_rows, with_balances
from walletsync.app import build_app
from walletsync.app.screens.balances import BalancesScreen


def cells(screen: BalancesScreen) -> list[list[str]]:
    table = screen.query_one("DataTable")
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_cached_figures_show_while_fresh_ones_load():
    fake = with_balances()
    fake.cached = [replace(r, cached=True, status="stale", age_s=3600) for r in fresh_rows()[:3] if r.amount]
    fake.balances_gate = asyncio.Event()  # the chains "answer" only when the test says so
    app = build_app(fake)
    async with app.run_test(size=(160, 30)) as pilot:
        await sessions_shown(pilot)
        await pilot.press("b")
        await until_shown(pilot, BalancesScreen, lambda screen: screen.rows)
        screen = app.screen
        assert screen.reading and not screen.fresh
        shown = cells(screen)
        assert [row[3] for row in shown] == ["ETH", "USDC"] and all("cached" in row[7] for row in shown)
        assert "Reading the chains" in str(screen.query_one("#balances-state").render())
        fake.balances_gate.set()
        await until_shown(pilot, BalancesScreen, lambda screen: screen.fresh and not screen.reading)
        shown = cells(screen)
        assert ["ETH +3 tokens", "✗ unreachable"] == shown[-1][3:4] + shown[-1][5:6]
        assert any(row[1] == "cold [b]wallet[/b]" for row in shown)  # the label as typed, not markup
        assert fake.refreshes == 1

        await pilot.press("z")
        await pilot.pause()
        assert "DAI" in [row[3] for row in cells(screen)]
        await pilot.press("r")
        await until_shown(pilot, BalancesScreen, lambda screen: fake.refreshes == 2 and not screen.reading)
        await pilot.press("escape")
        await sessions_shown(pilot)


async def test_no_accounts_says_how_to_get_some():
    fake = with_balances()
    fake.fresh = []
    app = build_app(fake)
    async with app.run_test(size=(120, 24)) as pilot:
        await sessions_shown(pilot)
        await pilot.press("b")
        await until_shown(pilot, BalancesScreen, lambda screen: screen.fresh and not screen.reading)
        assert app.screen.query_one("#balances-empty").display
