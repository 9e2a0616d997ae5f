"""The app when the relay link is known to be down: a key that needs the relay says so at once."""

from __future__ import annotations

from textual.widgets import Static

from tests.app.conftest import approve, record_notifications, until
from tests.procs import RelayProcess
from walletsync.app import build_app
from walletsync.app.screens.sessions import SessionsScreen
from walletsync.service import Companion, Config


async def test_ping_while_the_relay_refuses_says_so_and_the_link_comes_back(tmp_path, log_dir):
    """The relay stops after pairing: the status bar says the link is down (connection refused); p on the session
    answers that the relay cannot be reached, with the reason, instead of a timeout; the relay starts again on the
    same port, the link comes back by itself and p gets the phone's answer."""
    relay = RelayProcess("memory", log_dir).start()
    companion = await Companion.open(Config(data_dir=str(tmp_path / "home"), relay=relay.url))
    wallet = None
    try:
        await companion.start()
        offer = await companion.pair()
        wallet = await approve(relay.url, offer.uri)
        await companion.wait_for_session(offer.proposal_id, timeout=20)
        app = build_app(companion)
        seen = record_notifications(app)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SessionsScreen) and app.screen.records, what="sessions")
            relay.stop()
            await until(
                pilot,
                lambda: "link down (connection refused)" in str(app.screen.query_one("#status-bar", Static).render()),
                what="the status bar to say the link is down",
            )
            await pilot.press("p")
            refused = f"cannot reach the relay at {relay.url}: connection refused"
            await until(pilot, lambda: refused in seen, what="the ping to say the relay cannot be reached")
            assert not [m for m in seen if "answered in" in m or "not reachable after" in m]

            relay.start()
            await until(pilot, lambda: companion.link_status.state == "online", timeout=30, what="the link back up")
            await pilot.press("p")
            await until(pilot, lambda: any("answered in" in m for m in seen), what="the phone's answer")
    finally:
        if wallet is not None:
            await wallet.close()
        await companion.close()
        relay.stop()
