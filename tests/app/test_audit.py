"""The audit screen against a real relay and a Python wallet: the signed log, its filters, and its check."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable, Select, Static

from tests.app.conftest import until
from walletsync.app import build_app
from walletsync.app.screens.audit import AuditScreen
from walletsync.app.screens.sessions import SessionsScreen


def kinds(app) -> list[str]:
    """The Event column, top (newest) to bottom."""
    table = app.screen.query_one(DataTable)
    return [str(table.get_cell(row, "kind")) for row in table.rows]


def verdict(app) -> Static:
    return app.screen.query_one("#audit-verdict", Static)


async def open_audit(pilot) -> None:
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, SessionsScreen) and pilot.app.screen.records,
        what="the sessions table",
    )
    await pilot.press("a")
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, AuditScreen) and pilot.app.screen.query_one(DataTable).row_count,
        what="the audit rows",
    )


async def test_the_log_lists_filters_and_verifies(companion, paired):
    """a on the session table shows that session's rows (approved, settled, renamed) newest first; "All sessions"
    adds the pairing rows; the Event filter narrows to the rename; v says "Chain intact: N entries, signed head matches"."""
    wallet, session = paired
    companion.rename(session.topic, "desk")
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_audit(pilot)
        by_session, by_kind = (app.screen.query_one(f"#audit-{name}", Select) for name in ("session", "kind"))
        assert by_session.value == session.topic
        assert kinds(app) == ["session renamed", "session settled", "proposal approved"]
        assert "new=desk, old=py-wallet" in str(app.screen.query_one(DataTable).get_cell_at((0, 5)))

        by_session.clear()
        await until(pilot, lambda: "pairing offered" in kinds(app), what="every session's rows")
        assert kinds(app)[-2:] == ["proposal sent", "pairing offered"]
        by_kind.value = "session_renamed"
        await until(pilot, lambda: kinds(app) == ["session renamed"], what="only the rename")

        await pilot.press("v")
        await until(pilot, lambda: verdict(app).has_class("-ok"), what="the verdict")
        entries = len(companion.audit_entries())
        assert str(verdict(app).render()) == f"Chain intact: {entries} entries, signed head matches"


async def test_new_rows_appear_while_it_is_open(companion, paired):
    """With the log open, a rename made elsewhere (here: through the service) shows up at the top at once."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_audit(pilot)
        companion.rename(session.topic, "laptop")
        await until(pilot, lambda: kinds(app)[0] == "session renamed", what="the new row")


async def test_a_tampered_log_is_named(companion, paired):
    """Someone with file access edits row 1, then deletes row 2: v says "Chain BROKEN at entry 1: edited…", then
    "…at entry 3: row 2 missing (deleted)", in the error colour; the app keeps running."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_audit(pilot)
        with sqlite3.connect(companion.home / "walletsync.db") as attacker:
            attacker.execute("UPDATE audit SET data = replace(data, 'pairing_topic', 'pairing_topiX') WHERE seq = 1")
        await pilot.press("v")
        await until(pilot, lambda: verdict(app).has_class("-broken"), what="the broken verdict")
        assert str(verdict(app).render()).startswith("Chain BROKEN at entry 1: edited")

        with sqlite3.connect(companion.home / "walletsync.db") as attacker:
            attacker.execute("UPDATE audit SET data = replace(data, 'pairing_topiX', 'pairing_topic') WHERE seq = 1")
            attacker.execute("DELETE FROM audit WHERE seq = 2")
        await pilot.press("v")
        await until(pilot, lambda: "entry 3" in str(verdict(app).render()), what="the second verdict")
        assert "row 2 missing (deleted)" in str(verdict(app).render()) and verdict(app).has_class("-broken")
        assert app.is_running and isinstance(app.screen, AuditScreen)


async def test_a_long_log_shows_its_newest_rows_and_says_so():
    """A log of 1,200 entries opens on the newest 500 (#1200 first) with "Showing the newest 500 of 1200
    entries" under the table; filtering to one kind narrows the count it reports."""
    from tests.app.fakes import FakeCompanion
    from tests.app.scenes.audit import entry, open_log

    fake = FakeCompanion([])
    fake.session_audit = tuple(
        entry(n, 5000 - n, "ping_answered" if n % 3 else "request_pushed", None) for n in range(1, 1201)
    )
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_log(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 500 and str(table.get_cell_at((0, 0))) == "1200"
        assert "Showing the newest 500 of 1200 entries" in str(app.screen.query_one("#audit-empty", Static).render())
        app.screen.query_one("#audit-kind", Select).value = "ping_answered"
        await until(
            pilot,
            lambda: "newest 500 of 800 entries" in str(app.screen.query_one("#audit-empty", Static).render()),
            what="the filtered count",
        )
