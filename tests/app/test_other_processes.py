"""The app while other walletsync processes use the same data dir (issue #9, item 11)."""

from __future__ import annotations

from tests.app.conftest import record_notifications, until
from tests.companion.conftest import Cli
from tests.companion.conftest import paired as cli_paired
from walletsync.app import build_app
from walletsync.app.screens.sessions import SessionsScreen


async def test_a_session_paired_from_the_cli_appears_in_the_running_app(companion, paired, tmp_path):
    """The app lists its session; `walletsync pair` + a phone link another from a terminal: the list shows it within
    seconds, without a restart or a key press, and pinging it from the app reaches that phone."""
    logs = tmp_path / "cli-logs"
    logs.mkdir()
    cli = Cli(companion.home, companion.relay.url, logs)
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(140, 40)) as pilot:
        first = lambda: isinstance(app.screen, SessionsScreen) and len(app.screen.records) == 1  # noqa: E731
        await until(pilot, first, what="the first session")
        session, phone = await cli_paired(cli, name="from-cli")
        try:
            listed = lambda: session["topic"] in app.screen.records  # noqa: E731
            await until(pilot, listed, timeout=10, what="the CLI-paired session in the list")
            assert app.screen.records[session["topic"]].name == "from-cli"
            table = app.screen.query_one("DataTable")
            table.move_cursor(row=table.get_row_index(session["topic"]))
            await pilot.press("p")
            await until(pilot, lambda: any(m.startswith("from-cli answered") for m in seen), what="the ping answer")
        finally:
            await phone.close()
