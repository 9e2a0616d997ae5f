"""Ten thousand sessions in the session list: every row is there with its own text, the countdowns on screen follow
the clock (a row scrolled into view shows the current one), and a change to one session shows without losing the
cursor. The fake companion is enough: this is the app's table, not the service.
"""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import DataTable

from tests.app.conftest import until
from tests.app.fakes import NOW, FakeCompanion, session
from walletsync.app import build_app
from walletsync.app.screens.sessions import SessionsScreen
from walletsync.service import StoreChanged

MANY = 10_000


class MovingClock(FakeCompanion):
    """The fake companion with a clock the test moves."""

    now = float(NOW)

    def clock(self) -> float:
        return self.now


def many_sessions() -> MovingClock:
    """``MANY`` sessions, named s00000…; every 7th ended (5, 12, …); session n expires 100 + n seconds from NOW."""
    records = [
        replace(
            session(1, f"s{n:05d}", "deleted" if n % 7 == 5 else "active", expiry=NOW + 100 + n),
            topic=f"{n:064x}",
            peer={"name": f"Wallet {n}", "url": f"https://w{n}.example"},
        )
        for n in range(MANY)
    ]
    return MovingClock(records)


def cell(table: DataTable, topic: str, column: str) -> str:
    return str(table.get_cell(topic, column))


async def test_ten_thousand_sessions_are_listed_and_their_countdowns_follow_the_clock():
    companion = many_sessions()
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen), what="the session list")
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == MANY, timeout=120, what="every row")
        first, last = f"{0:064x}", f"{MANY - 1:064x}"
        assert [cell(table, first, c) for c in ("name", "peer", "expires", "status")] == [
            "s00000",
            "Wallet 0",
            "1:40",
            "active",
        ]
        assert [cell(table, last, c) for c in ("name", "expires", "status")] == ["s09999", "2h 48m", "active"]
        assert [cell(table, f"{5:064x}", c) for c in ("name", "expires", "status")] == ["s00005", "—", "deleted"]
        assert table.get_row_index(last) == MANY - 1

        companion.now = NOW + 60  # a minute passes: the first row's countdown changes on the next tick
        await until(pilot, lambda: cell(table, first, "expires") == "0:40", what="the countdown on screen")
        companion.now = NOW + 101  # the first session's expiry passes: its status says so
        await until(pilot, lambda: cell(table, first, "status") == "expired", what="the expired status")
        assert cell(table, first, "expires") == "expired"

        companion.now = NOW + 3600  # an hour on, the last row (off screen until now) shows the current countdown
        table.move_cursor(row=MANY - 1)
        await until(pilot, lambda: cell(table, last, "expires") == "1h 48m", what="the last row's countdown")

        companion._sessions[MANY - 1] = replace(companion._sessions[MANY - 1], name="renamed")
        app.session_events.publish(StoreChanged())  # another process renamed it
        await until(pilot, lambda: cell(table, last, "name") == "renamed", what="the new name")
        assert table.row_count == MANY and app.screen.current_topic() == last
